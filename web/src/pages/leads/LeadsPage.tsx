// Leads: the pipeline board (drag a card to another stage, or use its "Move to" menu from the keyboard)
// and a list with hot/overdue filters, assignment and bulk actions.
import {
  DndContext,
  type DragEndEvent,
  KeyboardSensor,
  PointerSensor,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
} from '@dnd-kit/core';
import { Badge, Button, Card, Checkbox, Group, Menu, Modal, ScrollArea, SegmentedControl, Select, Stack, Table, Tabs, Text, TextInput } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { IconDots } from '@tabler/icons-react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

import { invalidateOps } from '../../api/invalidate';
import { useMe } from '../../auth/AuthProvider';
import { type LeadOut, type LeadStatus, bulkUpdateLeadStatus, updateLeadStatus } from '../../client';
import {
  bulkAssignLeadsMutation,
  getPipelineStatsOptions,
  listHotLeadsOptions,
  listLeadsOptions,
  listOverdueLeadsOptions,
  listUsersOptions,
} from '../../client/@tanstack/react-query.gen';
import { PageHeader } from '../../components/PageHeader';
import { EmptyState, QueryState } from '../../components/QueryState';
import { errorMessage } from '../../lib/errors';
import { formatDateTime } from '../../lib/format';
import { can } from '../../lib/nav';

const STAGES: LeadStatus[] = ['new', 'contacted', 'qualified', 'proposal', 'won', 'lost'];
const STAGE_COLOR: Record<LeadStatus, string> = { new: 'blue', contacted: 'cyan', qualified: 'teal', proposal: 'violet', won: 'green', lost: 'gray' };
const BOARD_LIMIT = 30;

interface PendingMove {
  ids: number[];
  status: LeadStatus;
}

/** Moves leads to a stage; a move to "lost" first asks for the reason (the API requires one). */
function useMoveLeads() {
  const queryClient = useQueryClient();
  const [askReason, setAskReason] = useState<PendingMove | null>(null);
  const move = useMutation({
    mutationFn: async ({ ids, status, lostReason }: PendingMove & { lostReason?: string }) => {
      const extra = status === 'lost' ? { lost_reason: lostReason } : {};
      if (ids.length === 1) {
        await updateLeadStatus({ path: { lead_id: ids[0]! }, body: { status, ...extra }, throwOnError: true });
      } else {
        await bulkUpdateLeadStatus({ body: { ids, status, ...extra }, throwOnError: true });
      }
    },
    onSuccess: (_, { ids, status }) => notifications.show({ color: 'teal', message: `${ids.length === 1 ? 'Lead' : `${ids.length} leads`} moved to ${status}` }),
    onError: (err) => notifications.show({ color: 'red', title: 'Not moved', message: errorMessage(err) }),
    onSettled: () => invalidateOps(queryClient, 'listLeads', 'getPipelineStats', 'listHotLeads', 'listOverdueLeads'),
  });
  function request(ids: number[], status: LeadStatus) {
    if (status === 'lost') setAskReason({ ids, status });
    else move.mutate({ ids, status });
  }
  const reasonModal = <LostReasonModal pending={askReason} onClose={() => setAskReason(null)} onConfirm={(reason) => askReason && move.mutate({ ...askReason, lostReason: reason })} />;
  return { request, reasonModal, isPending: move.isPending };
}

function LostReasonModal({ pending, onClose, onConfirm }: { pending: PendingMove | null; onClose: () => void; onConfirm: (reason: string) => void }) {
  const [reason, setReason] = useState('');
  return (
    <Modal opened={!!pending} onClose={onClose} title="Why was this lost?">
      <Stack>
        <TextInput label="Lost reason" value={reason} onChange={(e) => setReason(e.currentTarget.value)} data-autofocus />
        <Button
          disabled={!reason.trim()}
          onClick={() => {
            onConfirm(reason.trim());
            setReason('');
            onClose();
          }}
        >
          Mark as lost
        </Button>
      </Stack>
    </Modal>
  );
}

