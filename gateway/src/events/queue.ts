import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import type { Logger } from '../logger';
import { nowSeconds, SIGNATURE_HEADER, signBody } from '../signature';
import type { EventPayload, GatewayEvent } from './types';

export interface EventQueueOptions {
  dataDir: string;
  webhookUrl: string | null;
  secret: string;
  logger: Logger;
  retryBaseMs: number;
  retryMaxMs: number;
  requestTimeoutMs: number;
  concurrency: number;
  fsync: boolean;
  /** Rewrite the queue file after this many acknowledgements. */
  compactAfterAcks?: number;
  random?: () => number;
}

interface Pending {
  event: GatewayEvent;
  body: string;
  attempts: number;
  nextAttemptAt: number;
  inFlight: boolean;
}

type Outcome = { delivered: true } | { delivered: false; status?: number; error?: string };

export const EVENTS_FILE = 'events.jsonl';
export const ACKED_FILE = 'events.acked';

/**
 * At-least-once delivery of gateway events to Greenline.
 *
 * Each event is appended to DATA_DIR/events.jsonl before the first POST; its id is appended to
 * DATA_DIR/events.acked once Greenline answers 2xx. On start the events not yet acknowledged are
 * resumed in order. The two files are compacted (pending events rewritten, ack file truncated)
 * every `compactAfterAcks` acknowledgements and whenever the queue drains.
 *
 * While Greenline is unreachable (connection error, timeout, 5xx, 429) delivery pauses for an
 * exponential, jittered backoff and then probes with the oldest event alone, so a long outage
 * costs one request per backoff step rather than one per event. An event Greenline rejects
 * (other 4xx) backs off on its own without holding the others up.
 */
export class EventQueue {
  private readonly pending = new Map<string, Pending>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly options: Required<EventQueueOptions>;
  private readonly eventsPath: string;
  private readonly ackedPath: string;
  private eventsFd: number | null = null;
  private ackedFd: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private running = false;
  private consecutiveUnreachable = 0;
  private pausedUntil = 0;
  private acksSinceCompaction = 0;

