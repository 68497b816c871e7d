import { describe, expect, it } from 'vitest';

import { countRequest, describeAudience, emptyAudience, fromAudience, toAudience } from './audience';

describe('audience picker', () => {
  it('sends everyone as all and counts them with an empty rule list', () => {
    const draft = emptyAudience();
    expect(toAudience(draft)).toEqual({ all: true });
    expect(countRequest(draft)).toEqual({ kind: 'rules', rules: { all: [] } });
  });

  it('turns tags into has_any rules, trimmed and without duplicates', () => {
    const draft = { ...emptyAudience(), mode: 'tags' as const, tags: [' vip', 'vip', 'newsletter', ''] };
    expect(toAudience(draft)).toEqual({ tags: ['vip', 'newsletter'] });
    expect(countRequest(draft)).toEqual({ kind: 'rules', rules: { field: 'tags', op: 'has_any', value: ['vip', 'newsletter'] } });
  });

  it('is incomplete without a tag, a segment or a finished condition', () => {
    expect(toAudience({ ...emptyAudience(), mode: 'tags' })).toBeNull();
    expect(countRequest({ ...emptyAudience(), mode: 'segment' })).toBeNull();
    expect(toAudience({ ...emptyAudience(), mode: 'filter' })).toBeNull();
  });

  it('counts a saved segment by its id', () => {
    const draft = { ...emptyAudience(), mode: 'segment' as const, segmentId: '7' };
    expect(toAudience(draft)).toEqual({ segment_id: 7 });
    expect(countRequest(draft)).toEqual({ kind: 'segment', segmentId: 7 });
  });

  it('sends filter rules as the segment rule tree', () => {
    const draft = { ...emptyAudience(), mode: 'filter' as const, match: 'any' as const, conditions: [{ field: 'country', op: 'in', value: 'BR, MX' }] };
    const rules = { any: [{ field: 'country', op: 'in', value: ['BR', 'MX'] }] };
    expect(toAudience(draft)).toEqual({ filter: rules });
    expect(countRequest(draft)).toEqual({ kind: 'rules', rules });
  });

  it('reads a saved audience back, keeping explicit contacts untouched', () => {
    expect(fromAudience({ tags: ['vip'] })).toMatchObject({ mode: 'tags', tags: ['vip'] });
    expect(fromAudience({ segment_id: 3 })).toMatchObject({ mode: 'segment', segmentId: '3' });
    expect(fromAudience({ all: true }).mode).toBe('all');
    const explicit = fromAudience({ contact_ids: [4, 5] });
    expect(toAudience(explicit)).toEqual({ contact_ids: [4, 5] });
    expect(fromAudience({ filter: { all: [{ field: 'tags', op: 'has_any', value: ['a'] }] } })).toMatchObject({
      mode: 'filter',
      conditions: [{ field: 'tags', op: 'has_any', value: 'a' }],
    });
  });

  it('describes an audience in one line', () => {
    expect(describeAudience({ all: true })).toBe('All contacts');
    expect(describeAudience({ tags: ['vip', 'trial'] })).toBe('Tagged vip or trial');
    expect(describeAudience({ segment_id: 2 }, () => 'VIP customers')).toBe('Segment VIP customers');
    expect(describeAudience({})).toBe('No audience yet');
  });
});
