// Tenants (platform superadmin): create, edit plan and status, delete, and look at each tenant's usage.
import { Alert, Badge, Button, Card, Group, Modal, Select, SimpleGrid, Stack, Switch, Table, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { zodResolver } from 'mantine-form-zod-resolver';
import { useState } from 'react';
import { Navigate } from 'react-router-dom';
import { z } from 'zod';

import { invalidateOps } from '../../api/invalidate';
import { useMe } from '../../auth/AuthProvider';
import type { TenantOut } from '../../client';
import { createTenantMutation, deleteTenantMutation, getUsageStatsOptions, listTenantsOptions, updateTenantMutation } from '../../client/@tanstack/react-query.gen';
import { PageHeader } from '../../components/PageHeader';
import { QueryState } from '../../components/QueryState';
import { errorMessage } from '../../lib/errors';
import { formatDateTime, formatNumber } from '../../lib/format';

const PLANS = ['free', 'starter', 'growth', 'pro', 'enterprise'];

// The first admin may be an existing user (no password needed) or a new one (the API asks for a password).
const schema = z.object({
  name: z.string().trim().min(1, 'Enter the tenant name').max(200),
  plan: z.string().min(1),
  admin_email: z.union([z.literal(''), z.string().trim().email('Enter a valid email')]),
  admin_password: z.union([z.literal(''), z.string().min(8, 'At least 8 characters')]),
});

export function TenantsPage() {
  const me = useMe();
  const queryClient = useQueryClient();
  const tenants = useQuery({ ...listTenantsOptions(), enabled: me.is_superadmin });
  const [createOpen, createModal] = useDisclosure(false);
  const [usageFor, setUsageFor] = useState<TenantOut | null>(null);
  const onError = (err: unknown) => notifications.show({ color: 'red', message: errorMessage(err) });
  const refresh = () => invalidateOps(queryClient, 'listTenants');
  const update = useMutation({ ...updateTenantMutation(), onSuccess: refresh, onError });
  const remove = useMutation({ ...deleteTenantMutation(), onSuccess: refresh, onError });
  if (!me.is_superadmin) return <Navigate to="/" replace />;
  return (
    <>
      <PageHeader title="Tenants" description="Every company on this Greenline installation." actions={<Button onClick={createModal.open}>New tenant</Button>} />
      <Card withBorder>
        <QueryState isPending={tenants.isPending} error={tenants.error} isEmpty={tenants.data?.length === 0} empty="No tenants yet.">
          <Table.ScrollContainer minWidth={700}>
            <Table aria-label="Tenants">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Plan</Table.Th>
                  <Table.Th>Active</Table.Th>
                  <Table.Th>Created</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {tenants.data?.map((t) => (
                  <Table.Tr key={t.id}>
                    <Table.Td>
                      <Text size="sm" fw={500}>
                        {t.name}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {t.slug}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Select size="xs" w={130} aria-label={`Plan of ${t.name}`} allowDeselect={false} data={Array.from(new Set([...PLANS, t.plan]))} value={t.plan} onChange={(plan) => plan && update.mutate({ path: { tenant_id: t.id }, body: { plan } })} />
                    </Table.Td>
                    <Table.Td>
                      <Switch aria-label={`Active ${t.name}`} checked={t.is_active} onChange={(e) => update.mutate({ path: { tenant_id: t.id }, body: { is_active: e.currentTarget.checked } })} />
                    </Table.Td>
                    <Table.Td>{formatDateTime(t.created_at)}</Table.Td>
                    <Table.Td>
                      <Group gap={4} wrap="nowrap">
                        <Button size="xs" variant="light" onClick={() => setUsageFor(t)}>
                          Usage
                        </Button>
                        <Button
                          size="xs"
                          variant="subtle"
                          color="red"
                          onClick={() => {
                            if (window.confirm(`Delete ${t.name} and all its data?`)) remove.mutate({ path: { tenant_id: t.id } });
                          }}
                        >
                          Delete
                        </Button>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </QueryState>
      </Card>
      <Modal opened={createOpen} onClose={createModal.close} title="New tenant">
        <CreateTenantForm onDone={createModal.close} />
      </Modal>
      <Modal opened={!!usageFor} onClose={() => setUsageFor(null)} title={usageFor ? `Usage: ${usageFor.name}` : ''}>
        {usageFor && <TenantUsage tenant={usageFor} />}
      </Modal>
    </>
  );
}

function TenantUsage({ tenant }: { tenant: TenantOut }) {
  const usage = useQuery(getUsageStatsOptions({ path: { tenant_id: tenant.id } }));
  return (
    <QueryState isPending={usage.isPending} error={usage.error}>
      {usage.data && (
        <Stack>
          <Text size="sm" c="dimmed">
            {usage.data.start} to {usage.data.end} · plan <Badge variant="light">{tenant.plan}</Badge>
          </Text>
          <SimpleGrid cols={2}>
            <div>
              <Text size="xs" c="dimmed">
                API calls
              </Text>
              <Text fw={700}>{formatNumber(usage.data.total_api_calls)}</Text>
            </div>
            <div>
              <Text size="xs" c="dimmed">
                Messages sent
              </Text>
              <Text fw={700}>{formatNumber(usage.data.total_messages_sent)}</Text>
            </div>
          </SimpleGrid>
        </Stack>
      )}
    </QueryState>
  );
}

function CreateTenantForm({ onDone }: { onDone: () => void }) {
  const queryClient = useQueryClient();
  const form = useForm({ initialValues: { name: '', plan: 'starter', admin_email: '', admin_password: '' }, validate: zodResolver(schema) });
  const create = useMutation({
    ...createTenantMutation(),
    onSuccess: async () => {
      await invalidateOps(queryClient, 'listTenants', 'readMe');
      notifications.show({ color: 'teal', message: 'Tenant created' });
      onDone();
    },
  });
  return (
    <form
      onSubmit={form.onSubmit((v) =>
        create.mutate({
          body: {
            name: v.name.trim(),
            plan: v.plan,
            admin: v.admin_email ? { email: v.admin_email.trim(), role: 'admin', password: v.admin_password || null, full_name: null } : null,
          },
        }),
      )}
    >
      <Stack>
        <TextInput label="Name" {...form.getInputProps('name')} />
        <Select label="Plan" allowDeselect={false} data={PLANS} {...form.getInputProps('plan')} />
        <TextInput label="First admin's email (optional)" {...form.getInputProps('admin_email')} />
        <TextInput label="First admin's password" description="Only for a new user" type="password" {...form.getInputProps('admin_password')} />
        {create.error && (
          <Alert color="red" role="alert">
            {errorMessage(create.error)}
          </Alert>
        )}
        <Button type="submit" loading={create.isPending}>
          Create tenant
        </Button>
      </Stack>
    </form>
  );
}
