/** The control route of the test-only fake mode: WhatsApp users "write" to a session's number. */
import { z } from 'zod';

import { parse, sessionIdFromHeader } from '../http/schemas';
import type { Route } from '../http/routes';
import { E164_PATTERN } from '../phone';
import type { FakeWhatsApp } from './whatsapp';

const incomingSchema = z.object({
  from: z.string().regex(E164_PATTERN, 'must be an E.164 phone number such as +15551234567'),
  text: z.string().min(1).max(65_536),
  pushName: z.string().max(255).nullish().transform((value) => value ?? undefined),
  messageId: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,128}$/, 'must match [A-Za-z0-9_-]{1,128}')
    .nullish()
    .transform((value) => value ?? undefined),
});

/**
 * `POST /fake/incoming` (X-Session-Id, signed like every route): `{"from","text","pushName"?,"messageId"?}`
 * → 202 `{"messageId"}`. The message goes through the session's real inbound path and event queue.
 */
export function fakeRoutes(whatsapp: FakeWhatsApp): Route[] {
  return [
    {
      method: 'POST',
      path: '/fake/incoming',
      signed: true,
      handler: async ({ headers, body }) => {
        const sessionId = sessionIdFromHeader(headers['x-session-id']);
        const message = parse(incomingSchema, body);
        return { status: 202, body: { messageId: whatsapp.incoming(sessionId, message) } };
      },
    },
  ];
}
