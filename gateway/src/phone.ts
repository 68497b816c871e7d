/** E.164 as the API speaks it: "+" then 7 to 15 digits, no leading zero. */
export const E164_PATTERN = /^\+[1-9]\d{6,14}$/;

const USER_SERVERS = new Set(['s.whatsapp.net', 'c.us']);

export function isE164(value: string): boolean {
  return E164_PATTERN.test(value);
}

/** "+15551234567" -> "15551234567@s.whatsapp.net" (the caller validated E.164). */
export function phoneToJid(phone: string): string {
  return `${phone.replace(/^\+/, '')}@s.whatsapp.net`;
}

/** Digits only, as Baileys' requestPairingCode expects. */
export function phoneToDigits(phone: string): string {
  return phone.replace(/^\+/, '');
}

/**
 * "15551234567:12@s.whatsapp.net" -> "+15551234567"; null for groups, broadcasts, newsletters and
 * LID-addressed chats, which carry no phone number.
 */
export function jidToPhone(jid: string | null | undefined): string | null {
  if (!jid) return null;
  const at = jid.indexOf('@');
  if (at <= 0) return null;
  const server = jid.slice(at + 1);
  if (!USER_SERVERS.has(server)) return null;
  const user = jid.slice(0, at).split(':')[0]?.split('_')[0] ?? '';
  const phone = `+${user}`;
  return isE164(phone) ? phone : null;
}
