// Drip steps as the builder edits them, the API's StepIn they become, and how a delay or condition reads.
import type { Condition, StepIn, StepOut } from '../../client';

export type DelayUnit = NonNullable<StepIn['delay_unit']>;
export type DelayFrom = NonNullable<StepIn['delay_from']>;
export type ConditionType = Condition['type'];

export const DELAY_UNITS: DelayUnit[] = ['minutes', 'hours', 'days', 'weeks'];

export const CONDITION_LABELS: Record<ConditionType, string> = {
  previous_read: 'the previous message was read',
  previous_not_read: 'the previous message was not read',
  replied: 'the contact replied',
  not_replied: 'the contact has not replied',
  has_tag: 'the contact has the tag',
  lacks_tag: 'the contact lacks the tag',
};

export const CONDITION_TYPES = Object.keys(CONDITION_LABELS) as ConditionType[];

export interface StepDraft {
  /** Stable React key; not sent. */
  key: string;
  name: string;
  body: string;
  delayValue: number;
  delayUnit: DelayUnit;
  delayFrom: DelayFrom;
  condition: ConditionType | null;
  tag: string;
  /** Media and WhatsApp-template parts set through the API, kept as they are. */
  kind: StepIn['kind'];
  mediaUrl: string | null;
  cloudTemplate: StepIn['cloud_template'];
}

let nextKey = 0;
function newKey(): string {
  nextKey += 1;
  return `step-${nextKey}`;
}

export function emptyStep(first = false): StepDraft {
  return {
    key: newKey(),
    name: '',
    body: '',
    delayValue: first ? 0 : 1,
    delayUnit: first ? 'minutes' : 'days',
    delayFrom: 'previous_step',
    condition: null,
    tag: '',
    kind: 'text',
    mediaUrl: null,
    cloudTemplate: null,
  };
}

function singular(unit: DelayUnit): string {
  return unit.slice(0, -1);
}

/** "immediately", "2 days after the previous step", "1 hour after enrolment". */
export function formatDelay(value: number, unit: DelayUnit, from: DelayFrom, first = false): string {
  const anchor = from === 'enrollment' || first ? 'enrolment' : 'the previous step';
  if (value <= 0) return from === 'enrollment' || first ? 'right at enrolment' : 'right after the previous step';
  return `${value} ${value === 1 ? singular(unit) : unit} after ${anchor}`;
}

export function describeCondition(type: ConditionType | null, tag?: string | null): string {
  if (!type) return 'always';
  const label = CONDITION_LABELS[type];
  return type === 'has_tag' || type === 'lacks_tag' ? `only if ${label} "${tag ?? ''}"` : `only if ${label}`;
}

export function toStepIn(step: StepDraft): StepIn {
  const condition: Condition | null = step.condition
    ? step.condition === 'has_tag' || step.condition === 'lacks_tag'
      ? { type: step.condition, tag: step.tag.trim() }
      : { type: step.condition }
    : null;
  return {
    name: step.name.trim() || null,
    body: step.body,
    kind: step.kind,
    media_url: step.mediaUrl,
    cloud_template: step.cloudTemplate,
    delay_value: Math.max(0, Math.floor(step.delayValue)),
    delay_unit: step.delayUnit,
    delay_from: step.delayFrom,
    condition,
  };
}

export function fromStepOut(step: StepOut): StepDraft {
  return {
    key: newKey(),
    name: step.name ?? '',
    body: step.body ?? '',
    delayValue: step.delay_value ?? 0,
    delayUnit: step.delay_unit ?? 'minutes',
    delayFrom: step.delay_from ?? 'previous_step',
    condition: step.condition?.type ?? null,
    tag: step.condition?.tag ?? '',
    kind: step.kind ?? 'text',
    mediaUrl: step.media_url ?? null,
    cloudTemplate: step.cloud_template ?? null,
  };
}

/** The first problem the API would report, found before saving: `{ field, problem }` like the API's details. */
export function checkSteps(steps: StepDraft[]): { field: string; problem: string } | null {
  if (steps.length === 0) return { field: 'steps', problem: 'add at least one step' };
  for (const [index, step] of steps.entries()) {
    if (!step.body.trim() && !step.mediaUrl && !step.cloudTemplate) return { field: `steps.${index}.body`, problem: 'write the message' };
    if ((step.condition === 'has_tag' || step.condition === 'lacks_tag') && !step.tag.trim()) {
      return { field: `steps.${index}.condition`, problem: 'choose the tag' };
    }
    if (index === 0 && (step.condition === 'previous_read' || step.condition === 'previous_not_read')) {
      return { field: 'steps.0.condition', problem: 'the first step has no previous message' };
    }
  }
  return null;
}

export function moveStep<T>(list: T[], from: number, to: number): T[] {
  if (to < 0 || to >= list.length || from === to) return list;
  const next = [...list];
  const [item] = next.splice(from, 1);
  next.splice(to, 0, item as T);
  return next;
}
