import type { IncomingHttpHeaders } from 'node:http';

import { badRequest, GatewayError, unprocessable } from '../errors';
import type { EventQueue } from '../events/queue';
import type { SessionManager } from '../sessions/manager';
import {
  bulkSchema,
  pairingSchema,
  parse,
  phoneSchema,
  readSchema,
  sendSchema,
  sessionIdFromHeader,
  sessionIdSchema,
  startSessionSchema,
  typingSchema,
} from './schemas';

export interface RequestContext {
  params: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface Reply {
  status: number;
  body: unknown;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** Every route is HMAC-verified except the health probe. */
  signed: boolean;
  handler(context: RequestContext): Promise<Reply>;
}

export interface RouteDeps {
  sessions: SessionManager;
  events: EventQueue;
}

const ok = (body: unknown, status = 200): Reply => ({ status, body });

/** The gateway API of docs/gateway-contract.md. */
export function buildRoutes({ sessions, events }: RouteDeps): Route[] {
  const sessionFor = (headers: IncomingHttpHeaders) => sessions.require(sessionIdFromHeader(headers['x-session-id']));

  return [
    {
      method: 'GET',
      path: '/health',
      signed: false,
      handler: async () => ok({ status: 'ok', sessions: sessions.count, pendingEvents: events.pendingCount }),
    },
    {
      method: 'POST',
      path: '/sessions',
      signed: true,
      handler: async ({ headers, body }) => {
        const { sessionId: fromBody } = parse(startSessionSchema, body ?? {});
        const fromHeader = headers['x-session-id'] === undefined ? undefined : sessionIdFromHeader(headers['x-session-id']);
        if (fromBody !== undefined && fromHeader !== undefined && fromBody !== fromHeader) {
          throw unprocessable('sessionId: does not match the X-Session-Id header', 'sessionId');
        }
        const id = fromBody ?? fromHeader;
        if (id === undefined) throw unprocessable('sessionId: is required', 'sessionId');
        const session = await sessions.start(id);
        return ok({ sessionId: session.id, status: session.status }, 201);
      },
    },
    {
      method: 'GET',
      path: '/sessions',
      signed: true,
      handler: async () => ok(sessions.list().map((session) => session.summary())),
    },
    {
      method: 'DELETE',
      path: '/sessions/:id',
      signed: true,
      handler: async ({ params }) => {
        const result = sessionIdSchema.safeParse(params['id']);
        if (!result.success) {
          throw badRequest('invalid_session_id', 'the session id must match [A-Za-z0-9_-]{1,64}', { field: 'id' });
        }
        await sessions.delete(result.data);
        return ok({ sessionId: result.data, deleted: true });
      },
    },
    {
      method: 'GET',
      path: '/auth/qr',
      signed: true,
      handler: async ({ headers }) => ok(await sessionFor(headers).qrCode()),
    },
    {
      method: 'POST',
      path: '/auth/pairing-code',
      signed: true,
      handler: async ({ headers, body }) => {
        const session = sessionFor(headers);
        const { phone } = parse(pairingSchema, body);
        return ok({ code: await session.requestPairingCode(phone) });
      },
    },
    {
      method: 'GET',
      path: '/auth/status',
      signed: true,
      handler: async ({ headers }) => ok(sessionFor(headers).authStatus()),
    },
    {
      method: 'POST',
      path: '/auth/logout',
      signed: true,
      handler: async ({ headers }) => {
        const session = sessionFor(headers);
        await session.logout();
        return ok({ sessionId: session.id, status: session.status });
      },
    },
    {
      method: 'POST',
      path: '/messages/send',
      signed: true,
      handler: async ({ headers, body }) => {
        const session = sessionFor(headers);
        const message = parse(sendSchema, body);
        const messageId = await session.send(message);
        return ok({ messageId, clientRef: message.clientRef ?? null }, 202);
      },
    },
    {
      method: 'POST',
      path: '/messages/bulk',
      signed: true,
      handler: async ({ headers, body }) => {
        const session = sessionFor(headers);
        const { messages } = parse(bulkSchema, body);
        session.assertConnected();
        // Enqueued in request order; the session's queue paces them like any other send.
        const outcomes = await Promise.allSettled(messages.map((message) => session.send(message)));
        const results = outcomes.map((outcome, index) => {
          const clientRef = messages[index]?.clientRef ?? null;
          if (outcome.status === 'fulfilled') return { clientRef, messageId: outcome.value };
          const error = outcome.reason;
          return error instanceof GatewayError
            ? { clientRef, error: { code: error.code, message: error.message } }
            : { clientRef, error: { code: 'send_failed', message: String(error) } };
        });
        return ok({ results }, 202);
      },
    },
    {
      method: 'POST',
      path: '/messages/typing',
      signed: true,
      handler: async ({ headers, body }) => {
        const session = sessionFor(headers);
        const { to, state } = parse(typingSchema, body);
        await session.setTyping(to, state);
        return ok({ to, state });
      },
    },
    {
      method: 'POST',
      path: '/messages/read',
      signed: true,
      handler: async ({ headers, body }) => {
        const session = sessionFor(headers);
        const { from, messageIds } = parse(readSchema, body);
        await session.markRead(from, messageIds);
        return ok({ from, read: messageIds.length });
      },
    },
    {
      method: 'GET',
      path: '/contacts/check/:phone',
      signed: true,
      handler: async ({ headers, params }) => {
        const session = sessionFor(headers);
        const phone = parse(phoneSchema, params['phone'], 'phone');
        return ok(await session.checkContact(phone));
      },
    },
  ];
}
