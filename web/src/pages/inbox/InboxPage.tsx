// Inbox: conversations (unread / assigned to me / status), and the open thread with ticks, reply, assign,
// notes and archive. Lists and the thread poll the API, so new messages appear without a reload.
import {
  ActionIcon,
  Badge,
  Box,
  Button,
  Card,
  Grid,
  Group,
  ScrollArea,
  SegmentedControl,
  Select,
  Stack,
  Tabs,
  Text,
  Textarea,
  TextInput,
  Title,
  Tooltip,
  UnstyledButton,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconArchive, IconArrowBackUp, IconSend } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { useNavigate, useParams, useSearchParams } from 'react-router-dom';

import { invalidateOps } from '../../api/invalidate';
import { useMe } from '../../auth/AuthProvider';
import type { ConversationOut, ConversationStatus } from '../../client';
import {
  addNoteMutation,
  archiveConversationMutation,
  conversationsSendMessageMutation,
  getConversationOptions,
  listConversationsOptions,
  listMessagesOptions,
  listNotesOptions,
  listUsersOptions,
  markConversationReadMutation,
  unarchiveConversationMutation,
  updateConversationMutation,
} from '../../client/@tanstack/react-query.gen';
import { PageHeader } from '../../components/PageHeader';
import { EmptyState, QueryState } from '../../components/QueryState';
import { errorMessage } from '../../lib/errors';
import { formatDateTime, timeAgo } from '../../lib/format';
import { can } from '../../lib/nav';
import { tickView } from '../../lib/ticks';

const LIST_POLL_MS = 5000;
const THREAD_POLL_MS = 3000;

export function InboxPage() {
  const { conversationId } = useParams();
  const [params] = useSearchParams();
  const [view, setView] = useState(params.get('unread') ? 'unread' : 'all');
  const [status, setStatus] = useState<string | null>('open');
  const [search, setSearch] = useState('');
  const [q] = useDebouncedValue(search.trim(), 300);
  const navigate = useNavigate();
  const list = useQuery({
    ...listConversationsOptions({
      query: {
        limit: 50,
        unread: view === 'unread' ? true : undefined,
        assigned_to: view === 'mine' ? 'me' : undefined,
        status: (status as ConversationStatus | null) ?? undefined,
        q: q || undefined,
      },
    }),
    refetchInterval: LIST_POLL_MS,
  });
  const selected = conversationId ? Number(conversationId) : null;
  const items = list.data?.items ?? [];

  return (
    <>
      <PageHeader title="Inbox" description="Answer your customers' WhatsApp messages." />
      <Grid>
        <Grid.Col span={{ base: 12, md: 4 }} display={{ base: selected ? 'none' : 'block', md: 'block' }}>
          <Card withBorder p="sm">
            <Stack gap="xs">
              <SegmentedControl
                size="xs"
                fullWidth
                value={view}
                onChange={setView}
                data={[
                  { value: 'all', label: 'All' },
                  { value: 'unread', label: 'Unread' },
                  { value: 'mine', label: 'Assigned to me' },
                ]}
                aria-label="Conversation filter"
              />
              <Group grow gap="xs">
                <Select
                  size="xs"
                  aria-label="Status"
                  placeholder="Any status"
                  clearable
                  data={['open', 'pending', 'closed', 'archived']}
                  value={status}
                  onChange={setStatus}
                />
                <TextInput size="xs" aria-label="Search conversations" placeholder="Search" value={search} onChange={(e) => setSearch(e.currentTarget.value)} />
              </Group>
              <QueryState isPending={list.isPending} error={list.error} isEmpty={items.length === 0} empty="No conversation matches. New customer messages appear here by themselves.">
                <ScrollArea.Autosize mah="calc(100vh - 300px)">
                  <Stack gap={2} role="list" aria-label="Conversations">
                    {items.map((c) => (
                      <ConversationRow key={c.id} conversation={c} active={c.id === selected} onOpen={() => navigate(`/inbox/${c.id}`)} />
                    ))}
                  </Stack>
                </ScrollArea.Autosize>
              </QueryState>
            </Stack>
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 8 }}>
          {selected ? (
            <Thread key={selected} conversationId={selected} onBack={() => navigate('/inbox')} />
          ) : (
            <Card withBorder>
              <EmptyState>Choose a conversation to read and answer it.</EmptyState>
            </Card>
          )}
        </Grid.Col>
      </Grid>
    </>
  );
}

