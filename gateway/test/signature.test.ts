import { createHmac } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { signBody, verifySignature } from '../src/signature';

const SECRET = 'unit-test-secret-000000';
const BODY = '{"sessionId":"main"}';
const NOW = 1_764_115_200;

describe('signBody', () => {
  it('is HMAC-SHA256 over "<t>.<body>" as the contract specifies', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`).digest('hex');
    expect(signBody(SECRET, BODY, NOW)).toBe(`t=${NOW},v1=${expected}`);
  });
});

describe('verifySignature', () => {
  it('accepts a good signature', () => {
    expect(verifySignature(SECRET, signBody(SECRET, BODY, NOW), BODY, NOW)).toEqual({ ok: true });
  });

  it('accepts raw bytes identical to the signed string', () => {
    expect(verifySignature(SECRET, signBody(SECRET, BODY, NOW), Buffer.from(BODY), NOW).ok).toBe(true);
  });

  it('accepts an empty body (GET/DELETE)', () => {
    expect(verifySignature(SECRET, signBody(SECRET, '', NOW), Buffer.alloc(0), NOW).ok).toBe(true);
  });

  it('refuses a missing header', () => {
    expect(verifySignature(SECRET, undefined, BODY, NOW)).toEqual({ ok: false, reason: 'missing' });
    expect(verifySignature(SECRET, '  ', BODY, NOW)).toEqual({ ok: false, reason: 'missing' });
  });

  it('refuses a malformed header', () => {
    expect(verifySignature(SECRET, 'v1=abc', BODY, NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifySignature(SECRET, `t=${NOW},v1=nothex`, BODY, NOW)).toEqual({ ok: false, reason: 'malformed' });
    expect(verifySignature(SECRET, `t=${NOW}`, BODY, NOW)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('refuses another secret and a tampered body', () => {
    expect(verifySignature(SECRET, signBody('another-secret', BODY, NOW), BODY, NOW)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifySignature(SECRET, signBody(SECRET, BODY, NOW), `${BODY} `, NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('refuses a timestamp more than 300 s away, in either direction', () => {
    expect(verifySignature(SECRET, signBody(SECRET, BODY, NOW - 300), BODY, NOW).ok).toBe(true);
    expect(verifySignature(SECRET, signBody(SECRET, BODY, NOW - 301), BODY, NOW)).toEqual({
      ok: false,
      reason: 'stale',
    });
    expect(verifySignature(SECRET, signBody(SECRET, BODY, NOW + 301), BODY, NOW)).toEqual({ ok: false, reason: 'stale' });
  });

  it('refuses a replayed signature whose timestamp was changed', () => {
    const [, v1] = signBody(SECRET, BODY, NOW - 1000).split(',');
    expect(verifySignature(SECRET, `t=${NOW},${v1}`, BODY, NOW)).toEqual({ ok: false, reason: 'mismatch' });
  });

  it('accepts any of several v1 values (secret rotation)', () => {
    const old = signBody('old-secret-000000000', BODY, NOW).split(',')[1];
    const current = signBody(SECRET, BODY, NOW);
    expect(verifySignature(SECRET, `${current},${old}`, BODY, NOW).ok).toBe(true);
  });
});
