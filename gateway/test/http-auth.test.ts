import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signBody } from '../src/signature';
import { SECRET, startTestGateway, type TestGateway } from './helpers/gateway';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});

afterAll(async () => {
  await gw.close();
});

describe('HMAC verification on the gateway API', () => {
  it('serves GET /health unsigned', async () => {
    const response = await gw.call('GET', '/health', { signature: null });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok', sessions: 0, pendingEvents: 0 });
  });

  it('accepts a good signature', async () => {
    const response = await gw.call('GET', '/sessions');
    expect(response.status).toBe(200);
    expect(response.body).toEqual([]);
  });

  it('refuses a missing signature with a JSON error', async () => {
    const response = await gw.call('GET', '/sessions', { signature: null });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('unauthorized');
    expect(response.body.error.message).toMatch(/required/);
  });

  it('refuses a signature made with another secret', async () => {
    const response = await gw.call('GET', '/sessions', { secret: 'not-the-shared-secret' });
    expect(response.status).toBe(401);
    expect(response.body.error.message).toMatch(/does not match/);
  });

  it('refuses a signature over a different body', async () => {
    const response = await gw.call('POST', '/sessions', {
      body: { sessionId: 'main' },
      signature: signBody(SECRET, JSON.stringify({ sessionId: 'other' })),
    });
    expect(response.status).toBe(401);
    expect(gw.gateway.sessions.count).toBe(0);
  });

  it('refuses a stale timestamp (replay protection)', async () => {
    const stale = Math.floor(Date.now() / 1000) - 301;
    const response = await gw.call('GET', '/sessions', { timestamp: stale });
    expect(response.status).toBe(401);
    expect(response.body.error.message).toMatch(/300 seconds/);
  });

  it('refuses a malformed header', async () => {
    const response = await gw.call('GET', '/sessions', { signature: 'sha256=deadbeef' });
    expect(response.status).toBe(401);
  });

  it('checks the signature before revealing whether a route exists', async () => {
    expect((await gw.call('GET', '/nope', { signature: null })).status).toBe(401);
    const signed = await gw.call('GET', '/nope');
    expect(signed.status).toBe(404);
    expect(signed.body.error.code).toBe('not_found');
  });

  it('answers 405 for a known path with the wrong method', async () => {
    const response = await gw.call('PUT', '/sessions');
    expect(response.status).toBe(405);
    expect(response.body.error.code).toBe('method_not_allowed');
  });

  it('answers 413 for a body over MAX_BODY_BYTES', async () => {
    const response = await gw.call('POST', '/sessions', { body: { sessionId: 'main', padding: 'x'.repeat(1_100_000) } });
    expect(response.status).toBe(413);
    expect(response.body.error.code).toBe('payload_too_large');
  });

  it('answers 400 for a body that is not JSON', async () => {
    const raw = '{not json';
    const response = await fetch(`${gw.baseUrl}/sessions`, {
      method: 'POST',
      headers: { 'x-greenline-signature': signBody(SECRET, raw), 'content-type': 'application/json' },
      body: raw,
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_json');
  });
});
