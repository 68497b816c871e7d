import { z } from 'zod';

import { badRequest, GatewayError } from '../errors';
import { E164_PATTERN } from '../phone';
import { SESSION_ID_PATTERN } from '../sessions/manager';

const e164 = z.string().regex(E164_PATTERN, 'must be an E.164 phone number such as +15551234567');

/** Absent, null and "" all mean "not given" (Python clients often send null). */
const optionalText = (max: number) =>
  z
    .string()
    .max(max)
    .nullish()
    .transform((value) => (value === null || value === '' ? undefined : value));

const httpUrl = z
  .string()
  .url()
  .refine((value) => /^https?:\/\//i.test(value), 'must be an http(s) URL');

export const sessionIdSchema = z.string().regex(SESSION_ID_PATTERN, 'must match [A-Za-z0-9_-]{1,64}');

export const startSessionSchema = z.object({ sessionId: sessionIdSchema.optional() });

export const sendSchema = z
  .object({
    to: e164,
    type: z.enum(['text', 'image', 'document', 'audio', 'video']),
    text: optionalText(65_536),
    mediaUrl: httpUrl.nullish().transform((value) => value ?? undefined),
    caption: optionalText(3000),
    fileName: optionalText(255),
    mimetype: optionalText(255),
    clientRef: optionalText(255),
  })
  .superRefine((value, ctx) => {
    if (value.type === 'text' && value.text === undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['text'], message: 'is required when type is "text"' });
    }
    if (value.type !== 'text' && value.mediaUrl === undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['mediaUrl'],
        message: `is required when type is "${value.type}"`,
      });
    }
  });

export type SendBody = z.infer<typeof sendSchema>;

export const MAX_BULK_MESSAGES = 100;

export const bulkSchema = z.object({
  messages: z.array(sendSchema).min(1).max(MAX_BULK_MESSAGES),
});

export const pairingSchema = z.object({ phone: e164 });

export const typingSchema = z.object({ to: e164, state: z.enum(['composing', 'paused']) });

export const readSchema = z.object({
  from: e164,
  messageIds: z.array(z.string().min(1).max(128)).min(1).max(MAX_BULK_MESSAGES),
});

export const phoneSchema = e164;

/** Field path as a client would write it: messages[3].to */
function fieldName(path: Array<string | number>): string {
  let name = '';
  for (const part of path) name += typeof part === 'number' ? `[${part}]` : name === '' ? part : `.${part}`;
  return name === '' ? 'body' : name;
}

/** Parse or throw 422 naming the first offending field. */
export function parse<T extends z.ZodTypeAny>(schema: T, value: unknown, fieldPrefix?: string): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data as z.output<T>;
  const issue = result.error.issues[0];
  const path = issue ? [...(fieldPrefix ? [fieldPrefix] : []), ...issue.path] : [];
  const field = fieldName(path);
  const message = issue?.message ?? 'is invalid';
  return failValidation(`${field}: ${message}`, field);
}

function failValidation(message: string, field: string): never {
  throw new GatewayError(422, 'validation_error', message, { field });
}

/** The X-Session-Id header, validated (400: it is a header, not the body). */
export function sessionIdFromHeader(value: string | string[] | undefined): string {
  const id = Array.isArray(value) ? value[0] : value;
  if (id === undefined || id === '') {
    throw badRequest('missing_session_id', 'X-Session-Id header is required', { field: 'X-Session-Id' });
  }
  if (!SESSION_ID_PATTERN.test(id)) {
    throw badRequest('invalid_session_id', 'X-Session-Id must match [A-Za-z0-9_-]{1,64}', { field: 'X-Session-Id' });
  }
  return id;
}