export function LeadsPage() {
  return (
    <>
      <PageHeader title="Leads" description="Move deals through your pipeline." />
      <Tabs defaultValue="board" keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="board">Board</Tabs.Tab>
          <Tabs.Tab value="list">List</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="board">
          <Board />
        </Tabs.Panel>
        <Tabs.Panel value="list">
          <LeadList />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}

function Board() {
  const me = useMe();
  const writable = can(me, 'leads:write');
  const stats = useQuery(getPipelineStatsOptions());
  const { request, reasonModal } = useMoveLeads();
  const sensors = useSensors(useSensor(PointerSensor, { activationConstraint: { distance: 5 } }), useSensor(KeyboardSensor));
  function onDragEnd(event: DragEndEvent) {
    const lead = event.active.data.current as LeadOut | undefined;
    const to = event.over?.id as LeadStatus | undefined;
    if (lead && to && lead.status !== to) request([lead.id], to);
  }
  return (
    <>
      <DndContext sensors={sensors} onDragEnd={onDragEnd}>
        <ScrollArea type="auto" offsetScrollbars>
          <Group align="flex-start" wrap="nowrap" gap="sm" pb="sm">
            {STAGES.map((stage) => (
              <Column key={stage} stage={stage} count={stats.data?.stages.find((s) => s.status === stage)?.count} writable={writable} onMove={request} />
            ))}
          </Group>
        </ScrollArea>
      </DndContext>
      {reasonModal}
    </>
  );
}

function Column({ stage, count, writable, onMove }: { stage: LeadStatus; count: number | undefined; writable: boolean; onMove: (ids: number[], s: LeadStatus) => void }) {
  const { setNodeRef, isOver } = useDroppable({ id: stage });
  const leads = useQuery(listLeadsOptions({ query: { status: stage, sort: 'score', limit: BOARD_LIMIT } }));
  return (
    <Card
      ref={setNodeRef}
      withBorder
      w={250}
      miw={250}
      p="xs"
      bg={isOver ? 'teal.0' : 'gray.0'}
      data-stage={stage}
      aria-label={`Stage ${stage}`}
      role="region"
    >
      <Group justify="space-between" mb="xs">
        <Badge color={STAGE_COLOR[stage]}>{stage}</Badge>
        <Text size="xs" c="dimmed">
          {count ?? '…'}
        </Text>
      </Group>
      <QueryState isPending={leads.isPending} error={leads.error} isEmpty={leads.data?.items.length === 0} empty="Drop a lead here">
        <ScrollArea.Autosize mah="calc(100vh - 260px)" type="auto">
          <Stack gap="xs" mih={60}>
            {leads.data?.items.map((lead) => (
              <LeadCard key={lead.id} lead={lead} writable={writable} onMove={onMove} />
            ))}
            {leads.data?.next_cursor && (
              <Text size="xs" c="dimmed" ta="center">
                Showing the top {BOARD_LIMIT} by score; see the list for all.
              </Text>
            )}
          </Stack>
        </ScrollArea.Autosize>
      </QueryState>
    </Card>
  );
}

function LeadCard({ lead, writable, onMove }: { lead: LeadOut; writable: boolean; onMove: (ids: number[], s: LeadStatus) => void }) {
  const { attributes, listeners, setNodeRef, transform, isDragging } = useDraggable({ id: lead.id, data: lead, disabled: !writable });
  const style = transform ? { transform: `translate3d(${transform.x}px, ${transform.y}px, 0)`, zIndex: 10 } : undefined;
  const title = lead.title ?? lead.contact.name ?? lead.contact.phone;
  return (
    <Card ref={setNodeRef} withBorder p="xs" shadow={isDragging ? 'md' : undefined} style={{ ...style, cursor: writable ? 'grab' : undefined, touchAction: 'none' }} data-lead-id={lead.id} {...listeners} {...attributes} aria-label={`Lead ${title}`}>
      <Group justify="space-between" wrap="nowrap" gap={4}>
        <Text size="sm" fw={500} truncate>
          {title}
        </Text>
        {writable && (
          <Menu position="bottom-end" withinPortal>
            <Menu.Target>
              <Button size="compact-xs" variant="subtle" aria-label={`Move ${title}`} onPointerDown={(e) => e.stopPropagation()}>
                <IconDots size={14} />
              </Button>
            </Menu.Target>
            <Menu.Dropdown>
              <Menu.Label>Move to</Menu.Label>
              {STAGES.filter((s) => s !== lead.status).map((s) => (
                <Menu.Item key={s} onClick={() => onMove([lead.id], s)}>
                  {s}
                </Menu.Item>
              ))}
            </Menu.Dropdown>
          </Menu>
        )}
      </Group>
      <Text size="xs" c="dimmed" truncate>
        {lead.contact.name ?? lead.contact.phone}
      </Text>
      <Group gap={4} mt={4}>
        <Badge size="xs" variant="light">
          score {lead.score}
        </Badge>
        {lead.value && (
          <Badge size="xs" variant="outline">
            {lead.value} {lead.currency}
          </Badge>
        )}
        {lead.priority === 'high' || lead.priority === 'urgent' ? (
          <Badge size="xs" color="red" variant="light">
            {lead.priority}
          </Badge>
        ) : null}
      </Group>
    </Card>
  );
}

function LeadList() {
  const me = useMe();
  const queryClient = useQueryClient();
  const writable = can(me, 'leads:write');
  const [view, setView] = useState('all');
  const [selected, setSelected] = useState<number[]>([]);
  const options = { query: { limit: 50 } };
  const all = useQuery({ ...listLeadsOptions({ query: { limit: 50, sort: 'created' } }), enabled: view === 'all' });
  const hot = useQuery({ ...listHotLeadsOptions(options), enabled: view === 'hot' });
  const overdue = useQuery({ ...listOverdueLeadsOptions(options), enabled: view === 'overdue' });
  const current = view === 'hot' ? hot : view === 'overdue' ? overdue : all;
  const users = useQuery({ ...listUsersOptions({ query: { limit: 100 } }), enabled: can(me, 'users:read') });
  const { request, reasonModal, isPending } = useMoveLeads();
  const assign = useMutation({
    ...bulkAssignLeadsMutation(),
    onSuccess: (result) => {
      notifications.show({ color: 'teal', message: `${result.updated} leads assigned` });
      setSelected([]);
      return invalidateOps(queryClient, 'listLeads', 'listHotLeads', 'listOverdueLeads');
    },
    onError: (err) => notifications.show({ color: 'red', message: errorMessage(err) }),
  });
  const items = current.data?.items ?? [];
  const userName = (id: number | null) => (id == null ? '—' : id === me.id ? 'Me' : (users.data?.find((u) => u.id === id)?.full_name ?? `User #${id}`));
  const assignees = [
    ...(me.id != null ? [{ value: String(me.id), label: 'Me' }] : []),
    ...(users.data ?? []).filter((u) => u.id !== me.id).map((u) => ({ value: String(u.id), label: u.full_name ?? u.email })),
    { value: 'none', label: 'Nobody' },
  ];
  return (
    <Card withBorder>
      <Group justify="space-between" mb="sm" wrap="wrap">
        <SegmentedControl
          value={view}
          onChange={(v) => {
            setView(v);
            setSelected([]);
          }}
          data={[
            { value: 'all', label: 'All' },
            { value: 'hot', label: 'Hot' },
            { value: 'overdue', label: 'Overdue follow-up' },
          ]}
          aria-label="Lead filter"
        />
        {writable && selected.length > 0 && (
          <Group gap="xs">
            <Text size="sm">{selected.length} selected</Text>
            <Select size="xs" w={150} placeholder="Move to…" aria-label="Move selected to" data={STAGES} value={null} disabled={isPending} onChange={(s) => s && request(selected, s as LeadStatus)} />
            <Select
              size="xs"
              w={150}
              placeholder="Assign to…"
              aria-label="Assign selected to"
              data={assignees}
              value={null}
              onChange={(v) => v && assign.mutate({ body: { ids: selected, assigned_to: v === 'none' ? null : Number(v) } })}
            />
          </Group>
        )}
      </Group>
      <QueryState isPending={current.isPending} error={current.error} isEmpty={items.length === 0} empty={view === 'all' ? 'No leads yet. Leads come from conversations and imports.' : 'Nothing here: no lead matches this filter.'}>
        <Table.ScrollContainer minWidth={700}>
          <Table aria-label="Leads">
            <Table.Thead>
              <Table.Tr>
                {writable && (
                  <Table.Th w={40}>
                    <Checkbox
                      aria-label="Select all"
                      checked={items.length > 0 && selected.length === items.length}
                      indeterminate={selected.length > 0 && selected.length < items.length}
                      onChange={(e) => setSelected(e.currentTarget.checked ? items.map((l) => l.id) : [])}
                    />
                  </Table.Th>
                )}
                <Table.Th>Lead</Table.Th>
                <Table.Th>Stage</Table.Th>
                <Table.Th>Score</Table.Th>
                <Table.Th>Assigned to</Table.Th>
                <Table.Th>Next follow-up</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((lead) => (
                <Table.Tr key={lead.id}>
                  {writable && (
                    <Table.Td>
                      <Checkbox
                        aria-label={`Select lead ${lead.id}`}
                        checked={selected.includes(lead.id)}
                        onChange={(e) => {
                          const checked = e.currentTarget.checked;
                          setSelected((s) => (checked ? [...s, lead.id] : s.filter((id) => id !== lead.id)));
                        }}
                      />
                    </Table.Td>
                  )}
                  <Table.Td>
                    <Text size="sm" fw={500}>
                      {lead.title ?? `Lead #${lead.id}`}
                    </Text>
                    <Text size="xs" c="dimmed">
                      {lead.contact.name ?? lead.contact.phone}
                    </Text>
                  </Table.Td>
                  <Table.Td>
                    <Badge color={STAGE_COLOR[lead.status]}>{lead.status}</Badge>
                  </Table.Td>
                  <Table.Td>{lead.score}</Table.Td>
                  <Table.Td>{userName(lead.assigned_to)}</Table.Td>
                  <Table.Td>{formatDateTime(lead.next_follow_up_at)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
        {current.data?.next_cursor && <EmptyState>Showing the first 50 leads.</EmptyState>}
      </QueryState>
      {reasonModal}
    </Card>
  );
}
