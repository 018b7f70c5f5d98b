import { setFlagsFromString } from 'node:v8';

/**
 * Called first thing by `wacx send` and `wacx campaigns resume` (the sooner, the less the heap has grown).
 * A sending run allocates a lot of short-lived garbage (thousands of requests a second), some of which lives
 * long enough to reach the old generation. By default V8 lets the old generation grow to up to four times what
 * survived the last full collection, and keeps the young generation at its largest, before collecting again:
 * about 100 MB more than needed for a long campaign on a machine with plenty of memory. While sending, V8 is
 * told to favour memory over speed (smaller young generation, old generation growing by 30 % at most): a few
 * more, mostly concurrent, collections, which cost nothing at the rates a number can have (≤ 1,000 msg/s) and
 * about 15 % of the throughput with pacing off. Both flags are read at each collection, so setting them now works.
 */
export function keepHeapTight(): void {
  setFlagsFromString('--optimize-for-size');
  setFlagsFromString('--heap-growing-percent=30');
}
