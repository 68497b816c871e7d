import { describe, expect, it } from 'vitest';

import { apiProblem, slotOf } from './problems';

describe('API problems on form fields', () => {
  it('reads the first detail of a service error and of a request-validation error', () => {
    const service = { error: { code: 'validation_error', message: 'x', details: [{ field: 'steps.0.body', problem: "unknown variable 'frist_name'" }] } };
    expect(apiProblem(service)).toEqual({ field: 'steps.0.body', problem: "unknown variable 'frist_name'" });
    const request = { error: { code: 'validation_error', message: 'x', details: [{ field: 'body.name', problem: 'String should have at least 1 character' }] } };
    expect(apiProblem(request)).toEqual({ field: 'name', problem: 'String should have at least 1 character' });
    expect(apiProblem({ error: { message: 'Not found', details: null } })).toBeNull();
    expect(apiProblem(new Error('network'))).toBeNull();
  });

  it('maps fields to the part of the form that shows them', () => {
    expect(slotOf('steps.0.body', true)).toBe('message');
    expect(slotOf('steps.2.condition', false)).toEqual({ step: 2 });
    expect(slotOf('message', false)).toEqual({ step: 0 });
    expect(slotOf('audience.filter', true)).toBe('audience');
    expect(slotOf('sender_number_ids.0', true)).toBe('senders');
    expect(slotOf('name', true)).toBe('name');
    expect(slotOf('settings.frequency_cap', true)).toBe('form');
  });
});
