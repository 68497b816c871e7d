// A fetch that signs requests with the session's access token and, when the API answers 401, refreshes the
// token pair once (shared by concurrent requests) and retries; if the refresh fails the session ends
// (the app then shows the login page).
import { type SessionStore, sessionFromTokens, type TokenPairLike } from './session';

const REFRESH_PATH = '/api/v1/auth/refresh';
// Requests whose 401 means "wrong credentials", not "token expired".
const NO_RETRY = ['/api/v1/auth/login', '/api/v1/auth/login-json', REFRESH_PATH];

export function createAuthFetch(store: SessionStore, baseFetch: typeof fetch): typeof fetch {
  let refreshing: Promise<string | null> | null = null;

  async function refresh(): Promise<string | null> {
    const session = store.get();
    if (!session) return null;
    const response = await baseFetch(REFRESH_PATH, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ refresh_token: session.refreshToken, tenant_id: session.tenantId }),
    });
    if (!response.ok) {
      // Another tab may have refreshed with the same token meanwhile: only end the session we tried.
      if (store.get()?.refreshToken === session.refreshToken) store.set(null);
      return null;
    }
    const next = sessionFromTokens((await response.json()) as TokenPairLike);
    store.set(next);
    return next.accessToken;
  }

  return async (input, init) => {
    const request = new Request(input, init);
    const path = new URL(request.url, 'http://localhost').pathname;
    const token = store.get()?.accessToken;
    const retry = request.clone();
    if (token && !request.headers.has('Authorization')) request.headers.set('Authorization', `Bearer ${token}`);
    const response = await baseFetch(request);
    if (response.status !== 401 || !token || NO_RETRY.includes(path)) return response;
    if (store.get()?.accessToken !== token) {
      // Someone refreshed while this request was in flight.
      const current = store.get()?.accessToken;
      if (!current) return response;
      retry.headers.set('Authorization', `Bearer ${current}`);
      return baseFetch(retry);
    }
    refreshing ??= refresh().finally(() => {
      refreshing = null;
    });
    const fresh = await refreshing;
    if (!fresh) return response;
    retry.headers.set('Authorization', `Bearer ${fresh}`);
    return baseFetch(retry);
  };
}
