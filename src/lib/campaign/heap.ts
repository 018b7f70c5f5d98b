import { setFlagsFromString } from 'node:v8';

/**
 * A sending run allocates a lot of short-lived garbage (thousands of requests a second), some of which lives
 * long enough to reach the old generation. By default V8 lets the old generation grow to up to four times what
 * survived the last full collection before collecting again: hundreds of MB for a long campaign on a machine
 * with plenty of memory. Growing by 30 % at most keeps the peak close to what is really live, for a few more
 * (incremental, mostly concurrent) collections. The flag is read at each collection, so setting it now works.
 */
export function keepHeapTight(): void {
  setFlagsFromString('--heap-growing-percent=30');
}
