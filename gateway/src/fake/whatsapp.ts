/**
 * The in-process fake WhatsApp server of the test-only fake mode (GATEWAY_FAKE_WHATSAPP).
 *
 * It replaces Baileys' makeWASocket, and only that: sessions, the paced send queue and the
 * persisted event queue are the real ones, so a test driving the process over HTTP exercises the
 * same code as production. WhatsApp's side is played here: linking (at once, or after a fake QR),
 * message ids for sends followed by delivered and read receipts, and incoming messages injected
 * through the control route in routes.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

import type { FakeWhatsAppConfig } from '../config';
import { conflict, notFound } from '../errors';
import type { Logger } from '../logger';
import { phoneToJid } from '../phone';
import { nowSeconds } from '../signature';
import { MessageStatus, type MessageKey, type SocketFactoryOptions } from '../sessions/socket';
import { FakeSocket, FakeSocketFactory } from './socket';

/** Baileys' multi-file auth state keeps the linked account here; SessionManager.resumeLinked reads it. */
const CREDS_FILE = 'creds.json';

export interface IncomingText {
  from: string;
  text: string;
  pushName?: string | undefined;
  messageId?: string | undefined;
}

export class FakeWhatsApp extends FakeSocketFactory {
  constructor(
    private readonly config: FakeWhatsAppConfig,
    private readonly logger: Logger,
  ) {
    super();
  }

  override async create(options: SocketFactoryOptions): Promise<FakeSocket> {
    const socket = await super.create(options);
    socket.onSent = (key) => this.scheduleReceipts(socket.sessionId, key);
    const linked = await readLinkedJid(options.authDir);
    // The session attaches its listeners once create() resolves: play WhatsApp's side after that.
    const link = (): void => {
      this.link(socket).catch((error: unknown) => this.logger.error({ err: error }, 'fake_whatsapp.link_failed'));
    };
    if (linked !== null) this.later(socket, 0, () => socket.open(linked));
    else if (this.config.login === 'open') this.later(socket, 0, link);
    else {
      this.later(socket, 0, () => socket.showQr(`2@fake-${randomBytes(12).toString('base64url')},${socket.sessionId}`));
      this.later(socket, this.config.qrMs, link);
    }
    return socket;
  }

  /** A text message from `from` to the session's number, as WhatsApp delivers it to a linked device. */
  incoming(sessionId: string, message: IncomingText): string {
    const socket = this.connected(sessionId);
    const id = message.messageId ?? `FAKE${randomBytes(8).toString('hex').toUpperCase()}`;
    socket.emit('messages.upsert', {
      type: 'notify',
      messages: [
        {
          key: { remoteJid: phoneToJid(message.from), fromMe: false, id },
          message: { conversation: message.text },
          messageTimestamp: nowSeconds(),
          pushName: message.pushName ?? null,
        },
      ],
    });
    this.logger.info({ sessionId, messageId: id }, 'fake_whatsapp.incoming');
    return id;
  }

  private connected(sessionId: string): FakeSocket {
    if (this.count(sessionId) === 0) {
      throw notFound('session_not_found', `no session "${sessionId}"; POST /sessions first`);
    }
    const socket = this.latest(sessionId);
    if (socket.ended || socket.user === undefined) {
      throw conflict('session_not_connected', 'the fake WhatsApp session is not linked yet');
    }
    return socket;
  }

  /** "Scan" the QR: store the account like Baileys' auth state does, then open the connection. */
  private async link(socket: FakeSocket): Promise<void> {
    const jid = `${fakeNumber(socket.sessionId)}:1@s.whatsapp.net`;
    const creds = { me: { id: jid, name: 'Fake WhatsApp' } };
    await fs.writeFile(path.join(socket.authDir, CREDS_FILE), JSON.stringify(creds));
    if (!socket.ended) socket.open(jid);
  }

  /** Delivered, then read, on whichever socket of the session is current by then (as after a reconnect). */
  private scheduleReceipts(sessionId: string, key: MessageKey): void {
    const steps = [MessageStatus.DELIVERY_ACK, MessageStatus.READ];
    steps.forEach((status, index) => {
      setTimeout(() => {
        const socket = this.latest(sessionId);
        if (!socket.ended) socket.emit('messages.update', [{ key, update: { status } }]);
      }, this.config.receiptMs * (index + 1));
    });
  }

  private later(socket: FakeSocket, ms: number, action: () => void): void {
    setTimeout(() => {
      if (!socket.ended) action();
    }, ms);
  }
}

/** A stable fake number per session id (+1 555 01x xxxx), so a restart reports the same `me`. */
export function fakeNumber(sessionId: string): string {
  const digits = BigInt(`0x${createHash('sha256').update(sessionId).digest('hex').slice(0, 12)}`) % 100_000n;
  return `155501${digits.toString().padStart(5, '0')}`;
}

async function readLinkedJid(authDir: string): Promise<string | null> {
  try {
    const creds = JSON.parse(await fs.readFile(path.join(authDir, CREDS_FILE), 'utf8')) as { me?: { id?: unknown } };
    return typeof creds.me?.id === 'string' ? creds.me.id : null;
  } catch {
    return null;
  }
}
