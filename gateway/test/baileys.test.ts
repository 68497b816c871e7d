/**
 * The real Baileys wiring, without WhatsApp: constants the gateway mirrors, and the real socket
 * factory driven against a local endpoint that hangs up, which must end in a scheduled reconnect.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import path from 'node:path';

import { DisconnectReason, WAMessageStatus } from '@whiskeysockets/baileys';
import { afterEach, describe, expect, it } from 'vitest';

import { createLogger } from '../src/logger';
import { BaileysSocketFactory } from '../src/sessions/baileys';
import { SessionManager } from '../src/sessions/manager';
import { DisconnectCode, MessageStatus, type SocketFactory } from '../src/sessions/socket';
import { testConfig } from './helpers/gateway';
import { waitUntil } from './helpers/wait';

describe('Baileys constants', () => {
  it('match the disconnect reasons the session acts on', () => {
    expect(DisconnectCode.loggedOut).toBe(DisconnectReason.loggedOut);
    expect(DisconnectCode.forbidden).toBe(DisconnectReason.forbidden);
    expect(DisconnectCode.timedOut).toBe(DisconnectReason.timedOut);
    expect(DisconnectCode.connectionReplaced).toBe(DisconnectReason.connectionReplaced);
    expect(DisconnectCode.restartRequired).toBe(DisconnectReason.restartRequired);
  });

  it('match WAMessageStatus', () => {
    expect(MessageStatus).toEqual({
      ERROR: WAMessageStatus.ERROR,
      PENDING: WAMessageStatus.PENDING,
      SERVER_ACK: WAMessageStatus.SERVER_ACK,
      DELIVERY_ACK: WAMessageStatus.DELIVERY_ACK,
      READ: WAMessageStatus.READ,
      PLAYED: WAMessageStatus.PLAYED,
    });
  });
});

describe('BaileysSocketFactory', () => {
  let server: http.Server | null = null;
  let manager: SessionManager | null = null;

  afterEach(async () => {
    manager?.stopAll();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('can be stopped while its WebSocket is still connecting', async () => {
    // The endpoint accepts the upgrade request but never answers it.
    let upgrades = 0;
    const held: Duplex[] = [];
    server = http.createServer();
    server.on('upgrade', (_request, socket) => {
      upgrades += 1;
      held.push(socket);
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const config = testConfig();
    const logger = createLogger('silent');
    manager = new SessionManager({
      dataDir: config.dataDir,
      factory: new BaileysSocketFactory({
        logger,
        baileysLogLevel: 'silent',
        markOnlineOnConnect: false,
        waVersion: [2, 3000, 1019707846],
        waWebSocketUrl: `ws://127.0.0.1:${port}/ws/chat`,
      }),
      pacing: config.pacing,
      reconnect: config.reconnect,
      logger,
      emit: () => undefined,
    });
    await manager.start('pending');
    await waitUntil(() => upgrades === 1, 5000, 'the upgrade request');
    // Closing a connecting `ws` emits "closed before the connection was established" on the next
    // tick, after Baileys removed its error listeners; it must not become an uncaught exception.
    manager.stopAll();
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const socket of held) socket.destroy();
  });

  it('creates a real socket that reconnects when the server hangs up', async () => {
    let upgrades = 0;
    server = http.createServer();
    server.on('upgrade', (_request, socket) => {
      upgrades += 1;
      socket.destroy();
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;

    const logger = createLogger('silent');
    const real = new BaileysSocketFactory({
      logger,
      baileysLogLevel: 'silent',
      markOnlineOnConnect: false,
      waVersion: [2, 3000, 1019707846],
      waWebSocketUrl: `ws://127.0.0.1:${port}/ws/chat`,
    });
    let created = 0;
    const counting: SocketFactory = {
      create: async (options) => {
        created += 1;
        return real.create(options);
      },
    };
    const config = testConfig();
    manager = new SessionManager({
      dataDir: config.dataDir,
      factory: counting,
      pacing: config.pacing,
      reconnect: config.reconnect,
      logger,
      emit: () => undefined,
    });

    const session = await manager.start('smoke');
    await waitUntil(() => upgrades >= 2 && created >= 2, 10_000, 'a reconnect through Baileys');
    expect(session.status).toBe('connecting');
    expect(session.authStatus().lastDisconnect).toMatchObject({ statusCode: 408, reason: expect.stringContaining('socket hang up') });
    expect(fs.existsSync(path.join(config.dataDir, 'sessions', 'smoke'))).toBe(true);
  });
});

