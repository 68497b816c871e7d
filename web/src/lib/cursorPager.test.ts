import { describe, expect, it } from 'vitest';

import { FIRST_PAGE, nextPage, previousPage } from './cursorPager';

describe('cursor pager', () => {
  it('walks forward and back through the cursors it was given', () => {
    const second = nextPage(FIRST_PAGE, 'c2');
    const third = nextPage(second, 'c3');
    expect(third).toEqual({ previous: [null, 'c2'], current: 'c3' });
    expect(previousPage(third)).toEqual(second);
    expect(previousPage(previousPage(third))).toEqual(FIRST_PAGE);
  });

  it('stays put at either end', () => {
    expect(previousPage(FIRST_PAGE)).toBe(FIRST_PAGE);
    const last = nextPage(FIRST_PAGE, 'c2');
    expect(nextPage(last, null)).toBe(last);
  });
});
