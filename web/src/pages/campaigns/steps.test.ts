import { describe, expect, it } from 'vitest';

import { checkSteps, describeCondition, emptyStep, formatDelay, fromStepOut, moveStep, toStepIn } from './steps';

describe('drip steps', () => {
  it('formats delays in words', () => {
    expect(formatDelay(0, 'minutes', 'previous_step', true)).toBe('right at enrolment');
    expect(formatDelay(0, 'hours', 'previous_step')).toBe('right after the previous step');
    expect(formatDelay(1, 'days', 'previous_step')).toBe('1 day after the previous step');
    expect(formatDelay(3, 'hours', 'enrollment')).toBe('3 hours after enrolment');
    expect(formatDelay(2, 'weeks', 'previous_step', true)).toBe('2 weeks after enrolment');
  });

  it('describes conditions, naming the tag', () => {
    expect(describeCondition(null)).toBe('always');
    expect(describeCondition('not_replied')).toBe('only if the contact has not replied');
    expect(describeCondition('has_tag', 'vip')).toBe('only if the contact has the tag "vip"');
  });

  it('builds StepIn: tag only for tag conditions, whole non-negative delays', () => {
    const step = { ...emptyStep(), name: ' Reminder ', body: 'Hi {{ first_name }}', delayValue: 2.7, delayUnit: 'hours' as const, condition: 'has_tag' as const, tag: ' vip ' };
    expect(toStepIn(step)).toEqual({
      name: 'Reminder',
      body: 'Hi {{ first_name }}',
      kind: 'text',
      media_url: null,
      cloud_template: null,
      delay_value: 2,
      delay_unit: 'hours',
      delay_from: 'previous_step',
      condition: { type: 'has_tag', tag: 'vip' },
    });
    expect(toStepIn({ ...step, condition: 'replied' }).condition).toEqual({ type: 'replied' });
    expect(toStepIn({ ...step, condition: null, delayValue: -3 })).toMatchObject({ condition: null, delay_value: 0 });
  });

  it('reads a saved step back, keeping its media', () => {
    const draft = fromStepOut({
      id: 1, campaign_id: 1, position: 1, body: null, kind: 'image', media_url: 'https://x.test/a.png',
      delay_value: 1, delay_unit: 'days', delay_from: 'enrollment', condition: { type: 'lacks_tag', tag: 'buyer' },
    });
    expect(draft).toMatchObject({ body: '', kind: 'image', mediaUrl: 'https://x.test/a.png', delayFrom: 'enrollment', condition: 'lacks_tag', tag: 'buyer' });
    expect(toStepIn(draft)).toMatchObject({ kind: 'image', media_url: 'https://x.test/a.png', condition: { type: 'lacks_tag', tag: 'buyer' } });
  });

  it('finds the problems the API would report', () => {
    expect(checkSteps([])).toEqual({ field: 'steps', problem: 'add at least one step' });
    expect(checkSteps([{ ...emptyStep(true), body: ' ' }])).toEqual({ field: 'steps.0.body', problem: 'write the message' });
    expect(checkSteps([{ ...emptyStep(true), body: 'a', condition: 'previous_read' }])?.field).toBe('steps.0.condition');
    expect(checkSteps([{ ...emptyStep(true), body: 'a' }, { ...emptyStep(), body: 'b', condition: 'lacks_tag' }])).toEqual({ field: 'steps.1.condition', problem: 'choose the tag' });
    expect(checkSteps([{ ...emptyStep(true), body: 'a' }, { ...emptyStep(), body: 'b', condition: 'previous_read' }])).toBeNull();
  });

  it('moves a step up or down, ignoring moves off the ends', () => {
    expect(moveStep(['a', 'b', 'c'], 2, 1)).toEqual(['a', 'c', 'b']);
    expect(moveStep(['a', 'b'], 0, -1)).toEqual(['a', 'b']);
  });
});
