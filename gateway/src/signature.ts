import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-greenline-signature';
/** Replay window from the contract: a timestamp further than this from our clock is refused. */
export const SIGNATURE_TOLERANCE_SECONDS = 300;

export type SignatureFailure = 'missing' | 'malformed' | 'stale' | 'mismatch';

export type SignatureCheck = { ok: true } | { ok: false; reason: SignatureFailure };

function hmacHex(secret: string, timestamp: number, body: Buffer | string): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** The `X-Greenline-Signature` value for `body` at `timestamp` (unix seconds). */
export function signBody(secret: string, body: Buffer | string, timestamp: number = nowSeconds()): string {
  return `t=${timestamp},v1=${hmacHex(secret, timestamp, body)}`;
}

/** Verify a signature header over the raw body bytes, in constant time, within the replay window. */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: Buffer | string,
  now: number = nowSeconds(),
): SignatureCheck {
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'missing' };

  let timestamp: number | undefined;
  const candidates: string[] = [];
  for (const part of header.split(',')) {
    const index = part.indexOf('=');
    if (index <= 0) continue;
    const key = part.slice(0, index).trim();
    const value = part.slice(index + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    // Several v1 values are allowed so a secret can be rotated without downtime.
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) candidates.push(value.toLowerCase());
  }
  if (timestamp === undefined || candidates.length === 0) return { ok: false, reason: 'malformed' };
  if (Math.abs(now - timestamp) > SIGNATURE_TOLERANCE_SECONDS) return { ok: false, reason: 'stale' };

  const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
  let matched = false;
  for (const candidate of candidates) {
    // Keep comparing after a match so timing does not reveal which candidate matched.
    if (timingSafeEqual(expected, Buffer.from(candidate, 'hex'))) matched = true;
  }
  return matched ? { ok: true } : { ok: false, reason: 'mismatch' };
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
