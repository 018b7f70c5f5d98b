/**
 * How the sending loop sleeps: until a deadline, or until something happens (an answer, new rows, a confirmed
 * commit, Ctrl+C). A timer armed for an earlier or equal deadline is reused. On the system clock there is one
 * timer, re-armed in place (an AbortController per armed timer cost ~1 KB, nearly one per message at high rates);
 * on another clock (tests) timers are not cancelled one by one: a stale timer that fires later is a no-op, and
 * pending ones are cancelled by close(). Either way nothing pending keeps the process alive after close().
 */
import { type Clock, systemClock } from '../../clock.js';

const TIMER_DONE = new Error('engine finished');
/** Wake-ups with nothing to wait for in a row before the loop lets I/O and timers run. */
const MAX_SPINS = 64;

export class Sleeper {
  private waker: (() => void) | null = null;
  /** The armed timer: its deadline and generation (a newer wait() makes older timers no-ops). */
  private timerAt = Number.POSITIVE_INFINITY;
  private generation = 0;
  private spins = 0;
  /** The one timer, on the system clock. */
  private timer: NodeJS.Timeout | undefined;
  /** Pending timers, on another clock. */
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
      this.timerAt = until;
      if (this.clock === systemClock) {
        clearTimeout(this.timer);
        this.timer = setTimeout(this.fired, until - now);
        return;
      }
      const gen = ++this.generation;
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

  private readonly fired = (): void => {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.wake();
  };

  /** Cancels the pending timers (the run is over). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const ac of this.timers) ac.abort(TIMER_DONE);
    this.timers.clear();
  }
}
