import { UsageError } from '../errors.js';
import type { PhoneNumber } from '../graph/types.js';

/** Fields of the phone number node that decide the throughput (meta-cloud-api.md §3.1, §4.1). */
export const THROUGHPUT_FIELDS = [
  'id',
  'display_phone_number',
  'is_on_biz_app',
  'platform_type',
  'throughput',
  'status',
] as const;

/** The highest throughput the API gives any number (HIGH, §4.1). */
export const MAX_THROUGHPUT = 1000;

export interface Throughput {
  /** Messages per second the API allows this number. */
  mps: number;
  /** Why, for people: "coexistence number (is_on_biz_app)", "throughput level STANDARD", … */
  source: string;
}

/** Coexistence numbers have a fixed 20 mps; otherwise STANDARD 80 and HIGH 1,000 (§4.1). */
export function numberThroughput(pn: Pick<PhoneNumber, 'is_on_biz_app' | 'throughput'>): Throughput {
  if (pn.is_on_biz_app) return { mps: 20, source: 'coexistence number (is_on_biz_app): fixed 20 msg/s' };
  const level = pn.throughput?.level;
  if (level === 'HIGH') return { mps: MAX_THROUGHPUT, source: 'throughput level HIGH: 1,000 msg/s' };
  if (level === 'STANDARD') return { mps: 80, source: 'throughput level STANDARD: 80 msg/s' };
  return { mps: 80, source: `throughput level ${level ?? 'not reported'}: assuming 80 msg/s` };
}

/** The default rate stays this much under the number's limit (inbound messages count toward it too). */
export const SAFETY_MARGIN = 0.05;

/** `--rate` above what any number may send is refused before the number is looked up. */
export function checkRateCeiling(requested: number | null, force: boolean): void {
  if (requested !== null && requested > MAX_THROUGHPUT && !force) {
    throw new UsageError(
      `--rate ${requested} is above the highest throughput a number can have (${MAX_THROUGHPUT} msg/s).`,
      {
        location: '--rate',
        hint: `Use --rate ${MAX_THROUGHPUT} or less; pass --force only if Meta raised this number's limit (sends over the limit fail with 130429).`,
      },
    );
  }
}

/** The rate to send at: `--rate` (at most the number's limit unless --force), else the limit minus the margin. */
export function resolveRate(requested: number | null, force: boolean, limit: Throughput): number {
  if (requested === null) return Math.max(1, Math.floor(limit.mps * (1 - SAFETY_MARGIN) * 100) / 100);
  if (!(requested > 0) || !Number.isFinite(requested)) {
    throw new UsageError(`--rate must be a positive number of messages per second, got ${requested}.`, {
      location: '--rate',
    });
  }
  if (requested > limit.mps && !force) {
    throw new UsageError(`--rate ${requested} is above this number's throughput (${limit.source}).`, {
      location: '--rate',
      hint: `Use --rate ${limit.mps} or less; pass --force only if Meta raised this number's limit (sends over the limit fail with 130429).`,
    });
  }
  return requested;
}

/** The most connections a send opens to the API: its undici Pool has min(window, this) (run.ts). */
export const MAX_SEND_CONNECTIONS = 128;

/**
 * Requests in flight by default: about half a second of sending, at least 8, at most 512. With pacing off (a rate
 * above any number's throughput, only with --force, against a server that answers in milliseconds) twice as many as
 * the Pool has connections: while one half is on the wire, the next half's in_flight marks are being committed, and
 * those requests wait in the client for the first free connection instead of for the commit. With as many as the
 * connections, every commit left connections idle (we measured 6 to 11 % fewer sends/s, 1.8 times the commits); with
 * four times as many (512), the waiting requests' objects outlived collections (twice the young-generation
 * collections, five times the full ones).
 */
export function defaultWindow(rate: number): number {
  if (rate > MAX_THROUGHPUT) return 2 * MAX_SEND_CONNECTIONS;
  return Math.min(512, Math.max(8, Math.ceil(rate * 0.5)));
}
