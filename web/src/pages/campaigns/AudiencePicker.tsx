// Who gets the campaign: everyone, tags, a saved segment or ad-hoc rules, with a live count of matches.
import { ActionIcon, Badge, Button, Group, SegmentedControl, Select, Stack, TagsInput, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { IconPlus, IconTrash } from '@tabler/icons-react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';

import { countRules, countSegment } from '../../client';
import { listSegmentsOptions } from '../../client/@tanstack/react-query.gen';
import { errorMessage } from '../../lib/errors';
import { formatNumber } from '../../lib/format';
import { type Condition, FIELDS, OP_LABELS, emptyCondition, opsFor } from '../../lib/segmentRules';
import { type AudienceDraft, type AudienceMode, countRequest } from './audience';

interface Props {
  value: AudienceDraft;
  onChange: (next: AudienceDraft) => void;
  readOnly?: boolean;
  error?: string | null;
}

const MODES: { value: AudienceMode; label: string }[] = [
  { value: 'all', label: 'All contacts' },
  { value: 'tags', label: 'Tags' },
  { value: 'segment', label: 'Segment' },
  { value: 'filter', label: 'Filter' },
];

function useAudienceCount(draft: AudienceDraft) {
  const [debounced] = useDebouncedValue(draft, 300);
  const request = countRequest(debounced);
  return useQuery({
    queryKey: ['campaignAudienceCount', request],
    queryFn: async () => {
      if (!request) return null;
      if (request.kind === 'segment') {
        return (await countSegment({ path: { segment_id: request.segmentId }, throwOnError: true })).data.count;
      }
      return (await countRules({ body: { rules: request.rules }, throwOnError: true })).data.count;
    },
    enabled: !!request,
    placeholderData: keepPreviousData,
    retry: false,
  });
}

export function AudiencePicker({ value, onChange, readOnly, error }: Props) {
  const segments = useQuery(listSegmentsOptions({ query: { limit: 100 } }));
  const count = useAudienceCount(value);
  const complete = countRequest(value) !== null;
  const modes = value.mode === 'contacts' ? [...MODES, { value: 'contacts' as const, label: 'Chosen contacts' }] : MODES;
  const set = (patch: Partial<AudienceDraft>) => onChange({ ...value, ...patch });
  const setCondition = (index: number, patch: Partial<Condition>) =>
    set({ conditions: value.conditions.map((c, i) => (i === index ? { ...c, ...patch } : c)) });

  let countText: string;
  if (value.mode === 'contacts') countText = `${formatNumber(value.contactIds.length)} contacts`;
  else if (!complete) countText = 'choose an audience';
  else if (count.isError) countText = 'rules incomplete';
  else countText = count.data == null ? '…' : `${formatNumber(count.data)} contacts`;

  return (
    <Stack gap="sm">
      <Group justify="space-between" wrap="wrap">
        <SegmentedControl
          aria-label="Audience type"
          value={value.mode}
          onChange={(mode) => set({ mode: mode as AudienceMode })}
          data={modes}
          disabled={readOnly}
        />
        <Badge size="lg" variant="light" aria-live="polite" aria-label="Audience size">
          {countText}
        </Badge>
      </Group>
      {value.mode === 'all' && (
        <Text size="sm" c="dimmed">
          Every contact in the tenant; opted-out and blocked contacts are skipped when the campaign starts.
        </Text>
      )}
      {value.mode === 'tags' && (
        <TagsInput
          label="Contacts with any of these tags"
          placeholder="Type a tag, Enter"
          value={value.tags}
          onChange={(tags) => set({ tags })}
          readOnly={readOnly}
        />
      )}
      {value.mode === 'segment' && (
        <Select
          label="Saved segment"
          placeholder="Choose a segment"
          searchable
          data={(segments.data?.items ?? []).map((s) => ({ value: String(s.id), label: s.name }))}
          value={value.segmentId}
          onChange={(segmentId) => set({ segmentId })}
          readOnly={readOnly}
        />
      )}
      {value.mode === 'filter' && (
        <Stack gap="xs">
          <Group gap="xs">
            <Text size="sm">Contacts that match</Text>
            <SegmentedControl
              size="xs"
              value={value.match}
              onChange={(match) => set({ match: match as AudienceDraft['match'] })}
              data={[
                { value: 'all', label: 'all conditions' },
                { value: 'any', label: 'any condition' },
              ]}
              disabled={readOnly}
            />
          </Group>
          {value.conditions.map((c, index) => {
            const ops = opsFor(c.field);
            const isCustom = c.field.startsWith('custom');
            return (
              <Group key={index} align="flex-end" gap="xs" wrap="wrap" role="group" aria-label={`Audience condition ${index + 1}`}>
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
                  readOnly={readOnly}
                />
                {isCustom && (
                  <TextInput
                    label="Custom field"
                    size="xs"
                    w={120}
                    value={c.field.slice('custom.'.length)}
                    onChange={(e) => setCondition(index, { field: `custom.${e.currentTarget.value.trim()}` })}
                    readOnly={readOnly}
                  />
                )}
                <Select
                  label="Operator"
                  size="xs"
                  w={170}
                  allowDeselect={false}
                  data={ops.map((op) => ({ value: op, label: OP_LABELS[op] ?? op }))}
                  value={ops.includes(c.op) ? c.op : ops[0]}
                  onChange={(op) => setCondition(index, { op: op ?? ops[0] })}
                  readOnly={readOnly}
                />
                {c.op !== 'is_null' && c.op !== 'exists' && (
                  <TextInput label="Value" size="xs" w={200} value={c.value} onChange={(e) => setCondition(index, { value: e.currentTarget.value })} readOnly={readOnly} />
                )}
                {!readOnly && (
                  <ActionIcon
                    variant="subtle"
                    color="red"
                    aria-label={`Remove audience condition ${index + 1}`}
                    onClick={() => set({ conditions: value.conditions.filter((_, i) => i !== index) })}
                  >
                    <IconTrash size={16} />
                  </ActionIcon>
                )}
              </Group>
            );
          })}
          {!readOnly && (
            <Group>
              <Button size="xs" variant="light" leftSection={<IconPlus size={14} />} onClick={() => set({ conditions: [...value.conditions, emptyCondition()] })}>
                Add condition
              </Button>
            </Group>
          )}
        </Stack>
      )}
      {value.mode === 'contacts' && (
        <Text size="sm" c="dimmed">
          {formatNumber(value.contactIds.length)} contacts chosen through the API.
        </Text>
      )}
      {count.isError && complete && (
        <Text size="sm" c="orange">
          {errorMessage(count.error)}
        </Text>
      )}
      {error && (
        <Text size="sm" c="red" role="alert">
          {error}
        </Text>
      )}
    </Stack>
  );
}
