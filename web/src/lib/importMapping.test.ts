import { describe, expect, it } from 'vitest';

import { customKey, mappingProblems, targetOptions, toApiMapping } from './importMapping';

describe('import mapping', () => {
  it('needs exactly one phone column', () => {
    expect(mappingProblems({ Mobile: 'phone', Name: 'name' })).toEqual([]);
    expect(mappingProblems({ Name: 'name' })).toEqual(['Choose the column that holds the phone number.']);
    expect(mappingProblems({ A: 'phone', B: 'phone' })).toEqual(['Only one column can be the phone number.']);
  });

  it('rejects a contact field filled twice but allows several ignored columns', () => {
    expect(mappingProblems({ P: 'phone', A: 'email', B: 'email' })).toEqual(['Only one column can fill "email".']);
    expect(mappingProblems({ P: 'phone', A: '', B: '' })).toEqual([]);
  });

  it('sends ignored columns as null', () => {
    expect(toApiMapping({ P: 'phone', Junk: '' })).toEqual({ P: 'phone', Junk: null });
  });

  it('offers the column as a custom field named like the server does', () => {
    expect(customKey('Birth Date')).toBe('birth_date');
    expect(customKey('2nd line')).toBe('_2nd_line');
    expect(targetOptions('City', 'custom.city').map((o) => o.value)).toContain('custom.city');
  });
});
