// API keys: create (the secret is shown once, with a copy button), list with last use, revoke.
import { Alert, Badge, Button, Card, Code, CopyButton, Group, Modal, MultiSelect, Stack, Table, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { zodResolver } from 'mantine-form-zod-resolver';
import { useState } from 'react';
import { z } from 'zod';

import { invalidateOps } from '../../api/invalidate';
import { useTenantId } from '../../auth/AuthProvider';
import type { ApiKeyCreated, Permission } from '../../client';
import { createApiKeyMutation, listApiKeysOptions, revokeApiKeyMutation } from '../../client/@tanstack/react-query.gen';
import { QueryState } from '../../components/QueryState';
import { errorMessage } from '../../lib/errors';
import { formatDateTime } from '../../lib/format';

// What a key may be granted (every permission but managing keys, users and the tenant).
const SCOPES: Permission[] = [
  'tenant:read', 'usage:read', 'contacts:read', 'contacts:write', 'campaigns:read', 'campaigns:write',
  'conversations:read', 'conversations:write', 'leads:read', 'leads:write', 'whatsapp:read', 'whatsapp:send',
  'whatsapp:manage', 'webhooks:manage', 'users:read',
];

const schema = z.object({
  name: z.string().trim().min(1, 'Name the key after what uses it').max(100),
  scopes: z.array(z.string()).min(1, 'Grant at least one permission'),
});

export function ApiKeysTab() {
  const tenantId = useTenantId();
  const queryClient = useQueryClient();
  const keys = useQuery(listApiKeysOptions({ path: { tenant_id: tenantId } }));
  const [createOpen, createModal] = useDisclosure(false);
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  const revoke = useMutation({
    ...revokeApiKeyMutation(),
    onSuccess: () => invalidateOps(queryClient, 'listApiKeys'),
    onError: (err) => notifications.show({ color: 'red', message: errorMessage(err) }),
  });
  return (
    <Card withBorder>
      <Group justify="space-between" mb="sm">
        <Text>Keys let your own systems call the Greenline API.</Text>
        <Button onClick={createModal.open}>Create API key</Button>
      </Group>
      <QueryState isPending={keys.isPending} error={keys.error} isEmpty={keys.data?.length === 0} empty="No API keys yet.">
        <Table.ScrollContainer minWidth={700}>
          <Table aria-label="API keys">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Key</Table.Th>
                <Table.Th>Permissions</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {keys.data?.map((k) => (
                <Table.Tr key={k.id}>
                  <Table.Td>{k.name}</Table.Td>
                  <Table.Td>
                    <Code>{k.prefix}…</Code>
                  </Table.Td>
                  <Table.Td>
                    <Text size="xs">{k.scopes.join(', ')}</Text>
                  </Table.Td>
                  <Table.Td>{k.last_used ? formatDateTime(k.last_used) : 'never'}</Table.Td>
                  <Table.Td>{k.revoked_at ? <Badge color="gray">revoked</Badge> : <Badge color="teal">active</Badge>}</Table.Td>
                  <Table.Td>
                    {!k.revoked_at && (
                      <Button size="xs" color="red" variant="subtle" onClick={() => revoke.mutate({ path: { tenant_id: tenantId, key_id: k.id } })} aria-label={`Revoke ${k.name}`}>
                        Revoke
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </QueryState>
      <Modal
        opened={createOpen || !!created}
        onClose={() => {
          createModal.close();
          setCreated(null);
        }}
        title={created ? 'Your new API key' : 'Create an API key'}
      >
        {created ? (
          <Stack>
            <Alert color="yellow">Copy the key now: it is shown only once.</Alert>
            <Code block aria-label="New API key">
              {created.key}
            </Code>
            <CopyButton value={created.key}>
              {({ copied, copy }) => (
                <Button color={copied ? 'teal' : undefined} onClick={copy}>
                  {copied ? 'Copied' : 'Copy key'}
                </Button>
              )}
            </CopyButton>
          </Stack>
        ) : (
          <CreateKeyForm
            tenantId={tenantId}
            onCreated={(key) => {
              createModal.close();
              setCreated(key);
            }}
          />
        )}
      </Modal>
    </Card>
  );
}

function CreateKeyForm({ tenantId, onCreated }: { tenantId: number; onCreated: (key: ApiKeyCreated) => void }) {
  const queryClient = useQueryClient();
  const form = useForm({ initialValues: { name: '', scopes: ['contacts:read', 'contacts:write'] as string[] }, validate: zodResolver(schema) });
  const create = useMutation({
    ...createApiKeyMutation(),
    onSuccess: async (key) => {
      await invalidateOps(queryClient, 'listApiKeys');
      onCreated(key);
    },
  });
  return (
    <form onSubmit={form.onSubmit((v) => create.mutate({ path: { tenant_id: tenantId }, body: { name: v.name.trim(), scopes: v.scopes as Permission[] } }))}>
      <Stack>
        <TextInput label="Key name" placeholder="Shop backend" {...form.getInputProps('name')} />
        <MultiSelect label="Permissions" data={SCOPES} searchable {...form.getInputProps('scopes')} />
        {create.error && (
          <Alert color="red" role="alert">
            {errorMessage(create.error)}
          </Alert>
        )}
        <Button type="submit" loading={create.isPending}>
          Create key
        </Button>
      </Stack>
    </form>
  );
}
