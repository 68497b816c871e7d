// Users and roles: the tenant's team; admins add users and change roles.
import { Alert, Badge, Button, Card, Group, Modal, PasswordInput, Select, Stack, Table, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { zodResolver } from 'mantine-form-zod-resolver';
import { z } from 'zod';

import { invalidateOps } from '../../api/invalidate';
import { useMe } from '../../auth/AuthProvider';
import type { TenantRole } from '../../client';
import { createUserMutation, listUsersOptions, updateUserMutation } from '../../client/@tanstack/react-query.gen';
import { QueryState } from '../../components/QueryState';
import { errorMessage } from '../../lib/errors';
import { can } from '../../lib/nav';

const ROLES: { value: TenantRole; label: string }[] = [
  { value: 'admin', label: 'Admin: everything' },
  { value: 'marketer', label: 'Marketer: contacts, campaigns, inbox' },
  { value: 'sales', label: 'Sales: own leads and conversations' },
  { value: 'viewer', label: 'Viewer: read only' },
];

const schema = z.object({
  email: z.string().trim().email('Enter a valid email'),
  full_name: z.string().trim().max(200),
  password: z.string().min(8, 'At least 8 characters'),
  role: z.enum(['admin', 'marketer', 'sales', 'viewer']),
});

export function TeamTab() {
  const me = useMe();
  const queryClient = useQueryClient();
  const users = useQuery(listUsersOptions({ query: { limit: 100 } }));
  const [addOpen, addModal] = useDisclosure(false);
  const writable = can(me, 'users:write');
  const update = useMutation({
    ...updateUserMutation(),
    onSuccess: () => invalidateOps(queryClient, 'listUsers'),
    onError: (err) => notifications.show({ color: 'red', message: errorMessage(err) }),
  });
  return (
    <Card withBorder>
      <Group justify="space-between" mb="sm">
        <Text>Who can sign in to this tenant, and what each may do.</Text>
        {writable && <Button onClick={addModal.open}>Add user</Button>}
      </Group>
      <QueryState isPending={users.isPending} error={users.error} isEmpty={users.data?.length === 0} empty="No users yet.">
        <Table.ScrollContainer minWidth={600}>
          <Table aria-label="Users">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Email</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th>Status</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {users.data?.map((u) => (
                <Table.Tr key={u.id}>
                  <Table.Td>{u.full_name ?? '—'}</Table.Td>
                  <Table.Td>{u.email}</Table.Td>
                  <Table.Td>
                    {writable && u.id !== me.id ? (
                      <Select
                        size="xs"
                        w={140}
                        aria-label={`Role of ${u.email}`}
                        allowDeselect={false}
                        data={ROLES.map((r) => r.value)}
                        value={u.role}
                        onChange={(role) => role && update.mutate({ path: { user_id: u.id }, body: { role: role as TenantRole } })}
                      />
                    ) : (
                      <Badge variant="light">{u.role}</Badge>
                    )}
                  </Table.Td>
                  <Table.Td>{u.is_active ? 'active' : 'disabled'}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      </QueryState>
      <Modal opened={addOpen} onClose={addModal.close} title="Add a user">
        <AddUserForm onDone={addModal.close} />
      </Modal>
    </Card>
  );
}

function AddUserForm({ onDone }: { onDone: () => void }) {
  const queryClient = useQueryClient();
  const form = useForm({ initialValues: { email: '', full_name: '', password: '', role: 'sales' as TenantRole }, validate: zodResolver(schema) });
  const create = useMutation({
    ...createUserMutation(),
    onSuccess: async () => {
      await invalidateOps(queryClient, 'listUsers');
      notifications.show({ color: 'teal', message: 'User added' });
      onDone();
    },
  });
  return (
    <form onSubmit={form.onSubmit((v) => create.mutate({ body: { email: v.email.trim(), full_name: v.full_name.trim() || null, password: v.password, role: v.role } }))}>
      <Stack>
        <TextInput label="Email" {...form.getInputProps('email')} />
        <TextInput label="Full name" {...form.getInputProps('full_name')} />
        <PasswordInput label="Initial password" {...form.getInputProps('password')} />
        <Select label="Role" allowDeselect={false} data={ROLES} {...form.getInputProps('role')} />
        {create.error && (
          <Alert color="red" role="alert">
            {errorMessage(create.error)}
          </Alert>
        )}
        <Button type="submit" loading={create.isPending}>
          Add user
        </Button>
      </Stack>
    </form>
  );
}
