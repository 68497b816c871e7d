import type { PacingConfig } from '../config';

/** How long to show "composing" for a message: proportional to its text, within the configured bounds. */
export function typingDurationMs(text: string | undefined, pacing: PacingConfig): number {
  const length = text?.length ?? 0;
  const proportional = length * pacing.typingMsPerChar;
  return Math.round(Math.min(pacing.typingMaxMs, Math.max(pacing.typingMinMs, proportional)));
}

/** A random gap between two sends of one session, uniform in [minDelayMs, maxDelayMs]. */
export function randomGapMs(pacing: PacingConfig, random: () => number = Math.random): number {
  return Math.round(pacing.minDelayMs + random() * (pacing.maxDelayMs - pacing.minDelayMs));
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    if (ms <= 0) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs jobs one at a time in arrival order; a failing job does not stop the ones behind it. */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
