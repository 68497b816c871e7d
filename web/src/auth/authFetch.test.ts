import { describe, expect, it } from 'vitest';

import { createAuthFetch } from './authFetch';
import { createSessionStore } from './session';

function memoryStorage() {
  const data = new Map<string, string>();
  return {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
    removeItem: (k: string) => void data.delete(k),
  };
}

/** A fake API: accepts only `valid` as access token; refresh returns `valid` for refresh token `r1` once. */
function fakeApi() {
  const calls: string[] = [];
  let refreshUsed = false;
  const fetcher = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input instanceof Request ? input : new URL(String(input), 'http://t'), init);
    const path = new URL(request.url).pathname;
    calls.push(`${request.method} ${path} ${request.headers.get('Authorization') ?? '-'}`);
    if (path === '/api/v1/auth/refresh') {
      const body = (await request.json()) as { refresh_token: string };
      if (body.refresh_token === 'r1' && !refreshUsed) {
        refreshUsed = true;
        return Response.json({ access_token: 'valid', refresh_token: 'r2', tenant_id: 7 });
      }
      return Response.json({ error: { code: 'unauthorized' } }, { status: 401 });
    }
    if (request.headers.get('Authorization') === 'Bearer valid') return Response.json({ ok: true, body: await request.text() });
    return Response.json({ error: { code: 'unauthorized' } }, { status: 401 });
  };
  return { calls, fetcher: fetcher as typeof fetch };
}

describe('createAuthFetch', () => {
  it('refreshes an expired token once and retries the request with its body', async () => {
    const store = createSessionStore(memoryStorage());
    store.set({ accessToken: 'expired', refreshToken: 'r1', tenantId: 7 });
    const api = fakeApi();
    const authFetch = createAuthFetch(store, api.fetcher);
    const response = await authFetch('http://t/api/v1/contacts/', { method: 'POST', body: 'payload' });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, body: 'payload' });
    expect(store.get()).toEqual({ accessToken: 'valid', refreshToken: 'r2', tenantId: 7 });
    expect(api.calls).toEqual([
      'POST /api/v1/contacts/ Bearer expired',
      'POST /api/v1/auth/refresh -',
      'POST /api/v1/contacts/ Bearer valid',
    ]);
  });

  it('shares one refresh between concurrent requests', async () => {
    const store = createSessionStore(memoryStorage());
    store.set({ accessToken: 'expired', refreshToken: 'r1', tenantId: null });
    const api = fakeApi();
    const authFetch = createAuthFetch(store, api.fetcher);
    const results = await Promise.all([authFetch('http://t/api/v1/a'), authFetch('http://t/api/v1/b')]);
    expect(results.map((r) => r.status)).toEqual([200, 200]);
    expect(api.calls.filter((c) => c.includes('refresh'))).toHaveLength(1);
  });

  it('ends the session when the refresh token is rejected', async () => {
    const store = createSessionStore(memoryStorage());
    store.set({ accessToken: 'expired', refreshToken: 'stale', tenantId: null });
    const authFetch = createAuthFetch(store, fakeApi().fetcher);
    const response = await authFetch('http://t/api/v1/contacts/');
    expect(response.status).toBe(401);
    expect(store.get()).toBeNull();
  });

  it('does not refresh after a failed login', async () => {
    const store = createSessionStore(memoryStorage());
    const api = fakeApi();
    const authFetch = createAuthFetch(store, api.fetcher);
    const response = await authFetch('http://t/api/v1/auth/login-json', { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
    expect(api.calls).toHaveLength(1);
  });
});
