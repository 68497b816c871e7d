import { describe, expect, it } from 'vitest';

import { actionsFor, errorRows, finishText, funnelData, isAutoPause, pollInterval } from './stats';

describe('campaign stats', () => {
  it('turns counts into funnel stages with their share of the queued messages', () => {
    const rows = funnelData({ queued: 200, sent: 180, delivered: 150, read: 60, replied: 10 });
    expect(rows.map((r) => [r.name, r.value])).toEqual([
      ['Queued', 200],
      ['Sent', 180],
      ['Delivered', 150],
      ['Read', 60],
      ['Replied', 10],
    ]);
    expect(rows[2]?.share).toBe(0.75);
    expect(funnelData({ queued: 0, sent: 0, delivered: 0, read: 0, replied: 0 })[0]?.share).toBeNull();
  });

  it('lists errors by code, most frequent first, with what they mean', () => {
    expect(errorRows({ '131026': 3, '131049': 9, '999': 1, '130429': 0 })).toEqual([
      { code: '131049', count: 9, meaning: 'Per-user marketing limit (wait 24 h)' },
      { code: '131026', count: 3, meaning: 'Undeliverable: not on WhatsApp or old app' },
      { code: '999', count: 1, meaning: 'Other error' },
    ]);
    expect(errorRows({ frequency_cap: 4 })[0]?.meaning).toBe('Skipped: frequency cap reached');
  });

  it('projects the finish of a running campaign in words', () => {
    const now = new Date('2026-01-01T10:00:00Z');
    const running = { status: 'running' as const, waiting: 10 };
    expect(finishText({ ...running, projected_finish_at: '2026-01-01T10:00:30Z' }, now)).toBe('in under a minute');
    expect(finishText({ ...running, projected_finish_at: '2026-01-01T10:12:00Z' }, now)).toBe('in about 12 min');
    expect(finishText({ ...running, projected_finish_at: '2026-01-01T15:00:00Z' }, now)).toBe('in about 5 h');
    expect(finishText({ ...running, projected_finish_at: null }, now)).toBe('estimating…');
    expect(finishText({ status: 'completed', waiting: 0, projected_finish_at: null }, now)).toBe('finished');
  });

  it('tells an auto-pause from a pause by a user', () => {
    expect(isAutoPause('paused', 'error rate 31% over 50 sends')).toBe(true);
    expect(isAutoPause('paused', 'paused by a user')).toBe(false);
    expect(isAutoPause('running', 'whatever')).toBe(false);
  });

  it('offers only the actions the status allows', () => {
    expect(actionsFor('draft')).toMatchObject({ start: true, pause: false, resume: false, stop: false, edit: true });
    expect(actionsFor('running')).toMatchObject({ start: false, pause: true, resume: false, stop: true, edit: false });
    expect(actionsFor('paused')).toMatchObject({ pause: false, resume: true, stop: true, edit: true });
    expect(actionsFor('completed')).toEqual({ start: false, schedule: false, pause: false, resume: false, stop: false, edit: false });
  });

  it('polls fast only while running', () => {
    expect(pollInterval('running')).toBe(3000);
    expect(pollInterval('draft')).toBe(false);
  });
});
