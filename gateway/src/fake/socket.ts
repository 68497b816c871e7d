/**
 * A stand-in for a Baileys socket: it records every call and lets its owner play WhatsApp's side
 * (QR, open, close, incoming messages, receipts). The Vitest suite drives it directly; in the
 * test-only fake mode (GATEWAY_FAKE_WHATSAPP, see whatsapp.ts) the real process drives it.
 */
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';

import type {
  GatewaySocket,
  MessageKey,
  OutgoingContent,
  Presence,
  SocketEventMap,
  SocketEventName,
  SocketFactory,
  SocketFactoryOptions,
} from '../sessions/socket';

export type FakeCall =
  | { method: 'sendMessage'; jid: string; content: OutgoingContent; id: string; at: number }
  | { method: 'sendPresenceUpdate'; presence: Presence; jid: string | undefined; at: number }
  | { method: 'readMessages'; keys: MessageKey[]; at: number }
  | { method: 'onWhatsApp'; jids: string[]; at: number }
  | { method: 'requestPairingCode'; phone: string; at: number }
  | { method: 'logout'; at: number }
  | { method: 'end'; at: number };

/** A Boom-shaped error as Baileys puts in lastDisconnect. */
export function disconnectError(statusCode: number, message = 'Connection Failure'): Error {
  return Object.assign(new Error(message), { output: { statusCode } });
}

export class FakeSocket implements GatewaySocket {
  readonly calls: FakeCall[] = [];
  /** JIDs onWhatsApp reports as missing. */
  readonly missing = new Set<string>();
  /** onWhatsApp answers with a different canonical JID for these. */
  readonly canonical = new Map<string, string>();
  user: { id: string; name?: string } | undefined;
  pairingCode = 'ABCD1234';
  sendError: Error | null = null;
  ended = false;
  /** Called after each accepted send (the fake WhatsApp server schedules receipts from it). */
  onSent: ((key: MessageKey) => void) | null = null;
  private readonly emitter = new EventEmitter();

  readonly ev = {
    on: <E extends SocketEventName>(event: E, listener: (data: SocketEventMap[E]) => void): void => {
      this.emitter.on(event, listener);
    },
  };

  constructor(readonly sessionId: string, readonly authDir: string) {}

  emit<E extends SocketEventName>(event: E, data: SocketEventMap[E]): void {
    this.emitter.emit(event, data);
  }

  showQr(qr: string): void {
    this.emit('connection.update', { connection: 'connecting', qr });
  }

  open(meJid = '15550001111:7@s.whatsapp.net'): void {
    this.user = { id: meJid, name: 'Greenline Test' };
    this.emit('connection.update', { connection: 'open' });
  }

  close(statusCode: number, message?: string): void {
    this.emit('connection.update', {
      connection: 'close',
      lastDisconnect: { error: disconnectError(statusCode, message), date: new Date() },
    });
  }

  sent(): Array<Extract<FakeCall, { method: 'sendMessage' }>> {
    return this.calls.filter((call): call is Extract<FakeCall, { method: 'sendMessage' }> => call.method === 'sendMessage');
  }

  async sendMessage(jid: string, content: OutgoingContent): Promise<{ key: MessageKey }> {
    if (this.sendError) throw this.sendError;
    // Random like Baileys' ids: unique across reconnects and process restarts.
    const id = `3EB0${randomBytes(9).toString('hex').toUpperCase()}`;
    this.calls.push({ method: 'sendMessage', jid, content, id, at: performance.now() });
    const key = { remoteJid: jid, fromMe: true, id };
    this.onSent?.(key);
    return { key };
  }

  async sendPresenceUpdate(presence: Presence, jid?: string): Promise<void> {
    this.calls.push({ method: 'sendPresenceUpdate', presence, jid, at: performance.now() });
  }

  async readMessages(keys: MessageKey[]): Promise<void> {
    this.calls.push({ method: 'readMessages', keys, at: performance.now() });
  }

  async onWhatsApp(...jids: string[]): Promise<Array<{ jid: string; exists: unknown }>> {
    this.calls.push({ method: 'onWhatsApp', jids, at: performance.now() });
    return jids.map((jid) => ({ jid: this.canonical.get(jid) ?? jid, exists: !this.missing.has(jid) }));
  }

  async requestPairingCode(phone: string): Promise<string> {
    this.calls.push({ method: 'requestPairingCode', phone, at: performance.now() });
    return this.pairingCode;
  }

  async logout(): Promise<void> {
    this.calls.push({ method: 'logout', at: performance.now() });
    // Baileys ends the socket with loggedOut after telling the server.
    this.close(401, 'Intentional Logout');
  }

  end(error?: Error): void {
    this.calls.push({ method: 'end', at: performance.now() });
    this.ended = true;
    this.emit('connection.update', { connection: 'close', lastDisconnect: { error, date: new Date() } });
  }
}

export class FakeSocketFactory implements SocketFactory {
  readonly sockets: FakeSocket[] = [];

  async create({ sessionId, authDir }: SocketFactoryOptions): Promise<FakeSocket> {
    const socket = new FakeSocket(sessionId, authDir);
    this.sockets.push(socket);
    return socket;
  }

  /** The newest socket of a session (a reconnect creates a new one). */
  latest(sessionId: string): FakeSocket {
    const socket = this.sockets.filter((candidate) => candidate.sessionId === sessionId).at(-1);
    if (socket === undefined) throw new Error(`no socket created for ${sessionId}`);
    return socket;
  }

  count(sessionId: string): number {
    return this.sockets.filter((candidate) => candidate.sessionId === sessionId).length;
  }
}
