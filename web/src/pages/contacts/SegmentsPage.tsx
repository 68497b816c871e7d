// Segments: saved audiences, and a builder whose matching-contact count updates as the rules change.
import { ActionIcon, Alert, Anchor, Badge, Button, Card, Grid, Group, SegmentedControl, Select, Stack, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { IconPlus, IconTrash } from '@tabler/icons-react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router-dom';

import { invalidateOps } from '../../api/invalidate';
import { useMe } from '../../auth/AuthProvider';
import { type SegmentOut, countRules } from '../../client';
import { createSegmentMutation, deleteSegmentMutation, listSegmentsOptions, updateSegmentMutation } from '../../client/@tanstack/react-query.gen';
import { PageHeader } from '../../components/PageHeader';
import { QueryState } from '../../components/QueryState';
import { errorMessage } from '../../lib/errors';
import { formatNumber } from '../../lib/format';
import { can } from '../../lib/nav';
import { type Condition, FIELDS, type Match, OP_LABELS, emptyCondition, fromRules, opsFor, toRules } from '../../lib/segmentRules';

const VALUE_HINT: Record<string, string> = {
  tags: 'vip, newsletter',
  country: 'US',
  created_at: '30',
  last_contacted_at: '30',
  opted_out: 'true or false',
};

export function SegmentsPage() {
  const me = useMe();
  const queryClient = useQueryClient();
  const segments = useQuery(listSegmentsOptions({ query: { limit: 100 } }));
  const [editing, setEditing] = useState<SegmentOut | null>(null);
  const [builderKey, setBuilderKey] = useState(0);
  const remove = useMutation({
    ...deleteSegmentMutation(),
    onSuccess: () => invalidateOps(queryClient, 'listSegments'),
    onError: (err) => notifications.show({ color: 'red', message: errorMessage(err) }),
  });
  return (
    <>
      <PageHeader title="Segments" description="Describe an audience once; it stays up to date as contacts change." />
      <Grid>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Card withBorder>
            <Group justify="space-between" mb="xs">
              <Title order={4}>Saved segments</Title>
              <Button
                size="xs"
                variant="light"
                onClick={() => {
                  setEditing(null);
                  setBuilderKey((k) => k + 1);
                }}
              >
                New
              </Button>
            </Group>
            <QueryState isPending={segments.isPending} error={segments.error} isEmpty={segments.data?.items.length === 0} empty="No segments yet: build one with the form.">
              <Stack gap="xs" aria-label="Saved segments">
                {segments.data?.items.map((s) => (
                  <Group key={s.id} justify="space-between" wrap="nowrap">
                    <Anchor
                      size="sm"
                      onClick={() => {
                        setEditing(s);
                        setBuilderKey((k) => k + 1);
                      }}
                    >
                      {s.name}
                    </Anchor>
                    {can(me, 'contacts:write') && (
                      <ActionIcon variant="subtle" color="red" aria-label={`Delete segment ${s.name}`} onClick={() => remove.mutate({ path: { segment_id: s.id } })}>
                        <IconTrash size={16} />
                      </ActionIcon>
                    )}
                  </Group>
                ))}
              </Stack>
            </QueryState>
          </Card>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 8 }}>
          <SegmentBuilder key={builderKey} segment={editing} onSaved={setEditing} />
        </Grid.Col>
      </Grid>
    </>
  );
}

