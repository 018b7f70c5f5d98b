import { setFlagsFromString } from 'node:v8';

/** Above this rate (only with --rate … --force) throughput matters more than memory. */
const FAVOUR_MEMORY_UP_TO = 1000;

/**
 * Called first thing by `wacx send` and `wacx campaigns resume` (the sooner, the less the heap has grown).
 *
 * A sending run allocates a lot of short-lived garbage (thousands of requests a second), some of which lives
 * long enough to reach the old generation. By default V8 lets the old generation grow to up to four times what
 * survived the last full collection before collecting again: ~100 MB more than needed for a long campaign on a
 * machine with plenty of memory. While sending it may grow by 30 % at most. At the rates a number can have
 * (≤ 1,000 msg/s, the default) V8 is also told to favour memory over speed (smaller young generation, earlier
 * collections): that costs nothing there, but about a third of the throughput with pacing off, so a --rate
 * above 1,000 msg/s keeps V8's defaults for it. The flags are read at each collection: setting them now works.
 */
export function keepHeapTight(rate: number | null): void {
  setFlagsFromString('--heap-growing-percent=30');
  if (rate === null || rate <= FAVOUR_MEMORY_UP_TO) setFlagsFromString('--optimize-for-size');
}
