/**
 * The in-flight window of the sending loop, driven by the observed answer times (pure: it is told what happened).
 *
 * The window in use is what the rate needs at the observed answer time (twice the smoothed latency, plus 20 ms), at
 * most the configured maximum. Against a slow API (Meta answers in a few hundred ms) it opens up; against a fast one
 * it stays small, so that a pause of the receiver never leaves a big bunch of requests queued to arrive at once.
 *
 * It also tells when an answer shows that the API paused: an answer slower than the fastest recent ones by more than
 * ARRIVAL_SLACK_MS means the request waited at the API (a pause, then a bunch processed at once), so it is counted as
 * arriving that much before its answer. The slack absorbs the few milliseconds our own event loop may take to notice
 * an answer.
 */

export const ARRIVAL_SLACK_MS = 3;
/** The smallest window, whatever the rate. */
export const MIN_WINDOW = 4;

export class InFlightWindow {
  /** Smoothed answer time (ms). */
  private latencyMs = 50;
  /** A slowly rising minimum of the answer times (ms). */
  private fastestMs = 50;

  constructor(readonly max: number) {}

  get latency(): number {
    return this.latencyMs;
  }

  get fastest(): number {
    return this.fastestMs;
  }

  /** Requests that may be planned or in flight at `rate` msg/s. */
  size(rate: number): number {
    return Math.min(this.max, Math.max(MIN_WINDOW, this.needed(rate)));
  }

  /**
   * When the window is the limit, batches smaller than this wait a little for more free slots (one commit each): a
   * quarter of the window; half when the window is capped below what the rate needs (pacing off, or an API slower
   * than the rate), where the answers set the pace and each commit's fixed cost (its fsync and WAL pages, the
   * hand-over to the writer thread) is paid per batch: we measured a quarter less CPU in the ledger writer.
   */
  batchMin(rate: number): number {
    const size = this.size(rate);
    return Math.max(1, Math.floor(size / (this.needed(rate) > this.max ? 2 : 4)));
  }

  private needed(rate: number): number {
    return Math.ceil((rate * (2 * this.latencyMs + 20)) / 1000) + 2;
  }

  /**
   * An answer that took `tookMs`. Returns when the request is estimated to have reached the API, or null when it
   * is as expected (left, then answered in about the usual time). `first`: the run's first request, which also
   * opened a connection and met cold code at both ends: how long it took to reach the API is unknown, so it counts
   * as arriving just before its answer.
   */
  answered(tookMs: number, now: number, first: boolean): number | null {
    this.latencyMs += 0.2 * (tookMs - this.latencyMs);
    // the fastest recent answers tell how long a request takes when the API is not paused
    this.fastestMs = Math.min(tookMs, this.fastestMs + 0.01 * Math.max(0, this.latencyMs - this.fastestMs));
    if (first) return now - ARRIVAL_SLACK_MS;
    // a pause of the API (not a few ms of our own event loop noticing the answer late)
    if (tookMs > this.fastestMs + ARRIVAL_SLACK_MS) return now - this.fastestMs - ARRIVAL_SLACK_MS;
    return null;
  }
}
