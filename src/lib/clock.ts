/** Time, injectable so that tests can fake it. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms`; rejects with an AbortError when the signal fires. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortError(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    }),
};

function abortError(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  const err = new Error('The operation was aborted');
  err.name = 'AbortError';
  return err;
}

/** A clock whose time only moves when a test says so (or when something sleeps, with `autoAdvance`). */
export class FakeClock implements Clock {
  private current: number;
  private timers: { at: number; resolve: () => void }[] = [];
  readonly sleeps: number[] = [];
  constructor(
    start = Date.UTC(2026, 10, 24, 12, 0, 0),
    private readonly autoAdvance = true,
  ) {
    this.current = start;
  }
  now(): number {
    return this.current;
  }
  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    if (this.autoAdvance) {
      this.current += ms;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.timers.push({ at: this.current + ms, resolve }));
  }
  advance(ms: number): void {
    this.current += ms;
    const due = this.timers.filter((t) => t.at <= this.current);
    this.timers = this.timers.filter((t) => t.at > this.current);
    for (const t of due) t.resolve();
  }
}
