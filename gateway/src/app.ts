import type { AddressInfo } from 'node:net';
import type http from 'node:http';

import type { Config } from './config';
import { EventQueue } from './events/queue';
import { buildRoutes, type Route } from './http/routes';
import { createHttpServer } from './http/server';
import type { Logger } from './logger';
import { SessionManager } from './sessions/manager';
import type { SocketFactory } from './sessions/socket';

export interface GatewayDeps {
  factory: SocketFactory;
  logger: Logger;
  /** Deterministic randomness for tests. */
  random?: () => number;
  pairingWaitMs?: number;
  /** Rewrite the event queue file after this many acknowledgements. */
  compactAfterAcks?: number;
  /** Routes beyond the contract's (the fake mode's control route). */
  extraRoutes?: Route[];
}

export interface Gateway {
  server: http.Server;
  sessions: SessionManager;
  events: EventQueue;
  /** Listen, resume delivery and (when configured) linked sessions; resolves to the bound address. */
  start(): Promise<AddressInfo>;
  /** Stop accepting requests, close sockets (credentials are kept), flush in-flight deliveries. */
  close(): Promise<void>;
}

/** Wire the pieces together; index.ts passes the Baileys factory, tests a fake one. */
export function createGateway(config: Config, deps: GatewayDeps): Gateway {
  const { logger } = deps;
  const events = new EventQueue({
    dataDir: config.dataDir,
    webhookUrl: config.events.webhookUrl,
    secret: config.sharedSecret,
    logger: logger.child({ component: 'events' }),
    retryBaseMs: config.events.retryBaseMs,
    retryMaxMs: config.events.retryMaxMs,
    requestTimeoutMs: config.events.requestTimeoutMs,
    concurrency: config.events.concurrency,
    fsync: config.events.fsync,
    ...(deps.compactAfterAcks !== undefined ? { compactAfterAcks: deps.compactAfterAcks } : {}),
    ...(deps.random !== undefined ? { random: deps.random } : {}),
  });
  const sessions = new SessionManager({
    dataDir: config.dataDir,
    factory: deps.factory,
    pacing: config.pacing,
    reconnect: config.reconnect,
    logger,
    emit: (sessionId, payload) => events.enqueue(sessionId, payload),
    ...(deps.random !== undefined ? { random: deps.random } : {}),
    ...(deps.pairingWaitMs !== undefined ? { pairingWaitMs: deps.pairingWaitMs } : {}),
  });
  const server = createHttpServer({
    routes: [...buildRoutes({ sessions, events }), ...(deps.extraRoutes ?? [])],
    secret: config.sharedSecret,
    maxBodyBytes: config.maxBodyBytes,
    logger: logger.child({ component: 'http' }),
  });

  return {
    server,
    sessions,
    events,
    async start() {
      events.open();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      events.start();
      if (config.autoResume) await sessions.resumeLinked();
      const address = server.address() as AddressInfo;
      logger.info({ host: address.address, port: address.port }, 'gateway.listening');
      return address;
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      sessions.stopAll();
      await closed;
      await events.close();
    },
  };
}
