import type { Clock } from '../../src/lib/clock.js';

/**
 * A simulated clock for the sending engine: time moves only when everything else is idle, straight to the next
 * timer. Deterministic, and a 60-second campaign runs in milliseconds.
 */
export class SimClock implements Clock {
  private t: number;
  private timers: { at: number; seq: number; resolve: () => void }[] = [];
  private seq = 0;

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new Error('aborted'));
      const timer = { at: this.t + Math.max(0, ms), seq: this.seq++, resolve };
      this.timers.push(timer);
      signal?.addEventListener('abort', () => {
        this.timers = this.timers.filter((x) => x !== timer);
        reject(new Error('aborted'));
      });
    });
  }

  /** Lets promises and immediates run until nothing is left but timers. */
  static async settle(): Promise<void> {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  }

  /** Runs until `done` resolves: whenever the system is idle, jumps to the next timer. */
  async run<T>(done: Promise<T>, limitMs = 24 * 3600_000): Promise<T> {
    let finished = false;
    let value: T | undefined;
    let error: unknown;
    done.then(
      (v) => {
        finished = true;
        value = v;
      },
      (e) => {
        finished = true;
        error = e;
      },
    );
    const end = this.t + limitMs;
    while (!finished) {
      await SimClock.settle();
      if (finished) break;
      if (this.timers.length === 0) throw new Error('deadlock: nothing scheduled and not finished');
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0]!;
      if (next.at > end) throw new Error('time limit reached');
      this.t = Math.max(this.t, next.at);
      const due = this.timers.filter((x) => x.at <= this.t);
      this.timers = this.timers.filter((x) => x.at > this.t);
      for (const d of due) d.resolve();
    }
    if (error) throw error;
    return value as T;
  }
}
