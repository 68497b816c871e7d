// Tenant webhooks: endpoints and the events they receive, the delivery log, and resending a delivery.
import { ActionIcon, Alert, Badge, Button, Card, Code, CopyButton, Group, Modal, MultiSelect, Select, Stack, Switch, Table, Text, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconTrash } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { zodResolver } from 'mantine-form-zod-resolver';
import { useState } from 'react';
import { z } from 'zod';

import { invalidateOps } from '../../api/invalidate';
import type { DeliveryStatus, WebhookEndpointCreate, WebhookEndpointCreated } from '../../client';
import {
  createWebhookMutation,
  deleteWebhookMutation,
  listEventTypesOptions,
  listWebhookLogsOptions,
  listWebhooksOptions,
  resendWebhooksMutation,
  sendTestWebhookMutation,
  updateWebhookMutation,
} from '../../client/@tanstack/react-query.gen';
import { QueryState } from '../../components/QueryState';
import { usePager } from '../../lib/cursorPager';
import { errorMessage } from '../../lib/errors';
import { formatDateTime } from '../../lib/format';

type EventType = WebhookEndpointCreate['event_types'][number];

const schema = z.object({
  url: z.string().trim().url('Enter the full https:// address'),
  event_types: z.array(z.string()).min(1, 'Choose at least one event'),
  description: z.string().max(500),
});

