// The signed-in session (token pair and acting tenant), kept in localStorage so a reload stays signed in.

export interface Session {
  accessToken: string;
  refreshToken: string;
  tenantId: number | null;
}

export interface SessionStore {
  get(): Session | null;
  set(session: Session | null): void;
  subscribe(listener: () => void): () => void;
}

interface KeyValue {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const KEY = 'greenline.session';

export function createSessionStore(storage: KeyValue | null): SessionStore {
  const listeners = new Set<() => void>();
  let current: Session | null = null;
  try {
    const raw = storage?.getItem(KEY);
    current = raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    current = null;
  }
  return {
    get: () => current,
    set(session) {
      current = session;
      if (session) storage?.setItem(KEY, JSON.stringify(session));
      else storage?.removeItem(KEY);
      listeners.forEach((listener) => listener());
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

export const sessionStore = createSessionStore(typeof window === 'undefined' ? null : window.localStorage);

export interface TokenPairLike {
  access_token: string;
  refresh_token: string;
  tenant_id?: number | null;
}

export function sessionFromTokens(pair: TokenPairLike): Session {
  return { accessToken: pair.access_token, refreshToken: pair.refresh_token, tenantId: pair.tenant_id ?? null };
}
