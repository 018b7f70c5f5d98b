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

/**
 * A clock whose time only moves when a test says so (or when something sleeps, with `autoAdvance`). Without
 * `autoAdvance`, a test waits for `sleeping()` (the code under test is now idle on this clock), changes the world,
 * then `advance()`s past the sleep.
 */
export class FakeClock implements Clock {
  private current: number;
  private timers: { at: number; resolve: () => void }[] = [];
  private onSleep: (() => void)[] = [];
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
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    if (this.autoAdvance) {
      this.current += ms;
      return Promise.resolve();
    }
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const sleeping = new Promise<void>((resolve, reject) => {
      const timer = { at: this.current + ms, resolve };
      this.timers.push(timer);
      signal?.addEventListener(
        'abort',
        () => {
          this.timers = this.timers.filter((t) => t !== timer);
          reject(abortError(signal));
        },
        { once: true },
      );
    });
    for (const notify of this.onSleep.splice(0)) notify();
    return sleeping;
  }
  /** Resolves once something sleeps on this clock (at once when a sleep is already pending). */
  sleeping(): Promise<void> {
    if (this.timers.length > 0) return Promise.resolve();
    return new Promise((resolve) => this.onSleep.push(resolve));
  }
  advance(ms: number): void {
    this.current += ms;
    const due = this.timers.filter((t) => t.at <= this.current);
    this.timers = this.timers.filter((t) => t.at > this.current);
    for (const t of due) t.resolve();
  }
}
