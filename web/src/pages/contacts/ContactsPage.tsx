// Contacts: server-side search and filters over cursor pages; export what the filters select.
import { Anchor, Badge, Button, Card, Group, Modal, Select, Stack, Table, TagsInput, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useDebouncedValue, useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconDownload, IconSearch, IconUpload, IconUserPlus } from '@tabler/icons-react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { zodResolver } from 'mantine-form-zod-resolver';
import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import { z } from 'zod';

import { invalidateOps } from '../../api/invalidate';
import { useMe } from '../../auth/AuthProvider';
import { type ContactStatus, exportContacts } from '../../client';
import { createContactMutation, listContactsOptions, listSegmentsOptions } from '../../client/@tanstack/react-query.gen';
import { PageHeader } from '../../components/PageHeader';
import { QueryState } from '../../components/QueryState';
import { usePager } from '../../lib/cursorPager';
import { saveBlob } from '../../lib/download';
import { errorMessage } from '../../lib/errors';
import { formatDateTime } from '../../lib/format';
import { can } from '../../lib/nav';

const PAGE_SIZE = 50;
const STATUSES: ContactStatus[] = ['active', 'inactive', 'blocked', 'unsubscribed'];

export function ContactsPage() {
  const me = useMe();
  const [search, setSearch] = useState('');
  const [q] = useDebouncedValue(search.trim(), 300);
  const [status, setStatus] = useState<ContactStatus | null>(null);
  const [tags, setTags] = useState<string[]>([]);
  const [consent, setConsent] = useState<string | null>(null);
  const [params] = useSearchParams();
  const [segmentId, setSegmentId] = useState<string | null>(params.get('segment'));
  const [exporting, setExporting] = useState(false);
  const [createOpen, createModal] = useDisclosure(false);
  const pager = usePager();
  const { reset } = pager;

  const filters = {
    q: q || undefined,
    status: status ?? undefined,
    tag: tags.length ? tags : undefined,
    tags_mode: 'any' as const,
    opted_out: consent === null ? undefined : consent === 'out',
    segment_id: segmentId ? Number(segmentId) : undefined,
  };
  useEffect(reset, [q, status, tags, consent, segmentId, reset]);

  const contacts = useQuery({
    ...listContactsOptions({ query: { ...filters, cursor: pager.cursor, limit: PAGE_SIZE } }),
    placeholderData: keepPreviousData,
  });
  const segments = useQuery(listSegmentsOptions({ query: { limit: 100 } }));

  async function exportCsv() {
    setExporting(true);
    try {
      const { data } = await exportContacts({ query: filters, parseAs: 'blob', throwOnError: true });
      saveBlob(data as Blob, 'contacts.csv');
    } catch (err) {
      notifications.show({ color: 'red', title: 'Export failed', message: errorMessage(err) });
    } finally {
      setExporting(false);
    }
  }

  const items = contacts.data?.items ?? [];
  return (
    <>
      <PageHeader
        title="Contacts"
        description="Search, filter and export your audience."
        actions={
          <>
            {can(me, 'contacts:write') && (
              <>
                <Button leftSection={<IconUserPlus size={16} />} variant="default" onClick={createModal.open}>
                  New contact
                </Button>
                <Button component={Link} to="/contacts/import" leftSection={<IconUpload size={16} />}>
                  Import
                </Button>
              </>
            )}
            <Button variant="default" leftSection={<IconDownload size={16} />} loading={exporting} onClick={exportCsv}>
              Export CSV
            </Button>
          </>
        }
      />
      <Card withBorder mb="md">
        <Group align="flex-end" wrap="wrap">
          <TextInput
            label="Search"
            placeholder="Name, phone or email"
            leftSection={<IconSearch size={16} />}
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            w={240}
          />
          <Select label="Status" placeholder="Any" clearable data={STATUSES} value={status} onChange={(v) => setStatus(v as ContactStatus | null)} w={150} />
          <TagsInput label="Tags (any)" placeholder="Type a tag, Enter" value={tags} onChange={setTags} w={240} />
          <Select
            label="Consent"
            placeholder="Any"
            clearable
            data={[
              { value: 'in', label: 'Subscribed' },
              { value: 'out', label: 'Opted out' },
            ]}
            value={consent}
            onChange={setConsent}
            w={150}
          />
          <Select
            label="Segment"
            placeholder="Any"
            clearable
            searchable
            data={(segments.data?.items ?? []).map((s) => ({ value: String(s.id), label: s.name }))}
            value={segmentId}
            onChange={setSegmentId}
            w={200}
          />
        </Group>
      </Card>
      <Card withBorder p={0}>
        <QueryState
          isPending={contacts.isPending}
          error={contacts.error}
          onRetry={() => contacts.refetch()}
          isEmpty={items.length === 0}
          empty={filters.q || filters.status || filters.tag || filters.segment_id || consent ? 'No contact matches these filters.' : 'No contacts yet. Import a CSV or add a contact to get started.'}
        >
          <Table.ScrollContainer minWidth={720}>
            <Table striped highlightOnHover aria-label="Contacts">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th>Phone</Table.Th>
                  <Table.Th>Email</Table.Th>
                  <Table.Th>Tags</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Added</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((c) => (
                  <Table.Tr key={c.id}>
                    <Table.Td>
                      <Anchor component={Link} to={`/contacts/${c.id}`}>
                        {c.name ?? '(no name)'}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>{c.phone}</Table.Td>
                    <Table.Td>{c.email ?? '—'}</Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {c.tags.map((t) => (
                          <Badge key={t} size="sm" variant="light">
                            {t}
                          </Badge>
                        ))}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Badge size="sm" color={c.opted_out ? 'red' : c.status === 'active' ? 'teal' : 'gray'} variant="dot">
                        {c.opted_out ? 'opted out' : c.status}
                      </Badge>
                    </Table.Td>
                    <Table.Td>{formatDateTime(c.created_at)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        </QueryState>
        <Group justify="space-between" p="sm">
          <Text size="sm" c="dimmed">
            Page {pager.pageNumber}
            {contacts.isFetching && !contacts.isPending ? ' · updating…' : ''}
          </Text>
          <Group gap="xs">
            <Button size="xs" variant="default" disabled={!pager.hasPrevious} onClick={pager.previous}>
              Previous
            </Button>
            <Button size="xs" variant="default" disabled={!contacts.data?.next_cursor} onClick={() => pager.next(contacts.data?.next_cursor)}>
              Next
            </Button>
          </Group>
        </Group>
      </Card>
      <Modal opened={createOpen} onClose={createModal.close} title="New contact">
        <NewContactForm onDone={createModal.close} />
      </Modal>
    </>
  );
}

const contactSchema = z.object({
  phone: z.string().trim().min(5, 'Enter the phone number with its country code, e.g. +14155550100'),
  name: z.string().trim().max(255),
  email: z.union([z.literal(''), z.string().trim().email('Enter a valid email')]),
});

function NewContactForm({ onDone }: { onDone: () => void }) {
  const queryClient = useQueryClient();
  const form = useForm({ initialValues: { phone: '', name: '', email: '' }, validate: zodResolver(contactSchema) });
  const create = useMutation({
    ...createContactMutation(),
    onSuccess: async () => {
      await invalidateOps(queryClient, 'listContacts');
      notifications.show({ color: 'teal', message: 'Contact added' });
      onDone();
    },
  });
  return (
    <form
      onSubmit={form.onSubmit((v) =>
        create.mutate({ body: { phone: v.phone.trim(), name: v.name.trim() || null, email: v.email.trim() || null } }),
      )}
    >
      <Stack>
        <TextInput label="Phone" required {...form.getInputProps('phone')} />
        <TextInput label="Name" {...form.getInputProps('name')} />
        <TextInput label="Email" {...form.getInputProps('email')} />
        {create.error && (
          <Text c="red" size="sm" role="alert">
            {errorMessage(create.error)}
          </Text>
        )}
        <Button type="submit" loading={create.isPending}>
          Add contact
        </Button>
      </Stack>
    </form>
  );
}
