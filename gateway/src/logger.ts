import pino, { type Logger } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout; messages are event names such as "session.connected". */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'greenline-gateway' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
