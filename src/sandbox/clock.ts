/**
 * The sandbox's own time: real time plus an offset the control API can move forward
 * (`POST /__sandbox/clock {advance_ms}`), and a scheduler whose tasks run by that time, so advancing the
 * clock runs everything that became due (template reviews, status webhooks, retries, reconnects).
 */
export class SandboxClock {
  offsetMs = 0;
  /** When set, time stands still at this value (tests); advancing moves it. */
  frozenAt: number | null = null;
  now(): number {
    return this.frozenAt ?? Date.now() + this.offsetMs;
  }
  freeze(on: boolean): void {
    if (on && this.frozenAt === null) this.frozenAt = this.now();
    else if (!on && this.frozenAt !== null) {
      this.offsetMs = this.frozenAt - Date.now();
      this.frozenAt = null;
    }
  }
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }
}

interface Task {
  at: number;
  seq: number;
  fns: (() => void)[];
}

/** A min-heap of tasks by (time, insertion order), driven by one real timer. */
export class Scheduler {
  private heap: Task[] = [];
  /** Tasks not yet run, by due time: work due at the same millisecond shares one heap entry. */
  private byTime = new Map<number, Task>();
  private count = 0;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private running = false;
  private closed = false;
  /** Called after each batch of due tasks ran (used to flush batched webhooks). */
  afterRun: (() => void) | undefined;

  constructor(private readonly clock: SandboxClock) {}

  /** Number of scheduled functions. */
  get size(): number {
    return this.count;
  }

  /** Due time of the next task, or undefined. */
  nextAt(): number | undefined {
    return this.heap[0]?.at;
  }

  after(ms: number, fn: () => void): void {
    this.at(this.clock.now() + Math.max(0, ms), fn);
  }

  at(time: number, fn: () => void): void {
    if (this.closed) return;
    this.count++;
    const existing = this.byTime.get(time);
    if (existing) {
      existing.fns.push(fn);
      return;
    }
    const task: Task = { at: time, seq: this.seq++, fns: [fn] };
    this.byTime.set(time, task);
    this.push(task);
    this.arm();
  }

  /** Moves the sandbox clock forward and runs what became due. */
  advance(ms: number): void {
    const step = Math.max(0, ms);
    if (this.clock.frozenAt !== null) this.clock.frozenAt += step;
    else this.clock.offsetMs += step;
    this.run();
  }

  /** Runs every scheduled task now, in order, regardless of its time (used by `/__sandbox/flush`). */
  runAll(maxRounds = 10_000): number {
    let n = 0;
    while (this.heap.length > 0 && n < maxRounds) {
      const t = this.pop()!;
      n++;
      this.runTask(t);
    }
    this.afterRun?.();
    this.arm();
    return n;
  }

  run(): void {
    if (this.running) return;
    this.running = true;
    try {
      this.clearTimer();
      const now = this.clock.now();
      while (this.heap.length > 0 && this.heap[0]!.at <= now) {
        const t = this.pop()!;
        this.runTask(t);
      }
      this.afterRun?.();
    } finally {
      this.running = false;
    }
    this.arm();
  }

  clear(): void {
    this.heap = [];
    this.byTime.clear();
    this.count = 0;
    this.clearTimer();
  }

  close(): void {
    this.closed = true;
    this.clear();
  }

  private runTask(t: Task): void {
    if (this.byTime.get(t.at) === t) this.byTime.delete(t.at);
    this.count -= t.fns.length;
    for (const fn of t.fns) this.safe(fn);
  }

  private safe(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      process.emitWarning(`sandbox task failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private arm(): void {
    if (this.closed || this.running) return;
    const head = this.heap[0];
    if (!head) return;
    if (this.timer && head.at >= this.timerAt) return;
    this.clearTimer();
    this.timerAt = head.at;
    this.timer = setTimeout(() => this.run(), Math.max(0, head.at - this.clock.now()));
    this.timer.unref();
  }

  private less(a: Task, b: Task): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(t: Task): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Task | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
