import http from 'node:http';
import type { AddressInfo } from 'node:net';

import type { GatewayEvent } from '../../src/events/types';
import { SIGNATURE_HEADER, verifySignature } from '../../src/signature';
import { waitUntil } from './wait';

/** Greenline's webhook as the gateway sees it: verifies each signature, records each event. */
export class Receiver {
  readonly events: GatewayEvent[] = [];
  readonly rejectedSignatures: string[] = [];
  requests = 0;
  /** Status to answer with; anything but 2xx makes the gateway retry. */
  respondWith = 200;
  /** Per-event answer, overriding respondWith. */
  decide: ((event: GatewayEvent) => number) | null = null;
  private server: http.Server | null = null;
  private port = 0;

  constructor(private readonly secret: string) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/api/v1/webhooks/baileys`;
  }

  /** Listen; on a restart, the same port as before. */
  async start(): Promise<void> {
    const server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.requests += 1;
        const raw = Buffer.concat(chunks);
        const header = request.headers[SIGNATURE_HEADER];
        const check = verifySignature(this.secret, Array.isArray(header) ? header[0] : header, raw);
        if (!check.ok) {
          this.rejectedSignatures.push(check.reason);
          response.writeHead(401).end();
          return;
        }
        const event = JSON.parse(raw.toString('utf8')) as GatewayEvent;
        const status = this.decide?.(event) ?? this.respondWith;
        if (status >= 200 && status < 300) this.events.push(event);
        response.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  ofType<T extends GatewayEvent['type']>(type: T): Array<Extract<GatewayEvent, { type: T }>> {
    return this.events.filter((event): event is Extract<GatewayEvent, { type: T }> => event.type === type);
  }

  async waitFor(predicate: (events: GatewayEvent[]) => boolean, timeoutMs = 5000): Promise<void> {
    await waitUntil(() => predicate(this.events), timeoutMs, 'receiver events');
  }
}
