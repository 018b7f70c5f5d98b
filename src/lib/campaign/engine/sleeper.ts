/**
 * How the sending loop sleeps: until a deadline, or until something happens (an answer, new rows, a confirmed
 * commit, Ctrl+C). Timers are not cancelled one by one (an AbortController per wait costs ~1 KB, per message at
 * high rates): a timer armed for an earlier or equal deadline is reused, a stale timer that fires later is a no-op,
 * and close() cancels all pending timers through the one signal they share, so that they do not keep the process
 * alive.
 */
import { setMaxListeners } from 'node:events';
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
  private readonly timers = new AbortController();

  constructor(private readonly clock: Clock) {
    // each pending timer listens to it (stale ones until they fire): no "possible leak" warning for that
    setMaxListeners(Number.POSITIVE_INFINITY, this.timers.signal);
  }

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
      this.clock.sleep(until - now, this.timers.signal).then(
        () => {
          if (gen === this.generation) this.timerAt = Number.POSITIVE_INFINITY;
          this.wake();
        },
        () => {},
      );
    });
  }

  /** Cancels the pending timers (the run is over). */
  close(): void {
    this.timers.abort(TIMER_DONE);
  }
}
