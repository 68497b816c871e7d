// Wires the generated client to the session: every request goes through the refreshing fetch.
import { QueryClient } from '@tanstack/react-query';

import { createAuthFetch } from '../auth/authFetch';
import { sessionStore } from '../auth/session';
import { client } from '../client/client.gen';

client.setConfig({ fetch: createAuthFetch(sessionStore, (input, init) => fetch(input, init)) });

export const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      refetchOnWindowFocus: false,
      // A 4xx will not get better by asking again.
      retry: (failures, error) => failures < 2 && !isClientError(error),
    },
  },
});

function isClientError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'error' in error;
}
