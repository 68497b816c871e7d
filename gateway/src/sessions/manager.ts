import fs from 'node:fs/promises';
import path from 'node:path';

import type { PacingConfig, ReconnectConfig } from '../config';
import { notFound } from '../errors';
import type { EventSink } from '../events/types';
import type { Logger } from '../logger';
import { Session } from './session';
import type { SocketFactory } from './socket';

export interface SessionManagerOptions {
  dataDir: string;
  factory: SocketFactory;
  pacing: PacingConfig;
  reconnect: ReconnectConfig;
  logger: Logger;
  emit: EventSink;
  random?: () => number;
  pairingWaitMs?: number;
}

/** Session ids as the contract allows them; they are also directory names under DATA_DIR/sessions. */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** All sessions of this gateway process, keyed by the X-Session-Id Greenline chose. */
export class SessionManager {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly options: SessionManagerOptions) {}

  get count(): number {
    return this.sessions.size;
  }

  list(): Session[] {
    return [...this.sessions.values()];
  }

  get(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  require(id: string): Session {
    const session = this.sessions.get(id);
    if (session === undefined) throw notFound('session_not_found', `no session "${id}"; POST /sessions first`);
    return session;
  }

  /** Start a session, or restart one that ended (logged out, banned); running ones are left alone. */
  async start(id: string): Promise<Session> {
    let session = this.sessions.get(id);
    if (session === undefined) {
      const { random, pairingWaitMs, ...shared } = this.options;
      session = new Session({
        ...shared,
        id,
        ...(random !== undefined ? { random } : {}),
        ...(pairingWaitMs !== undefined ? { pairingWaitMs } : {}),
      });
      this.sessions.set(id, session);
    }
    await session.start();
    return session;
  }

  /** Stop a session, unlink it when connected, and delete its stored credentials. */
  async delete(id: string): Promise<void> {
    const session = this.sessions.get(id);
    if (session !== undefined) {
      await session.destroy();
      this.sessions.delete(id);
      return;
    }
    const dir = path.join(this.options.dataDir, 'sessions', id);
    const exists = await fs.stat(dir).then(
      () => true,
      () => false,
    );
    if (!exists) throw notFound('session_not_found', `no session "${id}"`);
    await fs.rm(dir, { recursive: true, force: true });
  }

  /** Resume every session whose stored credentials show a linked device (after a restart). */
  async resumeLinked(): Promise<string[]> {
    const root = path.join(this.options.dataDir, 'sessions');
    let entries: string[];
    try {
      entries = await fs.readdir(root);
    } catch {
      return [];
    }
    const resumed: string[] = [];
    for (const id of entries.sort()) {
      if (!SESSION_ID_PATTERN.test(id) || !(await isLinked(path.join(root, id)))) continue;
      await this.start(id);
      resumed.push(id);
    }
    this.options.logger.info({ sessions: resumed }, 'sessions.resumed');
    return resumed;
  }

  stopAll(): void {
    for (const session of this.sessions.values()) session.stop();
  }
}

async function isLinked(dir: string): Promise<boolean> {
  try {
    const creds = JSON.parse(await fs.readFile(path.join(dir, 'creds.json'), 'utf8')) as { me?: { id?: unknown } };
    return typeof creds.me?.id === 'string';
  } catch {
    return false;
  }
}
