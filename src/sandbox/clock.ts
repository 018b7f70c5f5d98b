/**
 * The sandbox's own time: real time plus an offset the control API can move forward
 * (`POST /__sandbox/clock {advance_ms}`), and a scheduler whose tasks run by that time, so advancing the
 * clock runs everything that became due (template reviews, status webhooks, retries, reconnects).
 */
export class SandboxClock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }
}

interface Task {
  at: number;
  seq: number;
  fn: () => void;
}

/** A min-heap of tasks by (time, insertion order), driven by one real timer. */
export class Scheduler {
  private heap: Task[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private running = false;
  private closed = false;
  /** Called after each batch of due tasks ran (used to flush batched webhooks). */
  afterRun: (() => void) | undefined;

  constructor(private readonly clock: SandboxClock) {}

  get size(): number {
    return this.heap.length;
  }

  after(ms: number, fn: () => void): void {
    this.at(this.clock.now() + Math.max(0, ms), fn);
  }

  at(time: number, fn: () => void): void {
    if (this.closed) return;
    this.push({ at: time, seq: this.seq++, fn });
    this.arm();
  }

  /** Moves the sandbox clock forward and runs what became due. */
  advance(ms: number): void {
    this.clock.offsetMs += Math.max(0, ms);
    this.run();
  }

  /** Runs every scheduled task now, in order, regardless of its time (used by `/__sandbox/flush`). */
  runAll(maxRounds = 10_000): number {
    let n = 0;
    while (this.heap.length > 0 && n < maxRounds) {
      const t = this.pop()!;
      n++;
      this.safe(t.fn);
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
        this.safe(t.fn);
      }
      this.afterRun?.();
    } finally {
      this.running = false;
    }
    this.arm();
  }

  clear(): void {
    this.heap = [];
    this.clearTimer();
  }

  close(): void {
    this.closed = true;
    this.clear();
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
