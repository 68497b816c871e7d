import fs from 'node:fs';
import path from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { loadConfig, type FakeWhatsAppConfig } from '../src/config';
import { fakeRoutes } from '../src/fake/routes';
import { FakeWhatsApp } from '../src/fake/whatsapp';
import { createLogger } from '../src/logger';
import { SECRET, startTestGateway, tempDir, type TestGateway } from './helpers/gateway';
import { Receiver } from './helpers/receiver';
import { waitUntil } from './helpers/wait';

const CUSTOMER = '+15557654321';

describe('GATEWAY_FAKE_WHATSAPP config', () => {
  it('is off by default and refused in production', () => {
    expect(loadConfig({ GATEWAY_SHARED_SECRET: SECRET }).fakeWhatsApp).toBeNull();
    expect(() => loadConfig({ GATEWAY_SHARED_SECRET: SECRET, GATEWAY_FAKE_WHATSAPP: '1' })).toThrow(
      /GATEWAY_FAKE_WHATSAPP is a test-only mode and is refused with NODE_ENV=production/,
    );
  });

  it('reads the fake login and timings outside production', () => {
    const env = { NODE_ENV: 'test', GATEWAY_SHARED_SECRET: SECRET, GATEWAY_FAKE_WHATSAPP: 'true' };
    expect(loadConfig(env).fakeWhatsApp).toEqual({ login: 'open', qrMs: 1000, receiptMs: 200 });
    expect(
      loadConfig({ ...env, FAKE_WHATSAPP_LOGIN: 'QR', FAKE_WHATSAPP_QR_MS: '50', FAKE_WHATSAPP_RECEIPT_MS: '5' })
        .fakeWhatsApp,
    ).toEqual({ login: 'qr', qrMs: 50, receiptMs: 5 });
    expect(() => loadConfig({ ...env, FAKE_WHATSAPP_LOGIN: 'pairing' })).toThrow(
      /FAKE_WHATSAPP_LOGIN must be one of open, qr/,
    );
  });
});

describe('fake WhatsApp server', () => {
  let receiver: Receiver;
  const gateways: TestGateway[] = [];

  beforeEach(async () => {
    receiver = new Receiver(SECRET);
    await receiver.start();
  });

  afterEach(async () => {
    for (const gw of gateways.splice(0)) await gw.close();
    await receiver.stop();
  });

  async function start(fake: Partial<FakeWhatsAppConfig> = {}, dataDir = tempDir()): Promise<TestGateway> {
    const whatsapp = new FakeWhatsApp({ login: 'open', qrMs: 50, receiptMs: 20, ...fake }, createLogger('silent'));
    const overrides = { GREENLINE_WEBHOOK_URL: receiver.url, DATA_DIR: dataDir };
    const gw = await startTestGateway(overrides, whatsapp, fakeRoutes(whatsapp));
    gateways.push(gw);
    return gw;
  }

  async function linked(gw: TestGateway, id = 'main'): Promise<void> {
    expect((await gw.call('POST', '/sessions', { body: { sessionId: id } })).status).toBe(201);
    await waitUntil(() => gw.gateway.sessions.get(id)?.status === 'connected', 2000, 'connected');
  }

  it('shows a QR, links when it is "scanned", and resumes the link after a restart', async () => {
    const dataDir = tempDir();
    const first = await start({ login: 'qr', qrMs: 150 }, dataDir);
    await first.call('POST', '/sessions', { body: { sessionId: 'main' } });
    await waitUntil(() => first.gateway.sessions.get('main')?.status === 'qr', 2000, 'qr');
    const qr = await first.call('GET', '/auth/qr', { sessionId: 'main' });
    expect(qr.body.qr).toMatch(/^2@fake-/);
    expect(qr.body.qrDataUrl).toMatch(/^data:image\/png;base64,/);

    await waitUntil(() => first.gateway.sessions.get('main')?.status === 'connected', 2000, 'connected');
    const me = (await first.call('GET', '/auth/status', { sessionId: 'main' })).body.me;
    expect(me).toMatch(/^\+155501\d{5}$/);
    expect(fs.existsSync(path.join(dataDir, 'sessions', 'main', 'creds.json'))).toBe(true);
    await first.close();

    const second = await start({ login: 'qr', qrMs: 60_000 }, dataDir);
    await waitUntil(() => second.gateway.sessions.get('main')?.status === 'connected', 2000, 'resumed');
    expect((await second.call('GET', '/auth/status', { sessionId: 'main' })).body.me).toBe(me);
  });

  it('answers a send with a message id, then reports sent, delivered and read', async () => {
    const gw = await start();
    await linked(gw);
    const body = { to: CUSTOMER, type: 'text', text: 'hi' };
    const sent = await gw.call('POST', '/messages/send', { sessionId: 'main', body });
    expect(sent.status).toBe(202);
    expect(sent.body.messageId).toMatch(/^3EB0[0-9A-F]{18}$/);
    await receiver.waitFor(() => receiver.ofType('receipt').length === 3);
    const receipts = receiver.ofType('receipt').map(({ data }) => [data.messageId, data.to, data.status]);
    expect(receipts).toEqual([
      [sent.body.messageId, CUSTOMER, 'sent'],
      [sent.body.messageId, CUSTOMER, 'delivered'],
      [sent.body.messageId, CUSTOMER, 'read'],
    ]);
  });

  it('injects an incoming message through the signed control route', async () => {
    const gw = await start();
    await linked(gw);
    const body = { from: CUSTOMER, text: 'Do you ship to Texas?', pushName: 'Pablo', messageId: 'FAKE0001' };
    const injected = await gw.call('POST', '/fake/incoming', { sessionId: 'main', body });
    expect(injected).toEqual({ status: 202, body: { messageId: 'FAKE0001' } });
    await receiver.waitFor(() => receiver.ofType('message').length === 1);
    expect(receiver.ofType('message')[0]?.data).toMatchObject({
      messageId: 'FAKE0001',
      from: CUSTOMER,
      pushName: 'Pablo',
      text: 'Do you ship to Texas?',
    });

    const again = { from: CUSTOMER, text: 'again' };
    const generated = await gw.call('POST', '/fake/incoming', { sessionId: 'main', body: again });
    expect(generated.body.messageId).toMatch(/^FAKE[0-9A-F]{16}$/);
  });

  it('refuses unsigned, invalid and unroutable injections', async () => {
    const gw = await start({ login: 'qr', qrMs: 60_000 });
    const body = { from: CUSTOMER, text: 'hello' };
    expect((await gw.call('POST', '/fake/incoming', { sessionId: 'main', body, signature: null })).status).toBe(401);
    const unknown = await gw.call('POST', '/fake/incoming', { sessionId: 'main', body });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('session_not_found');
    await gw.call('POST', '/sessions', { body: { sessionId: 'main' } });
    const unlinked = await gw.call('POST', '/fake/incoming', { sessionId: 'main', body });
    expect(unlinked.status).toBe(409);
    expect(unlinked.body.error.code).toBe('session_not_connected');
    const invalid = await gw.call('POST', '/fake/incoming', { sessionId: 'main', body: { from: '555', text: 'x' } });
    expect(invalid.status).toBe(422);
    expect(invalid.body.error.details).toEqual({ field: 'from' });
    expect((await gw.call('POST', '/fake/incoming', { body })).status).toBe(400);
  });
});
