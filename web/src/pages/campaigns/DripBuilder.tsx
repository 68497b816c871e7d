// The drip's steps in order: each with its message, its delay (after enrolment or the previous step) and
// an optional condition that decides whether the contact gets it.
import { ActionIcon, Badge, Button, Card, Group, NumberInput, Select, Stack, Text, TextInput } from '@mantine/core';
import { IconArrowDown, IconArrowUp, IconPlus, IconTrash } from '@tabler/icons-react';

import { MessageEditor } from './MessageEditor';
import { CONDITION_LABELS, CONDITION_TYPES, type ConditionType, DELAY_UNITS, type DelayFrom, type DelayUnit, type StepDraft, describeCondition, emptyStep, formatDelay, moveStep } from './steps';

interface Props {
  steps: StepDraft[];
  onChange: (steps: StepDraft[]) => void;
  readOnly?: boolean;
  /** Problems by step index (from the API or the local check). */
  errors?: Record<number, string>;
  extraVariables?: string[];
}

export function DripBuilder({ steps, onChange, readOnly, errors = {}, extraVariables }: Props) {
  const update = (index: number, patch: Partial<StepDraft>) => onChange(steps.map((s, i) => (i === index ? { ...s, ...patch } : s)));
  return (
    <Stack gap="sm">
      {steps.map((step, index) => {
        const first = index === 0;
        const needsTag = step.condition === 'has_tag' || step.condition === 'lacks_tag';
        const conditions = CONDITION_TYPES.filter((t) => !first || (t !== 'previous_read' && t !== 'previous_not_read'));
        return (
          <Card key={step.key} withBorder role="group" aria-label={`Step ${index + 1}`}>
            <Stack gap="xs">
              <Group justify="space-between" wrap="nowrap">
                <Group gap="xs">
                  <Badge variant="filled" color="teal">
                    Step {index + 1}
                  </Badge>
                  <Text size="sm" c="dimmed">
                    {formatDelay(step.delayValue, step.delayUnit, step.delayFrom, first)} · {describeCondition(step.condition, step.tag)}
                  </Text>
                </Group>
                {!readOnly && (
                  <Group gap={4} wrap="nowrap">
                    <ActionIcon variant="subtle" aria-label={`Move step ${index + 1} up`} disabled={first} onClick={() => onChange(moveStep(steps, index, index - 1))}>
                      <IconArrowUp size={16} />
                    </ActionIcon>
                    <ActionIcon
                      variant="subtle"
                      aria-label={`Move step ${index + 1} down`}
                      disabled={index === steps.length - 1}
                      onClick={() => onChange(moveStep(steps, index, index + 1))}
                    >
                      <IconArrowDown size={16} />
                    </ActionIcon>
                    <ActionIcon
                      variant="subtle"
                      color="red"
                      aria-label={`Remove step ${index + 1}`}
                      disabled={steps.length === 1}
                      onClick={() => onChange(steps.filter((_, i) => i !== index))}
                    >
                      <IconTrash size={16} />
                    </ActionIcon>
                  </Group>
                )}
              </Group>
              <TextInput label="Step name" placeholder="Welcome, Reminder…" value={step.name} onChange={(e) => update(index, { name: e.currentTarget.value })} readOnly={readOnly} />
              <Group align="flex-end" gap="xs" wrap="wrap">
                <NumberInput
                  label="Wait"
                  min={0}
                  max={100_000}
                  allowDecimal={false}
                  w={100}
                  value={step.delayValue}
                  onChange={(v) => update(index, { delayValue: typeof v === 'number' ? v : Number(v) || 0 })}
                  readOnly={readOnly}
                />
                <Select label="Unit" w={120} allowDeselect={false} data={DELAY_UNITS} value={step.delayUnit} onChange={(v) => update(index, { delayUnit: (v ?? 'minutes') as DelayUnit })} readOnly={readOnly} />
                <Select
                  label="After"
                  w={190}
                  allowDeselect={false}
                  data={[
                    { value: 'previous_step', label: first ? 'enrolment' : 'the previous step' },
                    { value: 'enrollment', label: 'enrolment' },
                  ]}
                  value={step.delayFrom}
                  onChange={(v) => update(index, { delayFrom: (v ?? 'previous_step') as DelayFrom })}
                  // The first step's delay always counts from enrolment.
                  disabled={first}
                  readOnly={readOnly}
                />
                <Select
                  label="Send only if"
                  placeholder="Always"
                  clearable
                  w={260}
                  data={conditions.map((t) => ({ value: t, label: CONDITION_LABELS[t] }))}
                  value={step.condition}
                  onChange={(v) => update(index, { condition: (v as ConditionType | null) ?? null })}
                  readOnly={readOnly}
                />
                {needsTag && <TextInput label="Tag" w={140} value={step.tag} onChange={(e) => update(index, { tag: e.currentTarget.value })} readOnly={readOnly} />}
              </Group>
              {step.mediaUrl && (
                <Text size="xs" c="dimmed">
                  {step.kind} attachment: {step.mediaUrl}
                </Text>
              )}
              <MessageEditor
                label={`Step ${index + 1} message`}
                value={step.body}
                onChange={(body) => update(index, { body })}
                error={errors[index]}
                readOnly={readOnly}
                extraVariables={extraVariables}
              />
            </Stack>
          </Card>
        );
      })}
      {!readOnly && steps.length < 50 && (
        <Group>
          <Button variant="light" leftSection={<IconPlus size={16} />} onClick={() => onChange([...steps, emptyStep(steps.length === 0)])}>
            Add step
          </Button>
        </Group>
      )}
    </Stack>
  );
}
