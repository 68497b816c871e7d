/**
 * The subset of a Baileys socket the gateway uses. The real factory adapts Baileys to it; tests
 * provide a fake, so nothing here needs WhatsApp's servers.
 */
import type { Logger } from '../logger';

/** A Boom error as Baileys reports disconnects: the code is in output.statusCode. */
export interface DisconnectError extends Error {
  output?: { statusCode?: number };
  data?: unknown;
}

export interface ConnectionUpdate {
  connection?: 'open' | 'connecting' | 'close';
  lastDisconnect?: { error?: DisconnectError | undefined; date?: Date };
  qr?: string;
  isNewLogin?: boolean;
}

/** protobuf timestamps are numbers or Long objects. */
export type WireTimestamp = number | { toNumber(): number } | null | undefined;

export interface MessageKey {
  remoteJid?: string | null;
  fromMe?: boolean | null;
  id?: string | null;
  participant?: string | null;
}

export interface ContextInfo {
  stanzaId?: string | null;
}

export interface MediaPayload {
  mimetype?: string | null;
  caption?: string | null;
  fileName?: string | null;
  url?: string | null;
  contextInfo?: ContextInfo | null;
}

export interface WrappedMessage {
  message?: MessageContent | null;
}

export interface MessageContent {
  conversation?: string | null;
  extendedTextMessage?: { text?: string | null; contextInfo?: ContextInfo | null } | null;
  imageMessage?: MediaPayload | null;
  videoMessage?: MediaPayload | null;
  audioMessage?: MediaPayload | null;
  documentMessage?: MediaPayload | null;
  stickerMessage?: MediaPayload | null;
  buttonsResponseMessage?: { selectedDisplayText?: string | null; contextInfo?: ContextInfo | null } | null;
  templateButtonReplyMessage?: { selectedDisplayText?: string | null; contextInfo?: ContextInfo | null } | null;
  listResponseMessage?: { title?: string | null; contextInfo?: ContextInfo | null } | null;
  ephemeralMessage?: WrappedMessage | null;
  viewOnceMessage?: WrappedMessage | null;
  viewOnceMessageV2?: WrappedMessage | null;
  viewOnceMessageV2Extension?: WrappedMessage | null;
  documentWithCaptionMessage?: WrappedMessage | null;
}

export interface IncomingMessage {
  key: MessageKey;
  message?: MessageContent | null;
  messageTimestamp?: WireTimestamp;
  pushName?: string | null;
}

export interface MessageStatusUpdate {
  key: MessageKey;
  update: { status?: number | null; messageStubParameters?: string[] | null };
}

export interface UserReceiptUpdate {
  key: MessageKey;
  receipt: {
    userJid?: string | null;
    receiptTimestamp?: WireTimestamp;
    readTimestamp?: WireTimestamp;
    playedTimestamp?: WireTimestamp;
  };
}

export interface SocketEventMap {
  'connection.update': ConnectionUpdate;
  'messages.upsert': { messages: IncomingMessage[]; type: 'append' | 'notify' };
  'messages.update': MessageStatusUpdate[];
  'message-receipt.update': UserReceiptUpdate[];
}

export type SocketEventName = keyof SocketEventMap;

interface MediaRef {
  url: string;
}

/** Message content in the shape Baileys' sendMessage takes. */
export type OutgoingContent =
  | { text: string }
  | { image: MediaRef; caption?: string; mimetype?: string }
  | { video: MediaRef; caption?: string; mimetype?: string }
  | { audio: MediaRef; mimetype?: string; ptt: boolean }
  | { document: MediaRef; mimetype: string; fileName?: string; caption?: string };

export type Presence = 'available' | 'unavailable' | 'composing' | 'recording' | 'paused';

export interface GatewaySocket {
  readonly ev: {
    on<E extends SocketEventName>(event: E, listener: (data: SocketEventMap[E]) => void): void;
  };
  /** The linked account once open, e.g. { id: "15551234567:3@s.whatsapp.net" }. */
  readonly user: { id: string; name?: string | undefined } | undefined;
  sendMessage(jid: string, content: OutgoingContent): Promise<{ key: MessageKey } | undefined>;
  sendPresenceUpdate(presence: Presence, jid?: string): Promise<void>;
  readMessages(keys: MessageKey[]): Promise<void>;
  onWhatsApp(...jids: string[]): Promise<Array<{ jid: string; exists: unknown }> | undefined>;
  /** Digits only; resolves to the 8-character code the user types on the phone. */
  requestPairingCode(phoneDigits: string): Promise<string>;
  logout(): Promise<void>;
  end(error?: Error): void;
}

export interface SocketFactoryOptions {
  sessionId: string;
  /** Directory for this session's credentials (DATA_DIR/sessions/<id>). */
  authDir: string;
  logger: Logger;
}

/** Creates one socket per connection attempt; a reconnect asks for a new one. */
export interface SocketFactory {
  create(options: SocketFactoryOptions): Promise<GatewaySocket>;
}

/** Baileys' DisconnectReason codes the gateway acts on (checked against Baileys in the tests). */
export const DisconnectCode = {
  loggedOut: 401,
  /** WhatsApp's connect-failure reason for a temporary ban. */
  tempBanned: 402,
  forbidden: 403,
  timedOut: 408,
  rateLimited: 429,
  connectionReplaced: 440,
  restartRequired: 515,
} as const;

/** Baileys' WAMessageStatus (proto.WebMessageInfo.Status). */
export const MessageStatus = {
  ERROR: 0,
  PENDING: 1,
  SERVER_ACK: 2,
  DELIVERY_ACK: 3,
  READ: 4,
  PLAYED: 5,
} as const;
