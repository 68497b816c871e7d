import http, { type IncomingMessage, type ServerResponse } from 'node:http';

import { GatewayError } from '../errors';
import type { Logger } from '../logger';
import { SIGNATURE_HEADER, verifySignature } from '../signature';
import type { Reply, Route } from './routes';

export interface HttpServerOptions {
  routes: Route[];
  secret: string;
  maxBodyBytes: number;
  logger: Logger;
}

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
}

const SIGNATURE_MESSAGES = {
  missing: 'X-Greenline-Signature header is required',
  malformed: 'X-Greenline-Signature must look like t=<unix seconds>,v1=<hex>',
  stale: 'the signature timestamp is more than 300 seconds away from the gateway clock',
  mismatch: 'the signature does not match the request body',
} as const;

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.path
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}/?$`), names };
}

/** A small router on node:http: raw body -> HMAC check -> JSON -> handler -> JSON reply. */
export function createHttpServer(options: HttpServerOptions): http.Server {
  const compiled = options.routes.map(compile);
  const log = options.logger;

  return http.createServer((request, response) => {
    const started = performance.now();
    void handle(request, response).then((status) => {
      const path = (request.url ?? '/').split('?')[0];
      const fields = {
        method: request.method,
        path,
        status,
        durationMs: Math.round(performance.now() - started),
        sessionId: String(request.headers['x-session-id'] ?? '').slice(0, 64) || undefined,
      };
      if (path === '/health' && status === 200) log.debug(fields, 'http.request');
      else log.info(fields, 'http.request');
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<number> {
    try {
      const url = new URL(request.url ?? '/', 'http://gateway.invalid');
      const candidates = compiled
        .map((entry) => ({ entry, match: entry.pattern.exec(url.pathname) }))
        .filter((candidate) => candidate.match !== null);
      const found = candidates.find((candidate) => candidate.entry.route.method === request.method);

      const raw = await readBody(request, options.maxBodyBytes);
      if (found?.entry.route.signed !== false) {
        const header = request.headers[SIGNATURE_HEADER];
        const check = verifySignature(options.secret, Array.isArray(header) ? header[0] : header, raw);
        if (!check.ok) throw new GatewayError(401, 'unauthorized', SIGNATURE_MESSAGES[check.reason]);
      }
      if (found === undefined) {
        if (candidates.length > 0) {
          response.setHeader('allow', candidates.map((candidate) => candidate.entry.route.method).join(', '));
          throw new GatewayError(405, 'method_not_allowed', `${request.method} is not allowed on ${url.pathname}`);
        }
        throw new GatewayError(404, 'not_found', `no route for ${request.method} ${url.pathname}`);
      }

      const params: Record<string, string> = {};
      found.entry.names.forEach((name, index) => {
        params[name] = decodeParam(found.match?.[index + 1] ?? '', name);
      });
      const reply = await found.entry.route.handler({ params, headers: request.headers, body: parseJson(raw) });
      return send(response, reply);
    } catch (error) {
      return send(response, renderError(error, log));
    }
  }
}

function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => {
      if (tooLarge) reject(new GatewayError(413, 'payload_too_large', `the body exceeds ${limit} bytes`));
      else resolve(Buffer.concat(chunks));
    });
    request.on('error', reject);
  });
}

function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new GatewayError(400, 'invalid_json', 'the body is not valid JSON');
  }
}

function decodeParam(value: string, name: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    throw new GatewayError(400, 'invalid_path', `the ${name} in the path is not valid URL encoding`, { field: name });
  }
}

function renderError(error: unknown, log: Logger): Reply {
  if (error instanceof GatewayError) {
    const body: { code: string; message: string; details?: Record<string, unknown> } = {
      code: error.code,
      message: error.message,
    };
    if (error.details !== undefined) body.details = error.details;
    return { status: error.status, body: { error: body } };
  }
  log.error({ err: error }, 'http.unhandled_error');
  return { status: 500, body: { error: { code: 'internal_error', message: 'internal error' } } };
}

function send(response: ServerResponse, reply: Reply): number {
  const body = JSON.stringify(reply.body);
  response.writeHead(reply.status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  response.end(body);
  return reply.status;
}