export function WebhooksTab() {
  const queryClient = useQueryClient();
  const endpoints = useQuery(listWebhooksOptions({ query: { limit: 100 } }));
  const [createOpen, createModal] = useDisclosure(false);
  const [created, setCreated] = useState<WebhookEndpointCreated | null>(null);
  const onError = (err: unknown) => notifications.show({ color: 'red', message: errorMessage(err) });
  const refresh = () => invalidateOps(queryClient, 'listWebhooks', 'listWebhookLogs');
  const update = useMutation({ ...updateWebhookMutation(), onSuccess: refresh, onError });
  const remove = useMutation({ ...deleteWebhookMutation(), onSuccess: refresh, onError });
  const test = useMutation({
    ...sendTestWebhookMutation(),
    onSuccess: () => {
      notifications.show({ color: 'teal', message: 'Test event queued: see the delivery log' });
      void refresh();
    },
    onError,
  });
  return (
    <Stack>
      <Card withBorder>
        <Group justify="space-between" mb="sm">
          <Text>Greenline posts signed JSON events to these addresses.</Text>
          <Button onClick={createModal.open}>Add endpoint</Button>
        </Group>
        <QueryState isPending={endpoints.isPending} error={endpoints.error} isEmpty={endpoints.data?.items.length === 0} empty="No webhook endpoints yet.">
          <Table.ScrollContainer minWidth={700}>
            <Table aria-label="Webhook endpoints">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>URL</Table.Th>
                  <Table.Th>Events</Table.Th>
                  <Table.Th>Active</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {endpoints.data?.items.map((e) => (
                  <Table.Tr key={e.id}>
                    <Table.Td>
                      <Text size="sm">{e.url}</Text>
                      {e.description && (
                        <Text size="xs" c="dimmed">
                          {e.description}
                        </Text>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Text size="xs">{e.event_types.join(', ')}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Switch aria-label={`Active ${e.url}`} checked={e.is_active} onChange={(ev) => update.mutate({ path: { webhook_id: e.id }, body: { is_active: ev.currentTarget.checked } })} />
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Button size="xs" variant="light" onClick={() => test.mutate({ path: { webhook_id: e.id } })}>
                          Send test
                        </Button>
                        <ActionIcon color="red" variant="subtle" aria-label={`Delete ${e.url}`} onClick={() => remove.mutate({ path: { webhook_id: e.id } })}>
                          <IconTrash size={16} />
                        </ActionIcon>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </QueryState>
      </Card>
      <DeliveryLog />
      <Modal
        opened={createOpen || !!created}
        onClose={() => {
          createModal.close();
          setCreated(null);
        }}
        title={created ? 'Signing secret' : 'Add a webhook endpoint'}
      >
        {created ? (
          <Stack>
            <Alert color="yellow">Copy the signing secret now: it is shown only once. Use it to verify the X-Greenline-Signature header.</Alert>
            <Code block>{created.secret}</Code>
            <CopyButton value={created.secret}>{({ copied, copy }) => <Button onClick={copy}>{copied ? 'Copied' : 'Copy secret'}</Button>}</CopyButton>
          </Stack>
        ) : (
          <CreateEndpointForm
            onCreated={(endpoint) => {
              createModal.close();
              setCreated(endpoint);
            }}
          />
        )}
      </Modal>
    </Stack>
  );
}

function CreateEndpointForm({ onCreated }: { onCreated: (e: WebhookEndpointCreated) => void }) {
  const queryClient = useQueryClient();
  const eventTypes = useQuery(listEventTypesOptions());
  const form = useForm({ initialValues: { url: '', event_types: ['*'] as string[], description: '' }, validate: zodResolver(schema) });
  const create = useMutation({
    ...createWebhookMutation(),
    onSuccess: async (endpoint) => {
      await invalidateOps(queryClient, 'listWebhooks');
      onCreated(endpoint);
    },
  });
  return (
    <form
      onSubmit={form.onSubmit((v) =>
        create.mutate({ body: { url: v.url.trim(), event_types: v.event_types as EventType[], description: v.description.trim() || null, is_active: true } }),
      )}
    >
      <Stack>
        <TextInput label="URL" placeholder="https://example.com/hooks/greenline" {...form.getInputProps('url')} />
        <MultiSelect
          label="Events"
          data={[{ value: '*', label: 'All events' }, ...(eventTypes.data ?? []).map((t) => ({ value: t.type, label: t.type }))]}
          searchable
          {...form.getInputProps('event_types')}
        />
        <TextInput label="Description" {...form.getInputProps('description')} />
        {create.error && (
          <Alert color="red" role="alert">
            {errorMessage(create.error)}
          </Alert>
        )}
        <Button type="submit" loading={create.isPending}>
          Add endpoint
        </Button>
      </Stack>
    </form>
  );
}

function DeliveryLog() {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<string | null>(null);
  const pager = usePager();
  const logs = useQuery({
    ...listWebhookLogsOptions({ query: { status: (status as DeliveryStatus | null) ?? undefined, cursor: pager.cursor, limit: 25 } }),
    refetchInterval: 10_000,
  });
  const resend = useMutation({
    ...resendWebhooksMutation(),
    onSuccess: (r) => {
      notifications.show({ color: 'teal', message: `${r.requeued} delivery queued again` });
      void invalidateOps(queryClient, 'listWebhookLogs');
    },
    onError: (err) => notifications.show({ color: 'red', message: errorMessage(err) }),
  });
  return (
    <Card withBorder>
      <Group justify="space-between" mb="sm">
        <Title order={4}>Delivery log</Title>
        <Select
          size="xs"
          w={150}
          aria-label="Delivery status"
          placeholder="Any status"
          clearable
          data={['pending', 'delivered', 'failed']}
          value={status}
          onChange={(v) => {
            setStatus(v);
            pager.reset();
          }}
        />
      </Group>
      <QueryState isPending={logs.isPending} error={logs.error} isEmpty={logs.data?.items.length === 0} empty="No deliveries yet. Send a test event to an endpoint to see one.">
        <Table.ScrollContainer minWidth={700}>
          <Table aria-label="Webhook deliveries">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Event</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Attempts</Table.Th>
                <Table.Th>Last response</Table.Th>
                <Table.Th>Created</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {logs.data?.items.map((d) => (
                <Table.Tr key={d.id}>
                  <Table.Td>{d.event_type}</Table.Td>
                  <Table.Td>
                    <Badge color={d.status === 'delivered' ? 'teal' : d.status === 'failed' ? 'red' : 'yellow'}>{d.status}</Badge>
                  </Table.Td>
                  <Table.Td>{d.attempts}</Table.Td>
                  <Table.Td>
                    <Text size="xs">{d.last_status_code ?? d.last_error ?? '—'}</Text>
                  </Table.Td>
                  <Table.Td>{formatDateTime(d.created_at)}</Table.Td>
                  <Table.Td>
                    <Button size="xs" variant="subtle" onClick={() => resend.mutate({ body: { delivery_id: d.id } })}>
                      Resend
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        <Group justify="flex-end" gap="xs" mt="xs">
          <Button size="xs" variant="default" disabled={!pager.hasPrevious} onClick={pager.previous}>
            Previous
          </Button>
          <Button size="xs" variant="default" disabled={!logs.data?.next_cursor} onClick={() => pager.next(logs.data?.next_cursor)}>
            Next
          </Button>
        </Group>
      </QueryState>
    </Card>
  );
}
