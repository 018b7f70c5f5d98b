import type { Clock } from '../clock.js';
import { CancelledError, WacxError } from '../errors.js';
import { isMissingSchema } from '../store/database.js';
import type { Db } from '../store/store.js';

/** A webhook event stored by `wacx webhooks serve` (or `webhooks ingest`) in this profile's store. */
export interface SeenDelivery {
  field: string;
  kind: string;
  summary: string;
  receivedAt: number;
}

/**
 * The latest webhook that reached the store and proves deliveries work for this onboarding: one received
 * since the onboarding started, or one about its WABA or number. Null when the store has none (or no table).
 */
export function seenDelivery(
  db: Db,
  p: { since: number; wabaId: string | null; phoneNumberId: string | null },
): SeenDelivery | null {
  try {
    const row = db
      .prepare(
        `SELECT field, kind, summary, received_at FROM webhook_events
         WHERE received_at >= ? OR waba_id = ? OR phone_number_id = ?
         ORDER BY received_at DESC LIMIT 1`,
      )
      .get(p.since, p.wabaId ?? '', p.phoneNumberId ?? '') as
      | { field: string; kind: string; summary: string; received_at: number }
      | undefined;
    return row
      ? { field: row.field, kind: row.kind, summary: row.summary, receivedAt: row.received_at }
      : null;
  } catch (error) {
    if (isMissingSchema(error)) return null;
    throw error;
  }
}

export const DELIVERY_POLL_MS = 500;

/**
 * Waits (polling the store) until a webhook reached it, or the timeout: the one-shot syncs must not be
 * requested while their import would arrive nowhere.
 */
export async function waitForDelivery(p: {
  db: Db;
  clock: Clock;
  signal: AbortSignal;
  timeoutMs: number;
  since: number;
  wabaId: string | null;
  phoneNumberId: string | null;
}): Promise<SeenDelivery> {
  const deadline = p.clock.now() + p.timeoutMs;
  for (;;) {
    const seen = seenDelivery(p.db, p);
    if (seen) return seen;
    const left = deadline - p.clock.now();
    if (left <= 0) throw new NoDeliveryError(p.timeoutMs);
    try {
      await p.clock.sleep(Math.min(DELIVERY_POLL_MS, left), p.signal);
    } catch (error) {
      if (p.signal.aborted) throw new CancelledError('Cancelled while waiting for a webhook.');
      throw error;
    }
  }
}

export class NoDeliveryError extends WacxError {
  constructor(timeoutMs: number) {
    super(
      `No webhook reached this profile's store within ${Math.round(timeoutMs / 1000)} s: the contact and history syncs were not requested (Meta accepts each once; without webhooks their import would be lost).`,
      {
        hint: "Run `wacx webhooks serve` (same profile) behind the app's callback URL, check that a delivery arrives (App Dashboard › WhatsApp › Configuration › Webhooks › Test), then run `wacx onboard` again within 24 h: it resumes here. Or pass --sync-without-webhooks to request them anyway.",
      },
    );
  }
}
