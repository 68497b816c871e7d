// Generated query keys look like [{ _id: 'listContacts', query: {...} }]: refresh every query of an operation.
import type { QueryClient } from '@tanstack/react-query';

export function invalidateOps(queryClient: QueryClient, ...ids: string[]): Promise<void> {
  return queryClient.invalidateQueries({
    predicate: (query) => {
      const first = query.queryKey[0] as { _id?: string } | undefined;
      return !!first?._id && ids.includes(first._id);
    },
  });
}
