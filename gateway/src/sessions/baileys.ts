/** The real SocketFactory: Baileys with multi-file auth state under DATA_DIR/sessions/<id>. */
import makeWASocket, {
  type AnyMessageContent,
  type BaileysEventMap,
  fetchLatestWaWebVersion,
  makeCacheableSignalKeyStore,
  proto,
  useMultiFileAuthState,
  type WAVersion,
} from '@whiskeysockets/baileys';

import type { Logger } from '../logger';
import type { GatewaySocket, SocketEventName, SocketFactory, SocketFactoryOptions } from './socket';

export interface BaileysFactoryOptions {
  logger: Logger;
  /** Level for Baileys' own (verbose) logs. */
  baileysLogLevel: string;
  markOnlineOnConnect: boolean;
  /** WhatsApp Web version to announce; null asks web.whatsapp.com, falling back to Baileys' bundled one. */
  waVersion: WAVersion | null;
  /** Override the WebSocket endpoint (only for local smoke tests). */
  waWebSocketUrl?: string;
}

/** Sent messages kept per session so Baileys can answer a recipient's retry request. */
const SENT_CACHE_SIZE = 500;

export class BaileysSocketFactory implements SocketFactory {
  private readonly sent = new Map<string, Map<string, proto.IMessage>>();
  private fetched: { version: WAVersion; isLatest: boolean; at: number } | null = null;

  constructor(private readonly options: BaileysFactoryOptions) {}

  async create({ sessionId, authDir, logger }: SocketFactoryOptions): Promise<GatewaySocket> {
    const { state, saveCreds } = await useMultiFileAuthState(authDir);
    const baileysLogger = logger.child({ component: 'baileys' });
    baileysLogger.level = this.options.baileysLogLevel;
    const sent = this.sentCache(sessionId);

    const socket = makeWASocket({
      version: await this.waVersion(logger),
      auth: { creds: state.creds, keys: makeCacheableSignalKeyStore(state.keys, baileysLogger) },
      logger: baileysLogger,
      printQRInTerminal: false,
      markOnlineOnConnect: this.options.markOnlineOnConnect,
      syncFullHistory: false,
      // Greenline keeps its own history; downloading the phone's is wasted traffic.
      shouldSyncHistoryMessage: () => false,
      generateHighQualityLinkPreview: false,
      getMessage: async (key) => (key.id ? sent.get(key.id) : undefined),
      ...(this.options.waWebSocketUrl !== undefined ? { waWebSocketUrl: this.options.waWebSocketUrl } : {}),
    });
    socket.ev.on('connection.update', ({ connection }) => {
      // Baileys' end() drops the WebSocket's error listeners and then closes it; closing one that
      // is still connecting makes `ws` emit an error on the next tick, which with no listener left
      // would be an uncaught exception. end() emits this update synchronously, so listen again here.
      if (connection === 'close') {
        socket.ws.on('error', (error: unknown) => logger.debug({ err: error }, 'baileys.socket_error_after_close'));
      }
    });
    socket.ev.on('creds.update', () => {
      saveCreds().catch((error: unknown) => logger.error({ err: error }, 'session.creds_save_failed'));
    });

    return {
      ev: {
        on: <E extends SocketEventName>(event: E, listener: (data: BaileysEventMap[E]) => void) => {
          socket.ev.on(event, listener);
        },
      },
      get user() {
        const user = socket.user;
        return user ? { id: user.id, name: user.name ?? undefined } : undefined;
      },
      sendMessage: async (jid, content) => {
        const message = await socket.sendMessage(jid, content as AnyMessageContent);
        if (message?.key.id && message.message) {
          sent.set(message.key.id, message.message);
          if (sent.size > SENT_CACHE_SIZE) {
            const oldest = sent.keys().next().value;
            if (oldest !== undefined) sent.delete(oldest);
          }
        }
        return message ? { key: message.key } : undefined;
      },
      sendPresenceUpdate: (presence, jid) => socket.sendPresenceUpdate(presence, jid),
      readMessages: (keys) => socket.readMessages(keys),
      onWhatsApp: (...jids) => socket.onWhatsApp(...jids),
      requestPairingCode: (digits) => socket.requestPairingCode(digits),
      logout: () => socket.logout(),
      end: (error) => socket.end(error),
    };
  }

  private sentCache(sessionId: string): Map<string, proto.IMessage> {
    let cache = this.sent.get(sessionId);
    if (cache === undefined) {
      cache = new Map();
      this.sent.set(sessionId, cache);
    }
    return cache;
  }

  private async waVersion(logger: Logger): Promise<WAVersion> {
    if (this.options.waVersion !== null) return this.options.waVersion;
    // An outdated version is refused by WhatsApp (405). Ask web.whatsapp.com, but not on every
    // reconnect: a known-current answer is kept for a day, a fallback for ten minutes.
    const maxAge = this.fetched?.isLatest ? 24 * 3_600_000 : 600_000;
    if (this.fetched === null || Date.now() - this.fetched.at > maxAge) {
      const latest = await fetchLatestWaWebVersion({ timeout: 10_000 });
      this.fetched = { version: latest.version, isLatest: latest.isLatest, at: Date.now() };
      logger.info({ version: latest.version, isLatest: latest.isLatest }, 'baileys.version');
    }
    return this.fetched.version;
  }
}
