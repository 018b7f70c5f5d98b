/**
 * How the sending loop sleeps: until a deadline, or until something happens (an answer, new rows, a confirmed
 * commit, Ctrl+C). Timers are not cancelled (that costs an AbortController and an AbortError per wake-up, thousands
 * per second when the window is the limit): a timer armed for an earlier or equal deadline is reused, and a stale
 * timer that fires later is a no-op. Pending timers are cancelled by close(), so that they do not keep the process
 * alive.
 */
import type { Clock } from '../../clock.js';

const TIMER_DONE = new Error('engine finished');
/** Wake-ups with nothing to wait for in a row before the loop lets I/O and timers run. */
const MAX_SPINS = 64;

export class Sleeper {
  private waker: (() => void) | null = null;
  /** The armed timer: its deadline and generation (a newer wait() makes older timers no-ops). */
  private timerAt = Number.POSITIVE_INFINITY;
  private generation = 0;
  private spins = 0;
  private readonly timers = new Set<AbortController>();

  constructor(private readonly clock: Clock) {}

  /** Wakes the sleeping loop now. */
  wake(): void {
    const w = this.waker;
    this.waker = null;
    w?.();
  }

  /** Sleeps until `until` (a time of the clock; +Infinity: until woken), or until wake(). */
  wait(until: number): Promise<void> {
    const now = this.clock.now();
    if (until <= now) {
      // nothing to wait for: go round again, but let I/O and timers run now and then
      if (++this.spins < MAX_SPINS) return Promise.resolve();
      this.spins = 0;
      return new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.spins = 0;
    return new Promise<void>((resolve) => {
      this.waker = resolve;
      if (until === Number.POSITIVE_INFINITY) return;
      if (this.timerAt <= until && this.timerAt > now) return; // the armed timer fires first: it wakes us
      const gen = ++this.generation;
      this.timerAt = until;
      const ac = new AbortController();
      this.timers.add(ac);
      this.clock.sleep(until - now, ac.signal).then(
        () => {
          this.timers.delete(ac);
          if (gen === this.generation) this.timerAt = Number.POSITIVE_INFINITY;
          this.wake();
        },
        () => this.timers.delete(ac),
      );
    });
  }

  /** Cancels the pending timers (the run is over). */
  close(): void {
    for (const ac of this.timers) ac.abort(TIMER_DONE);
    this.timers.clear();
  }
}