function SegmentBuilder({ segment, onSaved }: { segment: SegmentOut | null; onSaved: (s: SegmentOut) => void }) {
  const me = useMe();
  const queryClient = useQueryClient();
  const initial = segment ? fromRules(segment.rules) : null;
  const [name, setName] = useState(segment?.name ?? '');
  const [match, setMatch] = useState<Match>(initial?.match ?? 'all');
  const [conditions, setConditions] = useState<Condition[]>(initial?.conditions ?? [emptyCondition()]);
  const rules = toRules(match, conditions);
  const [debouncedRules] = useDebouncedValue(rules, 300);
  const count = useQuery({
    queryKey: ['segmentCount', debouncedRules],
    queryFn: async () => (await countRules({ body: { rules: debouncedRules }, throwOnError: true })).data.count,
    placeholderData: keepPreviousData,
    retry: false,
  });
  const onSuccess = async (saved: SegmentOut) => {
    await invalidateOps(queryClient, 'listSegments');
    notifications.show({ color: 'teal', message: `Segment "${saved.name}" saved` });
    onSaved(saved);
  };
  const create = useMutation({ ...createSegmentMutation(), onSuccess });
  const update = useMutation({ ...updateSegmentMutation(), onSuccess });
  const saveError = create.error ?? update.error;

  const setCondition = (index: number, patch: Partial<Condition>) =>
    setConditions((list) => list.map((c, i) => (i === index ? { ...c, ...patch } : c)));

  function save() {
    if (segment) update.mutate({ path: { segment_id: segment.id }, body: { name, rules } });
    else create.mutate({ body: { name, rules, description: null } });
  }

  return (
    <Card withBorder>
      <Stack>
        <Group justify="space-between">
          <Title order={4}>{segment ? `Edit "${segment.name}"` : 'New segment'}</Title>
          <Badge size="lg" variant="light" aria-live="polite" aria-label="Matching contacts">
            {count.isError ? 'rules incomplete' : count.data == null ? '…' : `${formatNumber(count.data)} contacts`}
          </Badge>
        </Group>
        {segment && !initial && <Alert color="yellow">This segment's rules are nested; saving here replaces them with the rules below.</Alert>}
        <TextInput label="Segment name" value={name} onChange={(e) => setName(e.currentTarget.value)} required />
        <Group gap="xs">
          <Text size="sm">Contacts that match</Text>
          <SegmentedControl
            size="xs"
            value={match}
            onChange={(v) => setMatch(v as Match)}
            data={[
              { value: 'all', label: 'all conditions' },
              { value: 'any', label: 'any condition' },
            ]}
          />
        </Group>
        {conditions.map((c, index) => {
          const isCustom = c.field.startsWith('custom');
          const ops = opsFor(c.field);
          return (
            <Group key={index} align="flex-end" wrap="wrap" gap="xs" aria-label={`Condition ${index + 1}`} role="group">
              <Select
                label="Field"
                size="xs"
                w={150}
                allowDeselect={false}
                data={FIELDS.map((f) => ({ value: f, label: f.replace('_', ' ') }))}
                value={isCustom ? 'custom' : c.field}
                onChange={(field) => {
                  const next = field === 'custom' ? 'custom.' : (field ?? 'tags');
                  setCondition(index, { field: next, op: opsFor(next)[0] ?? 'eq', value: '' });
                }}
              />
              {isCustom && (
                <TextInput label="Custom field" size="xs" w={120} value={c.field.slice('custom.'.length)} onChange={(e) => setCondition(index, { field: `custom.${e.currentTarget.value.trim()}` })} />
              )}
              <Select
                label="Operator"
                size="xs"
                w={170}
                allowDeselect={false}
                data={ops.map((op) => ({ value: op, label: OP_LABELS[op] ?? op }))}
                value={ops.includes(c.op) ? c.op : ops[0]}
                onChange={(op) => setCondition(index, { op: op ?? ops[0] })}
              />
              {c.op !== 'is_null' && c.op !== 'exists' && (
                <TextInput label="Value" size="xs" w={200} placeholder={VALUE_HINT[c.field] ?? ''} value={c.value} onChange={(e) => setCondition(index, { value: e.currentTarget.value })} />
              )}
              <ActionIcon variant="subtle" color="red" aria-label={`Remove condition ${index + 1}`} onClick={() => setConditions((list) => list.filter((_, i) => i !== index))}>
                <IconTrash size={16} />
              </ActionIcon>
            </Group>
          );
        })}
        <Group>
          <Button size="xs" variant="light" leftSection={<IconPlus size={14} />} onClick={() => setConditions((list) => [...list, emptyCondition()])}>
            Add condition
          </Button>
        </Group>
        {count.isError && (
          <Text size="sm" c="orange">
            {errorMessage(count.error)}
          </Text>
        )}
        {saveError && (
          <Alert color="red" role="alert">
            {errorMessage(saveError)}
          </Alert>
        )}
        {can(me, 'contacts:write') && (
          <Group justify="flex-end">
            {segment && (
              <Button component={Link} to={`/contacts?segment=${segment.id}`} variant="default">
                View contacts
              </Button>
            )}
            <Button onClick={save} disabled={!name.trim()} loading={create.isPending || update.isPending}>
              Save segment
            </Button>
          </Group>
        )}
      </Stack>
    </Card>
  );
}
