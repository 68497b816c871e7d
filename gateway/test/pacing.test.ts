import { describe, expect, it } from 'vitest';

import type { PacingConfig } from '../src/config';
import { formatPairingCode } from '../src/sessions/outbound';
import { randomGapMs, typingDurationMs } from '../src/sessions/pacing';
import { jidToPhone, phoneToJid } from '../src/phone';

const pacing: PacingConfig = {
  minDelayMs: 3000,
  maxDelayMs: 8000,
  typingEnabled: true,
  typingMsPerChar: 40,
  typingMinMs: 800,
  typingMaxMs: 5000,
  checkRecipient: true,
};

describe('pacing', () => {
  it('types for a time proportional to the text, within bounds', () => {
    expect(typingDurationMs('hi', pacing)).toBe(800);
    expect(typingDurationMs('x'.repeat(50), pacing)).toBe(2000);
    expect(typingDurationMs('x'.repeat(1000), pacing)).toBe(5000);
    expect(typingDurationMs(undefined, pacing)).toBe(800);
  });

  it('spreads the gap between sends over [min, max]', () => {
    expect(randomGapMs(pacing, () => 0)).toBe(3000);
    expect(randomGapMs(pacing, () => 0.5)).toBe(5500);
    expect(randomGapMs(pacing, () => 0.999999)).toBe(8000);
  });
});

describe('phone numbers and JIDs', () => {
  it('converts E.164 to a user JID and back', () => {
    expect(phoneToJid('+15551234567')).toBe('15551234567@s.whatsapp.net');
    expect(jidToPhone('15551234567@s.whatsapp.net')).toBe('+15551234567');
    expect(jidToPhone('15551234567:12@s.whatsapp.net')).toBe('+15551234567');
  });

  it('has no phone number for groups, broadcasts and LIDs', () => {
    expect(jidToPhone('120363021234567890@g.us')).toBeNull();
    expect(jidToPhone('status@broadcast')).toBeNull();
    expect(jidToPhone('123456789012345@lid')).toBeNull();
    expect(jidToPhone(undefined)).toBeNull();
  });
});

describe('pairing codes', () => {
  it('are shown as two groups of four', () => {
    expect(formatPairingCode('abcd1234')).toBe('ABCD-1234');
    expect(formatPairingCode('ABCD-1234')).toBe('ABCD-1234');
  });
});