function ConversationRow({ conversation: c, active, onOpen }: { conversation: ConversationOut; active: boolean; onOpen: () => void }) {
  return (
    <UnstyledButton onClick={onOpen} role="listitem" aria-current={active ? 'true' : undefined} p="xs" w="100%" style={{ borderRadius: 8, background: active ? 'var(--mantine-color-teal-0)' : undefined }}>
      <Group justify="space-between" wrap="nowrap">
        <Box style={{ minWidth: 0 }}>
          <Text size="sm" fw={c.unread_count > 0 ? 700 : 500} truncate>
            {c.contact.name ?? c.contact.phone}
          </Text>
          <Text size="xs" c="dimmed" truncate>
            {c.last_message_preview ?? 'No messages yet'}
          </Text>
        </Box>
        <Stack gap={2} align="flex-end">
          <Text size="xs" c="dimmed">
            {timeAgo(c.last_message_at)}
          </Text>
          {c.unread_count > 0 && (
            <Badge size="xs" circle aria-label={`${c.unread_count} unread`}>
              {c.unread_count}
            </Badge>
          )}
        </Stack>
      </Group>
    </UnstyledButton>
  );
}

function Thread({ conversationId, onBack }: { conversationId: number; onBack: () => void }) {
  const me = useMe();
  const queryClient = useQueryClient();
  const path = { conversation_id: conversationId };
  const conversation = useQuery({ ...getConversationOptions({ path }), refetchInterval: THREAD_POLL_MS });
  const messages = useQuery({ ...listMessagesOptions({ path, query: { limit: 50 } }), refetchInterval: THREAD_POLL_MS });
  const users = useQuery({ ...listUsersOptions({ query: { limit: 100 } }), enabled: can(me, 'users:read') });
  const [reply, setReply] = useState('');
  const writable = can(me, 'conversations:write');
  const refresh = () => invalidateOps(queryClient, 'getConversation', 'listConversations', 'listMessages');
  const onError = (err: unknown) => notifications.show({ color: 'red', title: 'Not done', message: errorMessage(err) });

  const markRead = useMutation({ ...markConversationReadMutation(), onSuccess: () => invalidateOps(queryClient, 'listConversations') });
  const unread = conversation.data?.unread_count ?? 0;
  useEffect(() => {
    if (unread > 0 && writable) markRead.mutate({ path });
  }, [unread, writable]);

  const send = useMutation({
    ...conversationsSendMessageMutation(),
    onSuccess: () => {
      setReply('');
      void refresh();
    },
    onError,
  });
  const update = useMutation({ ...updateConversationMutation(), onSuccess: refresh, onError });
  const archive = useMutation({ ...archiveConversationMutation(), onSuccess: refresh, onError });
  const unarchive = useMutation({ ...unarchiveConversationMutation(), onSuccess: refresh, onError });

  const c = conversation.data;
  const assigneeOptions = [
    { value: 'none', label: 'Unassigned' },
    ...(users.data ?? []).map((u) => ({ value: String(u.id), label: u.full_name ?? u.email })),
  ];
  if (me.id != null && !assigneeOptions.some((o) => o.value === String(me.id))) assigneeOptions.push({ value: String(me.id), label: 'Me' });
  if (c?.assigned_to != null && !assigneeOptions.some((o) => o.value === String(c.assigned_to))) {
    assigneeOptions.push({ value: String(c.assigned_to), label: `User #${c.assigned_to}` });
  }
  const thread = [...(messages.data?.items ?? [])].reverse();
  const viewport = useRef<HTMLDivElement>(null);
  const newestId = thread.at(-1)?.id;
  useEffect(() => {
    viewport.current?.scrollTo({ top: viewport.current.scrollHeight });
  }, [newestId]);

  return (
    <Card withBorder>
      <QueryState isPending={conversation.isPending} error={conversation.error}>
        {c && (
          <Stack>
            <Group justify="space-between" wrap="wrap">
              <Group gap="xs">
                <ActionIcon variant="subtle" hiddenFrom="md" onClick={onBack} aria-label="Back to conversations">
                  <IconArrowBackUp size={18} />
                </ActionIcon>
                <div>
                  <Title order={4}>{c.contact.name ?? c.contact.phone}</Title>
                  <Text size="xs" c="dimmed">
                    {c.contact.phone} · {c.status}
                  </Text>
                </div>
              </Group>
              {writable && (
                <Group gap="xs">
                  <Select
                    size="xs"
                    w={170}
                    aria-label="Assigned to"
                    allowDeselect={false}
                    data={assigneeOptions}
                    value={c.assigned_to != null ? String(c.assigned_to) : 'none'}
                    onChange={(v) => update.mutate({ path, body: { assigned_to: v && v !== 'none' ? Number(v) : null } })}
                  />
                  <Select
                    size="xs"
                    w={110}
                    aria-label="Conversation status"
                    allowDeselect={false}
                    data={['open', 'pending', 'closed']}
                    value={c.status === 'archived' ? null : c.status}
                    onChange={(v) => v && update.mutate({ path, body: { status: v as ConversationStatus } })}
                  />
                  {c.archived_at ? (
                    <Button size="xs" variant="default" onClick={() => unarchive.mutate({ path })}>
                      Unarchive
                    </Button>
                  ) : (
                    <Button size="xs" variant="default" leftSection={<IconArchive size={14} />} onClick={() => archive.mutate({ path })}>
                      Archive
                    </Button>
                  )}
                </Group>
              )}
            </Group>
            <Tabs defaultValue="messages">
              <Tabs.List>
                <Tabs.Tab value="messages">Messages</Tabs.Tab>
                <Tabs.Tab value="notes">Notes</Tabs.Tab>
              </Tabs.List>
              <Tabs.Panel value="messages" pt="sm">
                <QueryState isPending={messages.isPending} error={messages.error} isEmpty={thread.length === 0} empty="No messages in this conversation yet.">
                  <ScrollArea.Autosize mah="calc(100vh - 380px)" viewportRef={viewport}>
                    <Stack gap="xs" aria-label="Messages" role="log">
                      {thread.map((m) => {
                        const outbound = m.direction === 'outbound';
                        const tick = tickView(m.ticks.status);
                        return (
                          <Group key={m.id} justify={outbound ? 'flex-end' : 'flex-start'}>
                            <Box
                              maw="75%"
                              data-message-id={m.id}
                              p="xs"
                              style={{ borderRadius: 10, background: outbound ? 'var(--mantine-color-teal-1)' : 'var(--mantine-color-gray-1)' }}
                              data-direction={m.direction}
                            >
                              <Text size="sm" style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-word' }}>
                                {m.body ?? (m.media_url ? `[${m.media_type ?? 'media'}]` : `[${m.kind}]`)}
                              </Text>
                              <Group gap={4} justify="flex-end">
                                <Text size="xs" c="dimmed">
                                  {formatDateTime(m.created_at)}
                                </Text>
                                {outbound && (
                                  <Tooltip label={m.ticks.error_message ?? tick.label}>
                                    <Text size="xs" c={tick.color} aria-label={`Status: ${tick.label}`} data-status={m.ticks.status}>
                                      {tick.symbol}
                                    </Text>
                                  </Tooltip>
                                )}
                              </Group>
                            </Box>
                          </Group>
                        );
                      })}
                    </Stack>
                  </ScrollArea.Autosize>
                </QueryState>
                {can(me, 'whatsapp:send') && writable && (
                  <form
                    onSubmit={(e) => {
                      e.preventDefault();
                      if (reply.trim()) send.mutate({ path, body: { body: reply.trim() } });
                    }}
                  >
                    <Group align="flex-end" mt="sm" wrap="nowrap">
                      <Textarea
                        style={{ flex: 1 }}
                        label="Reply"
                        placeholder="Write a reply…"
                        autosize
                        minRows={1}
                        maxRows={5}
                        value={reply}
                        onChange={(e) => setReply(e.currentTarget.value)}
                        onKeyDown={(e) => {
                          if (e.key === 'Enter' && !e.shiftKey) {
                            e.preventDefault();
                            if (reply.trim()) send.mutate({ path, body: { body: reply.trim() } });
                          }
                        }}
                      />
                      <Button type="submit" leftSection={<IconSend size={16} />} loading={send.isPending} disabled={!reply.trim()}>
                        Send
                      </Button>
                    </Group>
                  </form>
                )}
              </Tabs.Panel>
              <Tabs.Panel value="notes" pt="sm">
                <Notes conversationId={conversationId} writable={writable} />
              </Tabs.Panel>
            </Tabs>
          </Stack>
        )}
      </QueryState>
    </Card>
  );
}

