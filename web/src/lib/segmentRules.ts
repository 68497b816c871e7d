// The segment builder's model: a flat list of conditions joined by "all" or "any", turned into the API's
// rule tree ({"all": [{"field", "op", "value"}, ...]}). Values are typed here the way the API expects.

export type Match = 'all' | 'any';

export interface Condition {
  field: string;
  op: string;
  value: string;
}

type Kind = 'list' | 'enum' | 'text' | 'date' | 'bool' | 'custom';

const FIELD_KIND: Record<string, Kind> = {
  tags: 'list',
  status: 'enum',
  priority: 'enum',
  source: 'enum',
  country: 'enum',
  language: 'enum',
  name: 'text',
  email: 'text',
  phone: 'text',
  created_at: 'date',
  last_contacted_at: 'date',
  opted_out: 'bool',
};

export const FIELDS = [...Object.keys(FIELD_KIND), 'custom'];

const OPS: Record<Kind, string[]> = {
  list: ['has_any', 'has_all', 'has_none'],
  enum: ['eq', 'neq', 'in', 'not_in'],
  text: ['contains', 'starts_with', 'eq'],
  date: ['within_days', 'before', 'after', 'is_null'],
  bool: ['eq'],
  custom: ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'contains', 'exists'],
};

export const OP_LABELS: Record<string, string> = {
  has_any: 'has any of',
  has_all: 'has all of',
  has_none: 'has none of',
  eq: 'is',
  neq: 'is not',
  in: 'is one of',
  not_in: 'is none of',
  contains: 'contains',
  starts_with: 'starts with',
  within_days: 'within the last N days',
  before: 'before',
  after: 'after',
  is_null: 'is empty',
  gt: '>',
  gte: '≥',
  lt: '<',
  lte: '≤',
  exists: 'is set',
};

function kindOf(field: string): Kind {
  return field.startsWith('custom.') || field === 'custom' ? 'custom' : (FIELD_KIND[field] ?? 'text');
}

export function opsFor(field: string): string[] {
  return OPS[kindOf(field)];
}

export function emptyCondition(): Condition {
  return { field: 'tags', op: 'has_any', value: '' };
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
}

function scalar(value: string): string | number | boolean {
  const trimmed = value.trim();
  if (trimmed === 'true' || trimmed === 'false') return trimmed === 'true';
  if (trimmed !== '' && !Number.isNaN(Number(trimmed))) return Number(trimmed);
  return trimmed;
}

/** The typed value for a condition, or undefined while it is incomplete (it is then left out). */
export function conditionValue(c: Condition): unknown {
  const kind = kindOf(c.field);
  const value = c.value.trim();
  if (c.op === 'is_null' || c.op === 'exists') return value === 'false' ? false : true;
  if (value === '') return undefined;
  if (kind === 'list' || c.op === 'in' || c.op === 'not_in') {
    const list = splitList(value);
    return list.length ? list : undefined;
  }
  if (kind === 'bool') return value === 'true' || value === 'yes';
  if (c.op === 'within_days') {
    const days = Number(value);
    return Number.isInteger(days) && days > 0 ? days : undefined;
  }
  if (kind === 'custom') return scalar(value);
  return value;
}

export function toRules(match: Match, conditions: Condition[]): Record<string, unknown> {
  const leaves = conditions
    .filter((c) => c.field !== 'custom' && c.field !== 'custom.')
    .map((c) => ({ field: c.field, op: c.op, value: conditionValue(c) }))
    .filter((leaf) => leaf.value !== undefined);
  return { [match]: leaves };
}

/** Reads back a saved segment's rules into the builder, if they are a flat all/any list of leaves. */
export function fromRules(rules: Record<string, unknown>): { match: Match; conditions: Condition[] } | null {
  const match: Match | null = Array.isArray(rules.all) ? 'all' : Array.isArray(rules.any) ? 'any' : null;
  if (!match) return null;
  const leaves = rules[match] as Record<string, unknown>[];
  if (!leaves.every((l) => typeof l.field === 'string' && typeof l.op === 'string')) return null;
  return {
    match,
    conditions: leaves.map((l) => ({
      field: l.field as string,
      op: l.op as string,
      value: Array.isArray(l.value) ? l.value.join(', ') : String(l.value ?? ''),
    })),
  };
}
