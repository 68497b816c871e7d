import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '../src/config';

const SECRET = 'a-long-enough-shared-secret';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({ GATEWAY_SHARED_SECRET: SECRET });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 3001,
      sharedSecret: SECRET,
      dataDir: path.resolve('./data'),
      logLevel: 'info',
      autoResume: true,
      waVersion: null,
      pacing: { minDelayMs: 3000, maxDelayMs: 8000, typingEnabled: true, checkRecipient: true },
      events: { webhookUrl: null, retryBaseMs: 1000, retryMaxMs: 300_000 },
    });
  });

  it('refuses to start without a shared secret outside development', () => {
    expect(() => loadConfig({})).toThrow(ConfigError);
    expect(() => loadConfig({ NODE_ENV: 'production', GATEWAY_SHARED_SECRET: 'short' })).toThrow(/at least 16/);
  });

  it('uses a development secret when NODE_ENV=development', () => {
    const config = loadConfig({ NODE_ENV: 'development' });
    expect(config.sharedSecret.length).toBeGreaterThanOrEqual(16);
  });

  it('reads every problem at once', () => {
    try {
      loadConfig({
        GATEWAY_SHARED_SECRET: SECRET,
        PORT: 'eighty',
        SEND_MIN_DELAY_MS: '5000',
        SEND_MAX_DELAY_MS: '1000',
        GREENLINE_WEBHOOK_URL: 'ftp://example.com',
        LOG_LEVEL: 'loud',
        TYPING_ENABLED: 'maybe',
        WA_VERSION: '2.3000',
      });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems.join('\n');
      for (const name of ['PORT', 'SEND_MAX_DELAY_MS', 'GREENLINE_WEBHOOK_URL', 'LOG_LEVEL', 'TYPING_ENABLED', 'WA_VERSION']) {
        expect(problems).toContain(name);
      }
    }
  });

  it('parses pacing, delivery and version settings', () => {
    const config = loadConfig({
      GATEWAY_SHARED_SECRET: SECRET,
      GREENLINE_WEBHOOK_URL: 'http://127.0.0.1:8000/api/v1/webhooks/baileys',
      SEND_MIN_DELAY_MS: '1000',
      SEND_MAX_DELAY_MS: '2000',
      TYPING_ENABLED: 'false',
      WA_VERSION: '2,3000,1023223821',
      DATA_DIR: '/var/lib/greenline-gateway',
    });
    expect(config.pacing).toMatchObject({ minDelayMs: 1000, maxDelayMs: 2000, typingEnabled: false });
    expect(config.events.webhookUrl).toBe('http://127.0.0.1:8000/api/v1/webhooks/baileys');
    expect(config.waVersion).toEqual([2, 3000, 1_023_223_821]);
    expect(config.dataDir).toBe('/var/lib/greenline-gateway');
  });
});
