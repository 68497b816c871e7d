import { describe, expect, it } from 'vitest';

import { fromRules, opsFor, toRules } from './segmentRules';

describe('segment rules', () => {
  it('builds a typed rule tree and leaves out incomplete conditions', () => {
    const rules = toRules('all', [
      { field: 'tags', op: 'has_any', value: 'vip, newsletter' },
      { field: 'country', op: 'eq', value: 'BR' },
      { field: 'created_at', op: 'within_days', value: '30' },
      { field: 'custom.orders', op: 'gte', value: '3' },
      { field: 'opted_out', op: 'eq', value: 'false' },
      { field: 'email', op: 'contains', value: '' },
    ]);
    expect(rules).toEqual({
      all: [
        { field: 'tags', op: 'has_any', value: ['vip', 'newsletter'] },
        { field: 'country', op: 'eq', value: 'BR' },
        { field: 'created_at', op: 'within_days', value: 30 },
        { field: 'custom.orders', op: 'gte', value: 3 },
        { field: 'opted_out', op: 'eq', value: false },
      ],
    });
  });

  it('offers operators that fit the field', () => {
    expect(opsFor('tags')).toContain('has_all');
    expect(opsFor('custom.city')).toContain('exists');
    expect(opsFor('last_contacted_at')).toContain('within_days');
  });

  it('reads back a flat rule list and refuses nested trees', () => {
    expect(fromRules({ any: [{ field: 'tags', op: 'has_any', value: ['a', 'b'] }] })).toEqual({
      match: 'any',
      conditions: [{ field: 'tags', op: 'has_any', value: 'a, b' }],
    });
    expect(fromRules({ not: { field: 'tags', op: 'has', value: 'x' } })).toBeNull();
  });
});
