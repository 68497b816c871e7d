/** Incoming events as Baileys really shapes them: decoded protobuf objects, with "" defaults. */
import { proto } from '@whiskeysockets/baileys';
import { describe, expect, it } from 'vitest';

import { toMessageEvent, toReceiptEvents } from '../src/sessions/inbound';

const FROM = '15557654321@s.whatsapp.net';

function decoded(message: proto.IWebMessageInfo): proto.WebMessageInfo {
  return proto.WebMessageInfo.decode(proto.WebMessageInfo.encode(message).finish());
}

describe('toMessageEvent on decoded protobuf messages', () => {
  it('reads a plain text message', () => {
    const message = decoded({
      key: { remoteJid: FROM, fromMe: false, id: 'ABC' },
      message: { conversation: 'Hello' },
      messageTimestamp: 1_764_115_200,
      pushName: 'Ana',
    });
    expect(toMessageEvent(message)).toEqual({
      messageId: 'ABC',
      from: '+15557654321',
      pushName: 'Ana',
      text: 'Hello',
      timestamp: 1_764_115_200,
    });
  });

  it('reads media without inventing empty text, caption or sender name', () => {
    const message = decoded({
      key: { remoteJid: FROM, fromMe: false, id: 'IMG' },
      message: { imageMessage: { mimetype: 'image/jpeg', contextInfo: { stanzaId: 'OUT-9' } } },
      messageTimestamp: 1_764_115_200,
    });
    expect(toMessageEvent(message)).toEqual({
      messageId: 'IMG',
      from: '+15557654321',
      pushName: null,
      media: { type: 'image', mimetype: 'image/jpeg' },
      replyTo: 'OUT-9',
      timestamp: 1_764_115_200,
    });
  });

  it('unwraps a captioned document', () => {
    const message = decoded({
      key: { remoteJid: FROM, fromMe: false, id: 'DOC' },
      message: {
        documentWithCaptionMessage: {
          message: {
            documentMessage: { mimetype: 'application/pdf', fileName: 'quote.pdf', caption: 'Our quote' },
          },
        },
      },
      messageTimestamp: 1_764_115_200,
    });
    expect(toMessageEvent(message)?.media).toEqual({
      type: 'document',
      mimetype: 'application/pdf',
      caption: 'Our quote',
      fileName: 'quote.pdf',
    });
  });

  it('ignores messages without content Greenline can show', () => {
    const reaction = decoded({
      key: { remoteJid: FROM, fromMe: false, id: 'R' },
      message: { reactionMessage: { text: '👍', key: { id: 'OUT-1' } } },
    });
    expect(toMessageEvent(reaction)).toBeNull();
  });
});

describe('toReceiptEvents', () => {
  it('maps WAMessageStatus to the contract statuses', () => {
    const key = { remoteJid: FROM, fromMe: true, id: 'OUT-1' };
    const statuses = [
      proto.WebMessageInfo.Status.SERVER_ACK,
      proto.WebMessageInfo.Status.DELIVERY_ACK,
      proto.WebMessageInfo.Status.READ,
      proto.WebMessageInfo.Status.PLAYED,
      proto.WebMessageInfo.Status.ERROR,
      proto.WebMessageInfo.Status.PENDING,
    ];
    const receipts = toReceiptEvents(statuses.map((status) => ({ key, update: { status } })));
    expect(receipts.map((receipt) => receipt.status)).toEqual(['sent', 'delivered', 'read', 'read', 'failed']);
  });
});