function Notes({ conversationId, writable }: { conversationId: number; writable: boolean }) {
  const queryClient = useQueryClient();
  const path = { conversation_id: conversationId };
  const notes = useQuery(listNotesOptions({ path, query: { limit: 50 } }));
  const [body, setBody] = useState('');
  const add = useMutation({
    ...addNoteMutation(),
    onSuccess: () => {
      setBody('');
      void invalidateOps(queryClient, 'listNotes');
    },
    onError: (err) => notifications.show({ color: 'red', message: errorMessage(err) }),
  });
  return (
    <Stack>
      <QueryState isPending={notes.isPending} error={notes.error} isEmpty={notes.data?.items.length === 0} empty="No internal notes yet. Notes are visible to your team only.">
        {notes.data?.items.map((n) => (
          <Card key={n.id} withBorder p="xs">
            <Text size="sm">{n.body}</Text>
            <Text size="xs" c="dimmed">
              {formatDateTime(n.created_at)}
            </Text>
          </Card>
        ))}
      </QueryState>
      {writable && (
        <Group align="flex-end" wrap="nowrap">
          <Textarea style={{ flex: 1 }} label="Add a note" value={body} onChange={(e) => setBody(e.currentTarget.value)} autosize minRows={1} />
          <Button disabled={!body.trim()} loading={add.isPending} onClick={() => add.mutate({ path, body: { body: body.trim() } })}>
            Add note
          </Button>
        </Group>
      )}
    </Stack>
  );
}
