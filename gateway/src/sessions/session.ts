import { EventEmitter } from 'node:events';
import fs from 'node:fs/promises';
import path from 'node:path';

import QRCode from 'qrcode';

import type { PacingConfig, ReconnectConfig } from '../config';
import { conflict, GatewayError } from '../errors';
import type { ConnectionEventData, EventSink, RestrictionEventData, SessionStatus } from '../events/types';
import type { Logger } from '../logger';
import { jidToPhone, phoneToDigits, phoneToJid } from '../phone';
import { nowSeconds } from '../signature';
import { toMessageEvent, toReceiptEvents, toUserReceiptEvents } from './inbound';
import { formatPairingCode, presenceFor, type SendRequest, toOutgoingContent, visibleText } from './outbound';
import { randomGapMs, SerialQueue, sleep, typingDurationMs } from './pacing';
import { DisconnectCode, type DisconnectError, type GatewaySocket, type Presence, type SocketFactory } from './socket';

export interface LastDisconnect {
  statusCode: number | null;
  reason: string;
  at: string;
}

export interface SessionOptions {
  id: string;
  dataDir: string;
  factory: SocketFactory;
  pacing: PacingConfig;
  reconnect: ReconnectConfig;
  logger: Logger;
  emit: EventSink;
  random?: () => number;
  /** How long a pairing-code request waits for the socket to reach WhatsApp. */
  pairingWaitMs?: number;
  /** QR codes expire in cycles of about two minutes; give up after this many unscanned cycles. */
  maxQrCycles?: number;
}

export interface ContactCheck {
  phone: string;
  exists: boolean;
  jid: string;
}

interface Recipient {
  exists: boolean;
  jid: string;
  checkedAt: number;
}

const RECIPIENT_TTL_MS = { exists: 24 * 3_600_000, missing: 3_600_000 };
const RECIPIENT_CACHE_SIZE = 5000;
const LOGOUT_TIMEOUT_MS = 10_000;

const notConnected = (status: SessionStatus): GatewayError =>
  conflict('session_not_connected', `the session is ${status}, not connected`);

/**
 * One WhatsApp linked device: its socket, connection state machine and paced send queue.
 *
 * States: connecting -> qr -> connected; a close reconnects with exponential backoff, except
 * 401 (logged out: credentials deleted), 402 (temporarily banned: restricted) and 403 (banned),
 * which stop the session until POST /sessions starts it again.
 */
export class Session {
  readonly id: string;
  readonly authDir: string;
  private currentStatus: SessionStatus = 'connecting';
  private me: string | null = null;
  private qr: string | null = null;
  private qrImage: { qr: string; dataUrl: string } | null = null;
  private lastDisconnect: LastDisconnect | null = null;
  private socket: GatewaySocket | null = null;
  /** Bumped for every new socket, so late events from an old one are ignored. */
  private generation = 0;
  private active = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private reconnectAttempts = 0;
  private qrCycles = 0;
  private lifecycle = new AbortController();
  private loggingOut: Promise<void> | null = null;
  private readonly sendQueue = new SerialQueue();
  private lastSentAt = 0;
  private nextGapMs = 0;
  private readonly recipients = new Map<string, Recipient>();
  private readonly statusChanges = new EventEmitter();
  private readonly log: Logger;
  private readonly random: () => number;

  constructor(private readonly options: SessionOptions) {
    this.id = options.id;
    this.authDir = path.join(options.dataDir, 'sessions', options.id);
    this.log = options.logger.child({ sessionId: options.id });
    this.random = options.random ?? Math.random;
  }

  get status(): SessionStatus {
    return this.currentStatus;
  }

  summary(): { sessionId: string; status: SessionStatus; me: string | null } {
    return { sessionId: this.id, status: this.currentStatus, me: this.me };
  }

  authStatus(): { status: SessionStatus; me: string | null; lastDisconnect: LastDisconnect | null } {
    return { status: this.currentStatus, me: this.me, lastDisconnect: this.lastDisconnect };
  }

  async qrCode(): Promise<{ status: SessionStatus; qr: string | null; qrDataUrl: string | null }> {
    const qr = this.currentStatus === 'qr' ? this.qr : null;
    if (qr === null) return { status: this.currentStatus, qr: null, qrDataUrl: null };
    if (this.qrImage?.qr !== qr) {
      const dataUrl = await QRCode.toDataURL(qr, { errorCorrectionLevel: 'M', margin: 2, width: 320 });
      this.qrImage = { qr, dataUrl };
    }
    return { status: this.currentStatus, qr, qrDataUrl: this.qrImage.dataUrl };
  }

