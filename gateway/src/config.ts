import path from 'node:path';

/** Pacing that makes a linked device behave like a person typing, not a script. */
export interface PacingConfig {
  /** Lower bound of the randomised gap between two sends of one session. */
  minDelayMs: number;
  /** Upper bound of that gap. */
  maxDelayMs: number;
  /** Show "composing" (or "recording" for audio) before each send. */
  typingEnabled: boolean;
  /** Typing time per character of text or caption, bounded by typingMinMs..typingMaxMs. */
  typingMsPerChar: number;
  typingMinMs: number;
  typingMaxMs: number;
  /** Ask WhatsApp whether the recipient exists before sending (sending to unknown numbers is a ban signal). */
  checkRecipient: boolean;
}

export interface EventDeliveryConfig {
  /** Where events are POSTed; null keeps them queued on disk until a URL is configured. */
  webhookUrl: string | null;
  retryBaseMs: number;
  retryMaxMs: number;
  requestTimeoutMs: number;
  concurrency: number;
  /** fsync the queue file after each append (survives power loss, not just a crash). */
  fsync: boolean;
}

export interface ReconnectConfig {
  baseMs: number;
  maxMs: number;
}

/**
 * The test-only fake WhatsApp server (GATEWAY_FAKE_WHATSAPP): sessions talk to an in-process fake
 * instead of WhatsApp, so end-to-end tests can drive the real process. Refused in production.
 */
export interface FakeWhatsAppConfig {
  /** `open`: a new session links at once; `qr`: it shows a fake QR first, "scanned" after qrMs. */
  login: 'open' | 'qr';
  qrMs: number;
  /** Delay from one receipt to the next after a send: delivered after this, read after twice this. */
  receiptMs: number;
}

