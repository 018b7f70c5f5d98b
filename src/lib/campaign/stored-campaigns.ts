import { hostname } from 'node:os';
import type { Clock } from '../clock.js';
import { UsageError } from '../errors.js';
import { tableExists } from '../store/database.js';
import type { Store } from '../store/store.js';
import { meaningOfCode, meaningOfSkip } from './events.js';
import { LEASE_STALE_MS } from './lease.js';
import { type Campaign, type Counts, Ledger } from './ledger.js';
import { type ReconcileResult, reconcileUnknown } from './reconcile.js';
import type { RowOutcome } from './types.js';

export interface CampaignInfo {
  id: string;
  status: string;
  template: string;
  language: string;
  phoneNumberId: string;
  csv: string;
  createdAt: number;
  updatedAt: number;
  counts: Counts;
  ingestDone: boolean;
  running: { host: string; pid: number; heartbeatAgoMs: number } | null;
  runs: number;
}

function info(ledger: Ledger, c: Campaign, now: number, staleMs: number): CampaignInfo {
  const lease = c.lease;
  const live =
    lease && now - lease.heartbeat <= staleMs && !(lease.host === hostname() && !pidAlive(lease.pid))
      ? lease
      : null;
  return {
    id: c.id,
    status: live ? 'running' : c.status,
    template: c.template,
    language: c.language,
    phoneNumberId: c.phoneNumberId,
    csv: c.csvPath,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    counts: ledger.counts(c.cid),
    ingestDone: c.ingestDone,
    running: live ? { host: live.host, pid: live.pid, heartbeatAgoMs: now - live.heartbeat } : null,
    runs: c.runs,
  };
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}

export function listCampaigns(store: Store, clock: Clock, staleMs = LEASE_STALE_MS): CampaignInfo[] {
  const ledger = new Ledger(store.db);
  const now = clock.now();
  return ledger.list().map((c) => info(ledger, c, now, staleMs));
}

function requireCampaign(ledger: Ledger, id: string): Campaign {
  const c = ledger.find(id);
  if (!c)
    throw new UsageError(`No campaign "${id}" in the ledger.`, {
      hint: 'List them with `wacx campaigns list`.',
    });
  return c;
}

export interface CampaignDetails extends CampaignInfo {
  stop: Campaign['stopReason'];
  failedByCode: { code: number | null; title: string | null; meaning: string | null; count: number }[];
  skippedByReason: { reason: string; meaning: string | null; count: number }[];
  unknownRows: RowOutcome[];
  activeMs: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export function showCampaign(
  store: Store,
  clock: Clock,
  id: string,
  unknownLimit = 50,
  staleMs = LEASE_STALE_MS,
): CampaignDetails {
  const ledger = new Ledger(store.db);
  const c = requireCampaign(ledger, id);
  return {
    ...info(ledger, c, clock.now(), staleMs),
    stop: c.stopReason,
    failedByCode: ledger
      .failuresByCode(c.cid)
      .map((f) => ({ code: f.code, title: f.title, meaning: meaningOfCode(f.code), count: f.count })),
    skippedByReason: ledger
      .skipsByReason(c.cid)
      .map((k) => ({ reason: k.reason, meaning: meaningOfSkip(k.reason), count: k.count })),
    unknownRows: ledger.rowsInState(c.cid, 'unknown', unknownLimit),
    activeMs: c.activeMs,
    startedAt: c.startedAt,
    finishedAt: c.finishedAt,
  };
}

/**
 * `wacx campaigns reconcile ID`: settles unknown rows from the status webhooks in the store. Rows still marked
 * in flight by a run that is gone are unknown first; those of a live run are left to it.
 */
export function reconcileCampaign(
  store: Store,
  clock: Clock,
  id: string,
  staleMs = LEASE_STALE_MS,
): ReconcileResult & { inFlightOfDeadRun: number } {
  const ledger = new Ledger(store.db);
  const c = requireCampaign(ledger, id);
  const now = clock.now();
  const live = info(ledger, c, now, staleMs).running;
  const inFlightOfDeadRun = live ? 0 : ledger.inFlightToUnknown(c.cid, now);
  return { ...reconcileUnknown(store.db, ledger, c.cid, c.id, now), inFlightOfDeadRun };
}

/**
 * A stored campaign and its rows that are or will be sent (skipped rows cost nothing), in row order, read lazily:
 * what `wacx campaigns estimate` prices.
 */
export function campaignRecipients(
  store: Store,
  id: string,
): { campaign: Campaign; recipients: Iterable<{ key: string; line: number }> } {
  const campaign = requireCampaign(new Ledger(store.db), id);
  const statement = store.db.prepare(
    `SELECT recipient AS key, line FROM campaign_rows
     WHERE cid = ? AND state != 'skipped' AND recipient IS NOT NULL ORDER BY row`,
  );
  return {
    campaign,
    recipients: {
      [Symbol.iterator]: () => statement.iterate(campaign.cid) as Iterator<{ key: string; line: number }>,
    },
  };
}

export interface RowDelivery {
  key: string;
  line: number;
  wamid: string;
  delivered: boolean;
  failed: boolean;
  /** From the `pricing` object of the row's status webhooks (null: none arrived). */
  pricingCategory: string | null;
  pricingType: string | null;
}

/**
 * Every row of a stored campaign that was sent (has a wamid), with what its status webhooks in the store say:
 * delivered, failed, and the pricing Meta reported. What `wacx campaigns cost` reconciles.
 */
export function campaignDeliveries(
  store: Store,
  id: string,
): { campaign: Campaign; rows: Iterable<RowDelivery> } {
  const campaign = requireCampaign(new Ledger(store.db), id);
  // written for both engines: no MAX over a boolean, every selected column grouped, camelCase aliases quoted
  const statement = store.db.prepare(
    tableExists(store.db, 'message_statuses')
      ? `SELECT r.recipient AS key, r.line, r.wamid,
                COALESCE(MAX(CASE WHEN s.status IN ('delivered', 'read') THEN 1 ELSE 0 END), 0) AS delivered,
                COALESCE(MAX(CASE WHEN s.status = 'failed' THEN 1 ELSE 0 END), 0) AS failed,
                MAX(s.pricing_category) AS "pricingCategory", MAX(s.pricing_type) AS "pricingType"
         FROM campaign_rows r LEFT JOIN message_statuses s ON s.wamid = r.wamid
         WHERE r.cid = ? AND r.wamid IS NOT NULL AND r.recipient IS NOT NULL
         GROUP BY r.row, r.recipient, r.line, r.wamid ORDER BY r.row`
      : `SELECT recipient AS key, line, wamid, 0 AS delivered, 0 AS failed, NULL AS "pricingCategory",
                NULL AS "pricingType"
         FROM campaign_rows WHERE cid = ? AND wamid IS NOT NULL AND recipient IS NOT NULL ORDER BY row`,
  );
  type Raw = Omit<RowDelivery, 'delivered' | 'failed'> & { delivered: number; failed: number };
  return {
    campaign,
    rows: {
      *[Symbol.iterator]() {
        for (const r of statement.iterate(campaign.cid) as Iterable<Raw>) {
          yield { ...r, delivered: r.delivered === 1, failed: r.failed === 1 };
        }
      },
    },
  };
}
