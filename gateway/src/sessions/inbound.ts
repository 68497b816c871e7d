/** Translate Baileys' incoming events into the contract's `message` and `receipt` event data. */
import type { MediaType, MessageEventData, ReceiptEventData, ReceiptStatus } from '../events/types';
import { jidToPhone } from '../phone';
import { nowSeconds } from '../signature';
import {
  MessageStatus,
  type ContextInfo,
  type IncomingMessage,
  type MediaPayload,
  type MessageContent,
  type MessageStatusUpdate,
  type UserReceiptUpdate,
  type WireTimestamp,
} from './socket';

const MEDIA_FIELDS: ReadonlyArray<[keyof MessageContent, MediaType]> = [
  ['imageMessage', 'image'],
  ['videoMessage', 'video'],
  ['audioMessage', 'audio'],
  ['documentMessage', 'document'],
  ['stickerMessage', 'sticker'],
];

const WRAPPERS = [
  'ephemeralMessage',
  'viewOnceMessage',
  'viewOnceMessageV2',
  'viewOnceMessageV2Extension',
  'documentWithCaptionMessage',
] as const;

/** Decoded protobuf messages default unset strings to "" (on the prototype): treat those as absent. */
function present(value: string | null | undefined): string | undefined {
  return value === null || value === undefined || value === '' ? undefined : value;
}

/** A protobuf timestamp (number or Long) in unix seconds; undefined when unset (0). */
function wireSeconds(value: WireTimestamp): number | undefined {
  const number = typeof value === 'object' && value !== null ? value.toNumber() : value;
  return typeof number === 'number' && Number.isFinite(number) && number > 0 ? Math.floor(number) : undefined;
}

export function toUnixSeconds(value: WireTimestamp): number {
  return wireSeconds(value) ?? nowSeconds();
}

/** Peel the containers WhatsApp wraps content in (disappearing, view-once, captioned documents). */
function unwrap(content: MessageContent): MessageContent {
  let current = content;
  for (let depth = 0; depth < 5; depth += 1) {
    const wrapper = WRAPPERS.map((name) => current[name]).find((value) => value?.message);
    if (!wrapper?.message) return current;
    current = wrapper.message;
  }
  return current;
}

/**
 * A `message` event for a 1:1 message someone sent to this number, or null for what Greenline does
 * not handle: our own messages, groups, broadcasts, LID-only senders and protocol messages.
 */
export function toMessageEvent(message: IncomingMessage): MessageEventData | null {
  const { key } = message;
  if (key.fromMe || !key.id || !message.message) return null;
  const from = jidToPhone(key.remoteJid);
  if (from === null) return null;

  const content = unwrap(message.message);
  const data: MessageEventData = {
    messageId: key.id,
    from,
    pushName: present(message.pushName) ?? null,
    timestamp: toUnixSeconds(message.messageTimestamp),
  };

  const text = [
    content.conversation,
    content.extendedTextMessage?.text,
    content.buttonsResponseMessage?.selectedDisplayText,
    content.templateButtonReplyMessage?.selectedDisplayText,
    content.listResponseMessage?.title,
  ].find((candidate) => present(candidate) !== undefined);
  if (text) data.text = text;
  let context: ContextInfo | null | undefined =
    content.extendedTextMessage?.contextInfo ??
    content.buttonsResponseMessage?.contextInfo ??
    content.templateButtonReplyMessage?.contextInfo ??
    content.listResponseMessage?.contextInfo;

  for (const [field, type] of MEDIA_FIELDS) {
    const media = content[field] as MediaPayload | null | undefined;
    if (!media) continue;
    data.media = { type, mimetype: present(media.mimetype) ?? null };
    const url = present(media.url);
    const caption = present(media.caption);
    const fileName = present(media.fileName);
    if (url) data.media.url = url;
    if (caption) data.media.caption = caption;
    if (fileName) data.media.fileName = fileName;
    context = context ?? media.contextInfo;
    break;
  }

  if (data.text === undefined && data.media === undefined) return null;
  const replyTo = present(context?.stanzaId);
  if (replyTo) data.replyTo = replyTo;
  return data;
}

function statusFromWire(status: number): ReceiptStatus | null {
  switch (status) {
    case MessageStatus.SERVER_ACK:
      return 'sent';
    case MessageStatus.DELIVERY_ACK:
      return 'delivered';
    case MessageStatus.READ:
    case MessageStatus.PLAYED:
      return 'read';
    case MessageStatus.ERROR:
      return 'failed';
    default:
      return null; // PENDING: not yet on the wire
  }
}

/** `receipt` events for status changes of messages this number sent (messages.update). */
export function toReceiptEvents(updates: MessageStatusUpdate[]): ReceiptEventData[] {
  const receipts: ReceiptEventData[] = [];
  for (const { key, update } of updates) {
    if (!key.fromMe || !key.id || typeof update.status !== 'number') continue;
    const status = statusFromWire(update.status);
    const to = jidToPhone(key.remoteJid);
    if (status === null || to === null) continue;
    const receipt: ReceiptEventData = { messageId: key.id, to, status, timestamp: nowSeconds() };
    if (status === 'failed') {
      const code = update.messageStubParameters?.[0] ?? 'error';
      receipt.error = { code: String(code), message: 'WhatsApp reported an error for this message' };
    }
    receipts.push(receipt);
  }
  return receipts;
}

/** `receipt` events from per-user receipts (message-receipt.update), which name the recipient. */
export function toUserReceiptEvents(updates: UserReceiptUpdate[]): ReceiptEventData[] {
  const receipts: ReceiptEventData[] = [];
  for (const { key, receipt } of updates) {
    if (!key.fromMe || !key.id) continue;
    const to = jidToPhone(present(receipt.userJid) ?? key.remoteJid);
    if (to === null) continue;
    const read = wireSeconds(receipt.playedTimestamp) ?? wireSeconds(receipt.readTimestamp);
    const delivered = wireSeconds(receipt.receiptTimestamp);
    if (read !== undefined) receipts.push({ messageId: key.id, to, status: 'read', timestamp: read });
    else if (delivered !== undefined) receipts.push({ messageId: key.id, to, status: 'delivered', timestamp: delivered });
  }
  return receipts;
}