export interface Config {
  env: string;
  host: string;
  port: number;
  sharedSecret: string;
  dataDir: string;
  logLevel: string;
  baileysLogLevel: string;
  maxBodyBytes: number;
  /** Resume every linked session found under DATA_DIR/sessions at start-up. */
  autoResume: boolean;
  /** Appear "online" when connected (the phone then stops showing notifications). */
  markOnlineOnConnect: boolean;
  /** WhatsApp Web version announced by Baileys; null fetches the current one at first connect. */
  waVersion: [number, number, number] | null;
  pacing: PacingConfig;
  events: EventDeliveryConfig;
  reconnect: ReconnectConfig;
  /** null unless the test-only fake mode is on. */
  fakeWhatsApp: FakeWhatsAppConfig | null;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid gateway configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const DEVELOPMENT_SECRET = 'greenline-development-secret';
const MIN_SECRET_LENGTH = 16;

type Env = Record<string, string | undefined>;

class EnvReader {
  readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      this.problems.push(`${name} must be an integer between ${min} and ${max}, got "${value}"`);
      return fallback;
    }
    return parsed;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    this.problems.push(`${name} must be true or false, got "${value}"`);
    return fallback;
  }

  waVersion(name: string): [number, number, number] | null {
    const value = this.raw(name);
    if (value === undefined) return null;
    const parts = value.split(/[.,]/).map((part) => Number(part.trim()));
    const [major, minor, patch] = parts;
    if (parts.length !== 3 || !parts.every((part) => Number.isInteger(part) && part >= 0)) {
      this.problems.push(`${name} must look like "2,3000,1023223821", got "${value}"`);
      return null;
    }
    return [major ?? 0, minor ?? 0, patch ?? 0];
  }

  choice<T extends string>(name: string, choices: readonly T[], fallback: T): T {
    const value = this.raw(name)?.toLowerCase();
    if (value === undefined) return fallback;
    const found = choices.find((choice) => choice === value);
    if (found === undefined) this.problems.push(`${name} must be one of ${choices.join(', ')}, got "${value}"`);
    return found ?? fallback;
  }

  level(name: string, fallback: string): string {
    const value = this.string(name, fallback).toLowerCase();
    if (!LOG_LEVELS.includes(value)) {
      this.problems.push(`${name} must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
      return fallback;
    }
    return value;
  }
}

/** Build the one typed config object from the environment; throws ConfigError listing every problem. */
export function loadConfig(env: Env = process.env): Config {
  const read = new EnvReader(env);
  const nodeEnv = read.string('NODE_ENV', 'production');
  const isDevelopment = nodeEnv === 'development';

  let sharedSecret = read.raw('GATEWAY_SHARED_SECRET');
  if (sharedSecret === undefined) {
    if (isDevelopment) sharedSecret = DEVELOPMENT_SECRET;
    else read.problems.push('GATEWAY_SHARED_SECRET is required (set NODE_ENV=development to use a development secret)');
  } else if (!isDevelopment && sharedSecret.length < MIN_SECRET_LENGTH) {
    read.problems.push(`GATEWAY_SHARED_SECRET must be at least ${MIN_SECRET_LENGTH} characters`);
  }

  const webhookUrl = read.raw('GREENLINE_WEBHOOK_URL') ?? null;
  if (webhookUrl !== null && !isHttpUrl(webhookUrl)) {
    read.problems.push(`GREENLINE_WEBHOOK_URL must be an http(s) URL, got "${webhookUrl}"`);
  }

  const hour = 3_600_000;
  const pacing: PacingConfig = {
    minDelayMs: read.int('SEND_MIN_DELAY_MS', 3000, 0, hour),
    maxDelayMs: read.int('SEND_MAX_DELAY_MS', 8000, 0, hour),
    typingEnabled: read.bool('TYPING_ENABLED', true),
    typingMsPerChar: read.int('TYPING_MS_PER_CHAR', 40, 0, 10_000),
    typingMinMs: read.int('TYPING_MIN_MS', 800, 0, 60_000),
    typingMaxMs: read.int('TYPING_MAX_MS', 5000, 0, 60_000),
    checkRecipient: read.bool('CHECK_RECIPIENT', true),
  };
  if (pacing.maxDelayMs < pacing.minDelayMs) {
    read.problems.push('SEND_MAX_DELAY_MS must be greater than or equal to SEND_MIN_DELAY_MS');
  }
  if (pacing.typingMaxMs < pacing.typingMinMs) {
    read.problems.push('TYPING_MAX_MS must be greater than or equal to TYPING_MIN_MS');
  }

  const events: EventDeliveryConfig = {
    webhookUrl,
    retryBaseMs: read.int('EVENT_RETRY_BASE_MS', 1000, 1, hour),
    retryMaxMs: read.int('EVENT_RETRY_MAX_MS', 300_000, 1, 24 * hour),
    requestTimeoutMs: read.int('EVENT_REQUEST_TIMEOUT_MS', 10_000, 100, 300_000),
    concurrency: read.int('EVENT_CONCURRENCY', 4, 1, 64),
    fsync: read.bool('EVENT_FSYNC', true),
  };

  const reconnect: ReconnectConfig = {
    baseMs: read.int('RECONNECT_BASE_MS', 1000, 0, hour),
    maxMs: read.int('RECONNECT_MAX_MS', 60_000, 0, hour),
  };

  let fakeWhatsApp: FakeWhatsAppConfig | null = null;
  if (read.bool('GATEWAY_FAKE_WHATSAPP', false)) {
    if (nodeEnv === 'production') {
      read.problems.push('GATEWAY_FAKE_WHATSAPP is a test-only mode and is refused with NODE_ENV=production');
    }
    fakeWhatsApp = {
      login: read.choice('FAKE_WHATSAPP_LOGIN', ['open', 'qr'] as const, 'open'),
      qrMs: read.int('FAKE_WHATSAPP_QR_MS', 1000, 0, hour),
      receiptMs: read.int('FAKE_WHATSAPP_RECEIPT_MS', 200, 0, hour),
    };
  }

  const config: Config = {
    env: nodeEnv,
    host: read.string('HOST', '127.0.0.1'),
    port: read.int('PORT', 3001, 0, 65_535),
    sharedSecret: sharedSecret ?? '',
    dataDir: path.resolve(read.string('DATA_DIR', './data')),
    logLevel: read.level('LOG_LEVEL', 'info'),
    baileysLogLevel: read.level('BAILEYS_LOG_LEVEL', 'warn'),
    maxBodyBytes: read.int('MAX_BODY_BYTES', 1_048_576, 1024, 64 * 1_048_576),
    autoResume: read.bool('AUTO_RESUME', true),
    markOnlineOnConnect: read.bool('MARK_ONLINE_ON_CONNECT', false),
    waVersion: read.waVersion('WA_VERSION'),
    pacing,
    events,
    reconnect,
    fakeWhatsApp,
  };

  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
