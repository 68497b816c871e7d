import { describe, expect, it } from 'vitest';

import { errorMessage } from './errors';

describe('errorMessage', () => {
  it('names the first field the API complained about', () => {
    const body = { error: { code: 'validation_error', message: 'Invalid input', details: [{ field: 'body.phone', message: 'not a valid number' }] } };
    expect(errorMessage(body)).toBe('Invalid input (body.phone: not a valid number)');
  });

  it('falls back to the message, then to a generic sentence', () => {
    expect(errorMessage({ error: { code: 'not_found', message: 'Contact not found', details: {} } })).toBe('Contact not found');
    expect(errorMessage(new Error('offline'))).toBe('offline');
    expect(errorMessage(undefined)).toBe('Something went wrong');
  });
});
