// Page-by-page navigation over the API's cursor pagination: the browser holds one page and the cursors
// that led to it, never the whole table (the contacts table may hold a million rows).
import { useCallback, useState } from 'react';

export interface PagerState {
  /** Cursors of the pages before the current one; the current page's own cursor is `current`. */
  previous: (string | null)[];
  current: string | null;
}

export const FIRST_PAGE: PagerState = { previous: [], current: null };

export function nextPage(state: PagerState, nextCursor: string | null | undefined): PagerState {
  if (!nextCursor) return state;
  return { previous: [...state.previous, state.current], current: nextCursor };
}

export function previousPage(state: PagerState): PagerState {
  if (state.previous.length === 0) return state;
  return { previous: state.previous.slice(0, -1), current: state.previous[state.previous.length - 1] ?? null };
}

export function usePager() {
  const [state, setState] = useState<PagerState>(FIRST_PAGE);
  return {
    cursor: state.current,
    pageNumber: state.previous.length + 1,
    hasPrevious: state.previous.length > 0,
    next: useCallback((cursor: string | null | undefined) => setState((s) => nextPage(s, cursor)), []),
    previous: useCallback(() => setState((s) => previousPage(s)), []),
    reset: useCallback(() => setState(FIRST_PAGE), []),
  };
}
