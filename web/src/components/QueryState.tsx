// Loading, error and empty states shared by every page, so none is left blank.
import { Alert, Button, Center, Group, Loader, Stack, Text } from '@mantine/core';
import type { ReactNode } from 'react';

import { errorMessage } from '../lib/errors';

interface Props {
  isPending: boolean;
  error: unknown;
  isEmpty?: boolean;
  empty?: ReactNode;
  onRetry?: () => void;
  children: ReactNode;
  label?: string;
}

export function QueryState({ isPending, error, isEmpty, empty, onRetry, children, label = 'Loading' }: Props) {
  if (isPending) {
    return (
      <Center py="xl" aria-busy="true">
        <Loader size="sm" aria-label={label} />
      </Center>
    );
  }
  if (error) {
    return (
      <Alert color="red" title="Could not load" role="alert">
        <Group justify="space-between">
          <Text size="sm">{errorMessage(error)}</Text>
          {onRetry && (
            <Button size="xs" variant="light" onClick={onRetry}>
              Retry
            </Button>
          )}
        </Group>
      </Alert>
    );
  }
  if (isEmpty) return <EmptyState>{empty}</EmptyState>;
  return <>{children}</>;
}

export function EmptyState({ children }: { children: ReactNode }) {
  return (
    <Stack align="center" py="xl" gap="xs">
      <Text c="dimmed" ta="center">
        {children}
      </Text>
    </Stack>
  );
}
