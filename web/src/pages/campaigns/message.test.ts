import { describe, expect, it } from 'vitest';

import { insertAt, spinVariations, variableSnippet } from './message';

describe('message editor', () => {
  it('inserts a variable at the cursor, replacing the selection', () => {
    expect(insertAt('Hi !', 3, 3, variableSnippet('first_name'))).toEqual({ text: 'Hi {{ first_name }}!', cursor: 19 });
    expect(insertAt('Hi you!', 3, 6, 'X')).toEqual({ text: 'Hi X!', cursor: 4 });
    expect(insertAt('ab', 10, 12, 'c')).toEqual({ text: 'abc', cursor: 3 });
  });

  it('counts spintax variations, not Jinja or escaped braces', () => {
    expect(spinVariations('Hello there')).toBe(1);
    expect(spinVariations('{Hi|Hello} {{ first_name }}, {a|b|c}')).toBe(6);
    expect(spinVariations('{a|{b|c}}')).toBe(3);
    expect(spinVariations('{% if x %}y{% endif %} \\{not|spin\\}')).toBe(1);
    expect(spinVariations('{{{ first_name }}|friend}')).toBe(2);
  });
});