  constructor(options: EventQueueOptions) {
    this.options = { compactAfterAcks: 500, random: Math.random, ...options };
    this.eventsPath = path.join(options.dataDir, EVENTS_FILE);
    this.ackedPath = path.join(options.dataDir, ACKED_FILE);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Load what a previous run left undelivered and open the files for appending. */
  open(): void {
    if (this.eventsFd !== null) return;
    fs.mkdirSync(this.options.dataDir, { recursive: true });
    const acked = new Set(readLines(this.ackedPath));
    let skipped = 0;
    for (const line of readLines(this.eventsPath)) {
      const event = parseEvent(line);
      if (event === null) {
        skipped += 1; // a line torn by a crash mid-write
        continue;
      }
      if (acked.has(event.id) || this.pending.has(event.id)) continue;
      this.pending.set(event.id, { event, body: line, attempts: 0, nextAttemptAt: 0, inFlight: false });
    }
    if (skipped > 0) this.options.logger.warn({ skipped }, 'events.unreadable_lines_skipped');
    this.eventsFd = fs.openSync(this.eventsPath, 'a');
    this.ackedFd = fs.openSync(this.ackedPath, 'a');
    if (acked.size > 0 || skipped > 0) this.compact();
    this.options.logger.info({ pending: this.pending.size }, 'events.queue_opened');
  }

  /** Begin (or resume) posting to the webhook. */
  start(): void {
    this.open();
    if (this.options.webhookUrl === null) {
      this.options.logger.warn(
        { pending: this.pending.size, hint: 'events stay on disk until GREENLINE_WEBHOOK_URL is set' },
        'events.webhook_not_configured',
      );
      return;
    }
    this.running = true;
    this.pump();
  }

  /** Persist one event, then schedule its delivery. Returns the event as it will be posted. */
  enqueue(sessionId: string, payload: EventPayload): GatewayEvent {
    if (this.eventsFd === null) throw new Error('EventQueue.open() must be called before enqueue()');
    const event = { id: randomUUID(), sessionId, timestamp: nowSeconds(), ...payload } as GatewayEvent;
    const body = JSON.stringify(event);
    fs.writeSync(this.eventsFd, `${body}\n`);
    if (this.options.fsync) fs.fsyncSync(this.eventsFd);
    this.pending.set(event.id, { event, body, attempts: 0, nextAttemptAt: 0, inFlight: false });
    this.options.logger.debug({ eventId: event.id, sessionId, type: event.type }, 'events.enqueued');
    this.pump();
    return event;
  }

  /** Stop delivering, wait for requests in flight, close the files. Pending events stay on disk. */
  async close(): Promise<void> {
    this.running = false;
    this.clearTimer();
    await Promise.allSettled([...this.inFlight]);
    for (const fd of [this.eventsFd, this.ackedFd]) if (fd !== null) fs.closeSync(fd);
    this.eventsFd = null;
    this.ackedFd = null;
  }

  private pump(): void {
    if (!this.running) return;
    this.clearTimer();
    const now = Date.now();
    if (now < this.pausedUntil) {
      this.schedule(this.pausedUntil);
      return;
    }
    // After a failure to reach Greenline, probe with one request before opening up again.
    const limit = this.consecutiveUnreachable > 0 ? 1 : this.options.concurrency;
    let nextDue = Number.POSITIVE_INFINITY;
    for (const item of this.pending.values()) {
      if (item.inFlight) continue;
      if (item.nextAttemptAt > now) {
        nextDue = Math.min(nextDue, item.nextAttemptAt);
        continue;
      }
      if (this.inFlight.size >= limit) return; // a finishing request pumps again
      this.deliver(item);
    }
    if (nextDue !== Number.POSITIVE_INFINITY) this.schedule(nextDue);
  }

  private deliver(item: Pending): void {
    item.inFlight = true;
    const attempt = this.post(item).then((outcome) => {
      item.inFlight = false;
      this.settle(item, outcome);
    });
    this.inFlight.add(attempt);
    void attempt.finally(() => {
      this.inFlight.delete(attempt);
      this.pump();
    });
  }

  private async post(item: Pending): Promise<Outcome> {
    const url = this.options.webhookUrl;
    if (url === null) return { delivered: false, error: 'webhook not configured' };
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'greenline-gateway',
          // Signed per attempt so a retry hours later is still inside the receiver's replay window.
          [SIGNATURE_HEADER]: signBody(this.options.secret, item.body),
        },
        body: item.body,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      return response.ok ? { delivered: true } : { delivered: false, status: response.status };
    } catch (error) {
      return { delivered: false, error: error instanceof Error ? describeFetchError(error) : String(error) };
    }
  }

  private settle(item: Pending, result: Outcome): void {
    const now = Date.now();
    const log = this.options.logger;
    const { id, sessionId, type } = item.event;
    if (result.delivered) {
      this.consecutiveUnreachable = 0;
      this.pausedUntil = 0;
      this.acknowledge(item);
      log.debug({ eventId: id, sessionId, type, attempts: item.attempts + 1 }, 'events.delivered');
      return;
    }
    item.attempts += 1;
    const { status, error } = result;
    const unreachable = status === undefined || status >= 500 || status === 429 || status === 408;
    if (unreachable) {
      // Requests already in flight when Greenline went away fail too; count the outage once.
      if (now >= this.pausedUntil) {
        this.consecutiveUnreachable += 1;
        this.pausedUntil = now + this.backoff(this.consecutiveUnreachable);
      }
      item.nextAttemptAt = 0;
    } else {
      this.consecutiveUnreachable = 0;
      item.nextAttemptAt = now + this.backoff(item.attempts);
    }
    const retryInMs = Math.max(unreachable ? this.pausedUntil : item.nextAttemptAt, now) - now;
    const fields = { eventId: id, sessionId, type, attempts: item.attempts, retryInMs, status, error };
    // The first failure of an outage is worth a warning; its retries are not.
    if (item.attempts === 1 || !unreachable) log.warn(fields, 'events.delivery_failed');
    else log.debug(fields, 'events.delivery_failed');
  }

  private acknowledge(item: Pending): void {
    this.pending.delete(item.event.id);
    if (this.ackedFd !== null) fs.writeSync(this.ackedFd, `${item.event.id}\n`);
    this.acksSinceCompaction += 1;
    if (this.pending.size === 0 || this.acksSinceCompaction >= this.options.compactAfterAcks) this.compact();
  }

  /** Rewrite the queue file with only the pending events, then empty the ack file. */
  private compact(): void {
    if (this.eventsFd === null || this.ackedFd === null) return;
    const tmp = `${this.eventsPath}.tmp`;
    const lines = [...this.pending.values()].map((item) => `${item.body}\n`).join('');
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, lines);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    // A crash before the rename keeps the old file plus its acks; after it, stale acks are harmless.
    fs.renameSync(tmp, this.eventsPath);
    fs.closeSync(this.eventsFd);
    this.eventsFd = fs.openSync(this.eventsPath, 'a');
    fs.ftruncateSync(this.ackedFd, 0);
    this.acksSinceCompaction = 0;
  }

  /** 1 s doubling to the cap (5 min by default), with "equal jitter": half fixed, half random. */
  private backoff(attempt: number): number {
    const exponential = this.options.retryBaseMs * 2 ** Math.min(attempt - 1, 30);
    const capped = Math.min(this.options.retryMaxMs, exponential);
    return Math.round(capped / 2 + (this.options.random() * capped) / 2);
  }

  private schedule(at: number): void {
    if (this.timer !== null && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.pump();
    }, Math.max(0, at - Date.now()));
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

function readLines(file: string): string[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text.split('\n').filter((line) => line.trim() !== '');
}

function parseEvent(line: string): GatewayEvent | null {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value !== 'object' || value === null) return null;
    const record = value as Record<string, unknown>;
    if (typeof record['id'] !== 'string' || typeof record['type'] !== 'string') return null;
    return value as GatewayEvent;
  } catch {
    return null;
  }
}

function describeFetchError(error: Error): string {
  const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? error.message;
}
