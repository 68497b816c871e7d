import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { createGateway, type Gateway } from '../../src/app';
import { loadConfig, type Config } from '../../src/config';
import type { Route } from '../../src/http/routes';
import { createLogger } from '../../src/logger';
import { signBody } from '../../src/signature';
import { FakeSocketFactory } from '../../src/fake/socket';

export const SECRET = 'test-secret-0123456789abcdef';

/** A fresh DATA_DIR under the run's scratch root (test/global-setup.mts removes it). */
export function tempDir(prefix = 'data-'): string {
  return fs.mkdtempSync(path.join(process.env['GATEWAY_TEST_TMP'] ?? os.tmpdir(), prefix));
}

/** Fast timings so pacing and retries are observable without slowing the suite. */
export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    GATEWAY_SHARED_SECRET: SECRET,
    HOST: '127.0.0.1',
    PORT: '0',
    DATA_DIR: tempDir(),
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    SEND_MIN_DELAY_MS: '30',
    SEND_MAX_DELAY_MS: '40',
    TYPING_MS_PER_CHAR: '1',
    TYPING_MIN_MS: '10',
    TYPING_MAX_MS: '25',
    EVENT_RETRY_BASE_MS: '20',
    EVENT_RETRY_MAX_MS: '100',
    EVENT_REQUEST_TIMEOUT_MS: '2000',
    EVENT_FSYNC: 'false',
    RECONNECT_BASE_MS: '10',
    RECONNECT_MAX_MS: '50',
    ...overrides,
  });
}

export interface CallOptions {
  body?: unknown;
  sessionId?: string;
  /** Replace the computed signature header; null sends none. */
  signature?: string | null;
  /** Sign as if at this unix time. */
  timestamp?: number;
  secret?: string;
}

export interface CallResult {
  status: number;
  /** Parsed JSON; typed loosely because assertions read arbitrary response shapes. */
  body: any;
}

export interface TestGateway {
  gateway: Gateway;
  factory: FakeSocketFactory;
  config: Config;
  baseUrl: string;
  call(method: string, urlPath: string, options?: CallOptions): Promise<CallResult>;
  close(): Promise<void>;
}

export async function startTestGateway(
  overrides: Record<string, string> = {},
  factory = new FakeSocketFactory(),
  extraRoutes: Route[] = [],
): Promise<TestGateway> {
  const config = testConfig(overrides);
  const gateway = createGateway(config, {
    factory,
    extraRoutes,
    logger: createLogger(config.logLevel),
    random: () => 0.5,
    pairingWaitMs: 500,
  });
  const address = await gateway.start();
  const baseUrl = `http://127.0.0.1:${address.port}`;

  async function call(method: string, urlPath: string, options: CallOptions = {}): Promise<CallResult> {
    const raw = options.body === undefined ? '' : JSON.stringify(options.body);
    const headers: Record<string, string> = {};
    if (raw !== '') headers['content-type'] = 'application/json';
    if (options.sessionId !== undefined) headers['x-session-id'] = options.sessionId;
    const signature =
      options.signature === undefined ? signBody(options.secret ?? SECRET, raw, options.timestamp) : options.signature;
    if (signature !== null) headers['x-greenline-signature'] = signature;
    const response = await fetch(`${baseUrl}${urlPath}`, {
      method,
      headers,
      ...(raw !== '' ? { body: raw } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text === '' ? null : JSON.parse(text) };
  }

  return { gateway, factory, config, baseUrl, call, close: () => gateway.close() };
}