  /** Start (or resume from stored credentials); a no-op while already running. */
  async start(): Promise<void> {
    if (this.active) return;
    this.active = true;
    this.lifecycle = new AbortController();
    this.loggingOut = null;
    this.reconnectAttempts = 0;
    this.qrCycles = 0;
    this.setStatus('connecting', {}, true);
    await this.connect();
  }

  /** Close the socket but keep credentials (shutdown). */
  stop(): void {
    this.deactivate(conflict('session_stopped', 'the session was stopped'));
    this.closeSocket();
  }

  /** Unlink the device: tell WhatsApp when connected, then delete credentials. */
  async logout(): Promise<void> {
    const socket = this.socket;
    if (socket !== null && this.currentStatus === 'connected') {
      try {
        await withTimeout(socket.logout(), LOGOUT_TIMEOUT_MS);
      } catch (error) {
        this.log.warn({ err: error }, 'session.logout_request_failed');
      }
    }
    await this.finishLogout('logged out through the API', null);
  }

  /** Stop and forget: unlink if connected, delete stored state. */
  async destroy(): Promise<void> {
    if (this.currentStatus === 'connected') await this.logout();
    else this.stop();
    await fs.rm(this.authDir, { recursive: true, force: true });
  }

  async waitForStatus(statuses: SessionStatus[], timeoutMs: number): Promise<boolean> {
    if (statuses.includes(this.currentStatus)) return true;
    return new Promise((resolve) => {
      const onChange = (status: SessionStatus): void => {
        if (!statuses.includes(status)) return;
        clearTimeout(timer);
        this.statusChanges.off('status', onChange);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.statusChanges.off('status', onChange);
        resolve(false);
      }, timeoutMs);
      this.statusChanges.on('status', onChange);
    });
  }

  async requestPairingCode(phone: string): Promise<string> {
    if (!this.active) throw conflict('session_not_running', `the session is ${this.currentStatus}; POST /sessions first`);
    if (this.currentStatus === 'connected') throw conflict('already_connected', 'the session is already linked');
    const ready = await this.waitForStatus(['qr', 'connected'], this.options.pairingWaitMs ?? 20_000);
    if (this.status === 'connected') throw conflict('already_connected', 'the session is already linked');
    const socket = this.socket;
    if (!ready || socket === null) {
      throw new GatewayError(503, 'not_ready', 'the session has not reached WhatsApp yet; retry shortly');
    }
    try {
      return formatPairingCode(await socket.requestPairingCode(phoneToDigits(phone)));
    } catch (error) {
      throw new GatewayError(502, 'pairing_failed', errorMessage(error));
    }
  }

  /**
   * Send one message through the session's queue: sends are serialised, spaced by a random gap
   * and preceded by a typing (or recording) indicator. Resolves with the WhatsApp message id.
   */
  async send(request: SendRequest): Promise<string> {
    this.requireSocket();
    const signal = this.lifecycle.signal;
    return this.sendQueue.run(async () => {
      signal.throwIfAborted();
      const { pacing } = this.options;
      let jid = phoneToJid(request.to);
      if (pacing.checkRecipient) {
        const recipient = await this.lookup(this.requireSocket(), request.to, true);
        if (!recipient.exists) {
          throw new GatewayError(422, 'recipient_not_on_whatsapp', `${request.to} is not on WhatsApp`, {
            field: 'to',
          });
        }
        jid = recipient.jid;
      }
      await sleep(this.lastSentAt + this.nextGapMs - Date.now(), signal);
      if (pacing.typingEnabled) {
        await this.presence(presenceFor(request), jid);
        await sleep(typingDurationMs(visibleText(request), pacing), signal);
        await this.presence('paused', jid);
      }
      const socket = this.requireSocket();
      let messageId: string | null | undefined;
      try {
        messageId = (await socket.sendMessage(jid, toOutgoingContent(request)))?.key.id;
      } catch (error) {
        throw new GatewayError(502, 'send_failed', errorMessage(error));
      } finally {
        this.lastSentAt = Date.now();
        this.nextGapMs = randomGapMs(pacing, this.random);
      }
      if (!messageId) throw new GatewayError(502, 'send_failed', 'WhatsApp returned no message id');
      this.log.info({ messageId, type: request.type, clientRef: request.clientRef }, 'message.sent');
      // Baileys reports delivered/read but rarely the server ack, so "sent" is reported here.
      this.options.emit(this.id, {
        type: 'receipt',
        data: { messageId, to: request.to, status: 'sent', timestamp: nowSeconds() },
      });
      return messageId;
    });
  }

  async setTyping(to: string, state: 'composing' | 'paused'): Promise<void> {
    this.requireSocket();
    await this.presence(state, phoneToJid(to), true);
  }

  async markRead(from: string, messageIds: string[]): Promise<void> {
    const socket = this.requireSocket();
    const remoteJid = phoneToJid(from);
    await socket.readMessages(messageIds.map((id) => ({ remoteJid, id, fromMe: false })));
  }

  async checkContact(phone: string): Promise<ContactCheck> {
    const recipient = await this.lookup(this.requireSocket(), phone, false);
    return { phone, exists: recipient.exists, jid: recipient.jid };
  }

  /** Throw 409 unless the session can send right now. */
  assertConnected(): void {
    this.requireSocket();
  }

  private requireSocket(): GatewaySocket {
    if (this.currentStatus !== 'connected' || this.socket === null) throw notConnected(this.currentStatus);
    return this.socket;
  }

  private async presence(presence: Presence, jid: string, strict = false): Promise<void> {
    try {
      await this.requireSocket().sendPresenceUpdate(presence, jid);
    } catch (error) {
      if (strict) throw error;
      // A lost typing indicator must not cost the message.
      this.log.warn({ err: error, presence }, 'session.presence_failed');
    }
  }

  private async lookup(socket: GatewaySocket, phone: string, useCache: boolean): Promise<Recipient> {
    const cached = this.recipients.get(phone);
    if (useCache && cached) {
      const ttl = cached.exists ? RECIPIENT_TTL_MS.exists : RECIPIENT_TTL_MS.missing;
      if (Date.now() - cached.checkedAt < ttl) return cached;
    }
    let results: Awaited<ReturnType<GatewaySocket['onWhatsApp']>>;
    try {
      results = await socket.onWhatsApp(phoneToJid(phone));
    } catch (error) {
      throw new GatewayError(502, 'lookup_failed', errorMessage(error));
    }
    const [result] = results ?? [];
    // WhatsApp answers with the canonical JID, which can differ from the dialled number (e.g. Brazil).
    const recipient: Recipient = {
      exists: Boolean(result?.exists),
      jid: result?.jid ?? phoneToJid(phone),
      checkedAt: Date.now(),
    };
    this.recipients.delete(phone);
    this.recipients.set(phone, recipient);
    if (this.recipients.size > RECIPIENT_CACHE_SIZE) {
      const oldest = this.recipients.keys().next().value;
      if (oldest !== undefined) this.recipients.delete(oldest);
    }
    return recipient;
  }

  private async connect(): Promise<void> {
    const generation = ++this.generation;
    let socket: GatewaySocket;
    try {
      await fs.mkdir(this.authDir, { recursive: true });
      socket = await this.options.factory.create({ sessionId: this.id, authDir: this.authDir, logger: this.log });
    } catch (error) {
      this.log.error({ err: error }, 'session.socket_create_failed');
      if (this.active && generation === this.generation) this.scheduleReconnect(null, errorMessage(error));
      return;
    }
    if (!this.active || generation !== this.generation) {
      socket.end();
      return;
    }
    this.socket = socket;
    const current = (): boolean => generation === this.generation;
    socket.ev.on('connection.update', (update) => {
      if (!current()) return;
      if (update.qr) {
        this.qr = update.qr;
        this.setStatus('qr');
      }
      if (update.connection === 'open') this.onOpen();
      else if (update.connection === 'close') this.onClose(update.lastDisconnect?.error);
    });
    socket.ev.on('messages.upsert', ({ messages }) => {
      if (!current()) return;
      for (const message of messages) {
        const data = toMessageEvent(message);
        if (data) this.options.emit(this.id, { type: 'message', data });
      }
    });
    socket.ev.on('messages.update', (updates) => {
      if (!current()) return;
      for (const data of toReceiptEvents(updates)) this.options.emit(this.id, { type: 'receipt', data });
    });
    socket.ev.on('message-receipt.update', (updates) => {
      if (!current()) return;
      for (const data of toUserReceiptEvents(updates)) this.options.emit(this.id, { type: 'receipt', data });
    });
  }

  private onOpen(): void {
    this.qr = null;
    this.reconnectAttempts = 0;
    this.qrCycles = 0;
    this.me = jidToPhone(this.socket?.user?.id);
    this.setStatus('connected');
  }

  private onClose(error: DisconnectError | undefined): void {
    const statusCode = error?.output?.statusCode ?? null;
    const reason = error?.message || 'connection closed';
    const wasShowingQr = this.currentStatus === 'qr';
    this.lastDisconnect = { statusCode, reason, at: new Date().toISOString() };
    this.socket = null;
    this.qr = null;
    this.generation += 1;
    if (!this.active) return;
    this.log.info({ statusCode, reason }, 'session.closed');

    switch (statusCode) {
      case DisconnectCode.loggedOut:
        void this.finishLogout(reason, statusCode);
        return;
      case DisconnectCode.forbidden:
        this.halt('banned', { kind: 'banned', statusCode, reason });
        return;
      case DisconnectCode.tempBanned:
        this.halt('restricted', { kind: 'restricted', statusCode, reason });
        return;
      case DisconnectCode.rateLimited:
        this.options.emit(this.id, { type: 'restriction', data: { kind: 'rate_limited', statusCode, reason } });
        break;
      case DisconnectCode.timedOut:
        if (wasShowingQr && ++this.qrCycles >= (this.options.maxQrCycles ?? 5)) {
          void this.finishLogout('the QR code was not scanned in time', statusCode);
          return;
        }
        break;
      case DisconnectCode.connectionReplaced:
        this.log.warn({ hint: 'another client opened this session' }, 'session.replaced');
        break;
      default:
        break;
    }
    this.scheduleReconnect(statusCode, reason);
  }

  private scheduleReconnect(statusCode: number | null, reason: string): void {
    // WhatsApp asks for a restart right after linking; that one is not a failure.
    const { baseMs, maxMs } = this.options.reconnect;
    const attempt = statusCode === DisconnectCode.restartRequired ? 0 : ++this.reconnectAttempts;
    const delayMs = attempt === 0 ? 0 : Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 20));
    this.setStatus('connecting', { reason, ...(statusCode !== null ? { statusCode } : {}) });
    this.log.info({ delayMs, attempt, statusCode }, 'session.reconnect_scheduled');
    this.clearReconnect();
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.active) void this.connect();
    }, delayMs);
  }

  private halt(status: 'banned' | 'restricted', restriction: RestrictionEventData): void {
    this.deactivate(notConnected(status));
    this.log.error({ statusCode: restriction.statusCode, reason: restriction.reason }, 'session.restricted');
    this.options.emit(this.id, { type: 'restriction', data: restriction });
    const detail: Partial<ConnectionEventData> = {};
    if (restriction.reason !== undefined) detail.reason = restriction.reason;
    if (restriction.statusCode !== undefined) detail.statusCode = restriction.statusCode;
    this.setStatus(status, detail);
  }

  private finishLogout(reason: string, statusCode: number | null): Promise<void> {
    this.loggingOut ??= (async () => {
      this.deactivate(notConnected('logged_out'));
      this.closeSocket();
      await fs.rm(this.authDir, { recursive: true, force: true });
      this.me = null;
      this.setStatus('logged_out', { reason, ...(statusCode !== null ? { statusCode } : {}) });
    })();
    return this.loggingOut;
  }

  private deactivate(reason: GatewayError): void {
    this.active = false;
    this.clearReconnect();
    this.lifecycle.abort(reason);
  }

  private closeSocket(): void {
    const socket = this.socket;
    this.socket = null;
    this.generation += 1;
    if (socket === null) return;
    try {
      socket.end();
    } catch (error) {
      this.log.debug({ err: error }, 'session.socket_end_failed');
    }
  }

  private clearReconnect(): void {
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private setStatus(status: SessionStatus, detail: Partial<ConnectionEventData> = {}, force = false): void {
    if (status === this.currentStatus && !force) return;
    this.currentStatus = status;
    const data: ConnectionEventData = { status };
    if (status === 'connected' && this.me !== null) data.me = this.me;
    if (detail.reason !== undefined) data.reason = detail.reason;
    if (detail.statusCode !== undefined) data.statusCode = detail.statusCode;
    this.log.info(data, 'session.status_changed');
    this.options.emit(this.id, { type: 'connection', data });
    this.statusChanges.emit('status', status);
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
