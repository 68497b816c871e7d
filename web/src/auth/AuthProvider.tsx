// Who is signed in, in which tenant, and what they may do (from /auth/me); login, logout, switch tenant.
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, createContext, useCallback, useContext, useMemo, useSyncExternalStore } from 'react';

import { type Me, authLogout, loginJson, refreshTokens } from '../client';
import { readMeOptions } from '../client/@tanstack/react-query.gen';
import { type Session, sessionFromTokens, sessionStore } from './session';

interface AuthValue {
  session: Session | null;
  me: Me | undefined;
  meLoading: boolean;
  meError: unknown;
  login(email: string, password: string): Promise<void>;
  logout(): Promise<void>;
  switchTenant(tenantId: number): Promise<void>;
}

const AuthContext = createContext<AuthValue | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const queryClient = useQueryClient();
  const session = useSyncExternalStore(sessionStore.subscribe, sessionStore.get);
  const meQuery = useQuery({ ...readMeOptions(), enabled: !!session, staleTime: 60_000 });

  const login = useCallback(
    async (email: string, password: string) => {
      const { data } = await loginJson({ body: { email, password }, throwOnError: true });
      queryClient.clear();
      sessionStore.set(sessionFromTokens(data));
    },
    [queryClient],
  );

  const logout = useCallback(async () => {
    const current = sessionStore.get();
    if (current) await authLogout({ body: { refresh_token: current.refreshToken } }).catch(() => undefined);
    sessionStore.set(null);
    queryClient.clear();
  }, [queryClient]);

  const switchTenant = useCallback(
    async (tenantId: number) => {
      const current = sessionStore.get();
      if (!current) return;
      const { data } = await refreshTokens({
        body: { refresh_token: current.refreshToken, tenant_id: tenantId },
        throwOnError: true,
      });
      sessionStore.set(sessionFromTokens(data));
      queryClient.clear();
    },
    [queryClient],
  );

  const value = useMemo<AuthValue>(
    () => ({
      session,
      me: session ? meQuery.data : undefined,
      meLoading: !!session && meQuery.isPending,
      meError: meQuery.error,
      login,
      logout,
      switchTenant,
    }),
    [session, meQuery.data, meQuery.isPending, meQuery.error, login, logout, switchTenant],
  );
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthValue {
  const value = useContext(AuthContext);
  if (!value) throw new Error('useAuth outside AuthProvider');
  return value;
}

/** The signed-in user's profile; only call below RequireAuth, where it is loaded. */
export function useMe(): Me {
  const { me } = useAuth();
  if (!me) throw new Error('useMe before /auth/me loaded');
  return me;
}

/** The acting tenant's id; pages that need one are only shown to tenant members. */
export function useTenantId(): number {
  const me = useMe();
  if (me.tenant_id == null) throw new Error('no acting tenant');
  return me.tenant_id;
}
