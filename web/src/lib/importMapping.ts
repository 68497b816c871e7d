// The import wizard's column mapping: which contact field each file column fills, and whether the mapping
// can be sent (the API needs exactly one phone column and each contact field at most once).

export const CONTACT_FIELDS = ['phone', 'name', 'first_name', 'last_name', 'email', 'tags', 'source', 'priority'] as const;
export const IGNORE = '';

export type Mapping = Record<string, string>;

/** Choices for one column: the contact fields, its own custom field, or ignore. */
export function targetOptions(column: string, suggested: string | undefined): { value: string; label: string }[] {
  const custom = suggested?.startsWith('custom.') ? suggested : `custom.${customKey(column)}`;
  return [
    ...CONTACT_FIELDS.map((f) => ({ value: f, label: f.replace('_', ' ') })),
    { value: custom, label: `custom field "${custom.slice('custom.'.length)}"` },
    { value: IGNORE, label: 'ignore this column' },
  ];
}

/** Same rule as the server's `custom_key` (`Birth Date` -> `birth_date`). */
export function customKey(column: string): string {
  const key = column.trim().toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim().replace(/ /g, '_');
  return (/^\d/.test(key) ? `_${key}` : key).slice(0, 64) || 'column';
}

export function mappingProblems(mapping: Mapping): string[] {
  const problems: string[] = [];
  const targets = Object.values(mapping).filter((t) => t !== IGNORE);
  const phones = targets.filter((t) => t === 'phone').length;
  if (phones === 0) problems.push('Choose the column that holds the phone number.');
  if (phones > 1) problems.push('Only one column can be the phone number.');
  for (const field of CONTACT_FIELDS) {
    if (field !== 'phone' && targets.filter((t) => t === field).length > 1) problems.push(`Only one column can fill "${field}".`);
  }
  return problems;
}

/** The mapping as the API takes it: ignored columns as null. */
export function toApiMapping(mapping: Mapping): Record<string, string | null> {
  return Object.fromEntries(Object.entries(mapping).map(([column, target]) => [column, target === IGNORE ? null : target]));
}
