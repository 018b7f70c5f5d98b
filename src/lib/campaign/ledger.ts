import { sha256 } from '../audit/chain.js';
import { type AuditEntry, AuditJournal } from '../audit/journal.js';
import type { MessageTemplate } from '../graph/types.js';
import { getLater, type Statement } from '../store/database.js';
import type { Db } from '../store/store.js';
import {
  type CampaignOptions,
  ROW_STATES,
  type RowOutcome,
  type RowState,
  type StopReason,
} from './types.js';

/**
 * The campaign ledger in the profile's SQLite store (tables in src/lib/store/schema/campaigns.ts).
 *
 * Durability ("written durably before the request"): while a campaign sends, every group commit runs with
 * `synchronous = FULL`, so COMMIT returns only after the WAL is fsync'ed. The sender commits the `in_flight` marks
 * of the rows about to leave (together with the outcomes that came back meanwhile: one transaction per batch of a
 * few milliseconds, never one per message) and lets their requests leave only once that COMMIT has returned. So a
 * crash of the process or of the machine can lose an outcome (that row is then `in_flight`, hence `unknown`,
 * and settled from status webhooks), never the record that a request may have left. (WAL with `synchronous =
 * NORMAL` would survive a process crash but not a power loss: the mark could vanish while Meta has the message.)
 * With the compiled CLI the commits run in a writer thread (writer.ts) and WAL checkpoints in another
 * (checkpointer.ts), so the sending loop never stands still for a disk flush.
 */

/**
 * Runs a write transaction again while SQLite answers SQLITE_BUSY at once, for up to 5 s. The busy timeout covers
 * the waits for the write lock, but under load SQLite also answers BUSY without waiting where waiting could
 * deadlock (seen as 'database is locked' in the reader and writer threads while the sending loop commits). The
 * transaction was rolled back: running it again is safe.
 */
function whileBusy<T>(fn: () => T): T {
  const deadline = Date.now() + 5000;
  let pause: Int32Array | undefined;
  for (let wait = 2; ; wait = Math.min(wait * 2, 100)) {
    try {
      return fn();
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('SQLITE_BUSY') || Date.now() > deadline) throw error;
      pause ??= new Int32Array(new SharedArrayBuffer(4));
      Atomics.wait(pause, 0, 0, wait);
    }
  }
}

export type CampaignStatus = 'ready' | 'running' | 'stopped' | 'cancelled' | 'completed';

export interface Campaign {
  cid: number;
  id: string;
  status: CampaignStatus;
  stopReason: StopReason | null;
  template: string;
  language: string;
  phoneNumberId: string;
  wabaId: string | null;
  csvPath: string;
  csvSize: number;
  csvMtime: number;
  csvSha256: string;
  columns: string[] | null;
  options: CampaignOptions;
  templateSnapshot: MessageTemplate;
  ingestDone: boolean;
  ingestOffset: number;
  ingestLine: number;
  nextRow: number;
  lease: { owner: string; host: string; pid: number; heartbeat: number } | null;
  runs: number;
  activeMs: number;
  createdAt: number;
  updatedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

interface CampaignRowDb {
  cid: number;
  id: string;
  status: CampaignStatus;
  stop_reason: string | null;
  template: string;
  language: string;
  phone_number_id: string;
  waba_id: string | null;
  csv_path: string;
  csv_size: number;
  csv_mtime: number;
  csv_sha256: string;
  columns: string | null;
  options: string;
  template_json: string;
  ingest_done: number;
  ingest_offset: number;
  ingest_line: number;
  next_row: number;
  lease_owner: string | null;
  lease_host: string | null;
  lease_pid: number | null;
  lease_heartbeat: number | null;
  runs: number;
  active_ms: number;
  created_at: number;
  updated_at: number;
  started_at: number | null;
  finished_at: number | null;
}

function toCampaign(r: CampaignRowDb): Campaign {
  return {
    cid: r.cid,
    id: r.id,
    status: r.status,
    stopReason: r.stop_reason ? (JSON.parse(r.stop_reason) as StopReason) : null,
    template: r.template,
    language: r.language,
    phoneNumberId: r.phone_number_id,
    wabaId: r.waba_id,
    csvPath: r.csv_path,
    csvSize: r.csv_size,
    csvMtime: r.csv_mtime,
    csvSha256: r.csv_sha256,
    columns: r.columns ? (JSON.parse(r.columns) as string[]) : null,
    options: JSON.parse(r.options) as CampaignOptions,
    templateSnapshot: JSON.parse(r.template_json) as MessageTemplate,
    ingestDone: r.ingest_done === 1,
    ingestOffset: r.ingest_offset,
    ingestLine: r.ingest_line,
    nextRow: r.next_row,
    lease:
      r.lease_owner && r.lease_host && r.lease_pid !== null && r.lease_heartbeat !== null
        ? { owner: r.lease_owner, host: r.lease_host, pid: r.lease_pid, heartbeat: r.lease_heartbeat }
        : null,
    runs: r.runs,
    activeMs: r.active_ms,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

export interface NewCampaign {
  id: string;
  template: string;
  language: string;
  phoneNumberId: string;
  wabaId: string | null;
  csvPath: string;
  csvSize: number;
  csvMtime: number;
  csvSha256: string;
  options: CampaignOptions;
  templateSnapshot: MessageTemplate;
}

/** A row as the ingester writes it. */
export interface IngestRow {
  row: number;
  line: number;
  /** The recipient key (recipient.ts): E.164 digits, or a BSUID verbatim; null for a skipped row without one. */
  recipient: string | null;
  /** A skipped row: its recipient cell as written; a row with a key: the BSUID it named when resolved to a phone. */
  input: string | null;
  params: string | null;
  state: 'pending' | 'skipped';
  reason: string | null;
}

/** A row ready to be sent. */
export interface PendingRow {
  row: number;
  line: number;
  recipient: string;
  params: string[];
  attempts: number;
}

/** A state change written by the sender. `pending` puts a row back (retry later, or stopped before it left). */
export interface RowUpdate {
  row: number;
  state: RowState;
  reason: string | null;
  errorCode: number | null;
  errorTitle: string | null;
  wamid: string | null;
  messageStatus: string | null;
}

/** One group commit of the sending loop. */
export interface CommitBatch {
  updates: readonly RowUpdate[];
  intents: readonly number[];
  heartbeatOwner?: string;
}

export type Counts = Record<RowState, number> & { total: number };

export function emptyCounts(): Counts {
  return { pending: 0, in_flight: 0, sent: 0, failed: 0, unknown: 0, skipped: 0, total: 0 };
}

/** Who holds a lease: the run's host and pid, and its last heartbeat. */
export interface LeaseHolder {
  host: string;
  pid: number;
  heartbeat: number;
}

export type LeaseResult =
  | { ok: true; tookOver: LeaseHolder | null }
  /** `campaign`: null when this campaign's own lease is held; else the id of the campaign holding its number. */
  | { ok: false; holder: LeaseHolder; campaign: string | null };

/** How a lease is judged: by the caller's host, the clock, the stale time and a pid check on this host. */
export interface LeaseJudge {
  me: { owner: string; host: string; pid: number };
  now: number;
  staleMs: number;
  isAlive: (pid: number) => boolean;
}

/**
 * Whether a lease still holds. A pid means something on its own host only: there a lease whose process is gone is
 * over at once; a lease held on another machine ends only when its heartbeat is older than the stale time.
 */
function leaseLive(holder: LeaseHolder, j: LeaseJudge): boolean {
  if (holder.host === j.me.host && !j.isAlive(holder.pid)) return false;
  return j.now - holder.heartbeat <= j.staleMs;
}

type LeaseColumns = Pick<CampaignRowDb, 'lease_owner' | 'lease_host' | 'lease_pid' | 'lease_heartbeat'>;

function holderOf(r: LeaseColumns | undefined): LeaseHolder | null {
  return r?.lease_owner && r.lease_host && r.lease_pid !== null && r.lease_heartbeat !== null
    ? { host: r.lease_host, pid: r.lease_pid, heartbeat: r.lease_heartbeat }
    : null;
}

/**
 * The campaign's rows in one state, through the (cid, state, row) index. Without statistics SQLite's planner takes
 * `cid = ?` for a selective match and reads every row of the campaign through the primary key instead: 100,000 rows
 * read to find the few failed, unknown or skipped ones. PostgreSQL's planner has statistics (the dialect drops
 * the hint).
 */
const ROWS_BY_STATE = 'campaign_rows INDEXED BY campaign_rows_state';

export class Ledger {
  private readonly s: {
    byId: Statement;
    insertRow: Statement;
    rowExists: Statement;
    firstWithRecipient: Statement;
    ingestProgress: Statement;
    pendingAfter: Statement;
    intent: Statement;
    intentRange: Statement;
    update: Statement;
    sent: Statement;
    heartbeat: Statement;
    auditCampaign: Statement;
  };
  private readonly journal: AuditJournal;
  private readonly audited = new Map<number, { id: string; template: string; language: string }>();

  constructor(readonly db: Db) {
    this.journal = new AuditJournal(db);
    this.s = {
      auditCampaign: db.prepare('SELECT id, template, language FROM campaigns WHERE cid = ?'),
      byId: db.prepare('SELECT * FROM campaigns WHERE id = ?'),
      insertRow: db.prepare(
        `INSERT INTO campaign_rows (cid, row, line, recipient, input, params, state, reason, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      ),
      rowExists: db.prepare('SELECT 1 FROM campaign_rows WHERE cid = ? AND row = ?').pluck(),
      firstWithRecipient: db.prepare('SELECT row, line FROM campaign_rows WHERE cid = ? AND recipient = ?'),
      ingestProgress: db.prepare(
        `UPDATE campaigns SET ingest_offset = ?, ingest_line = ?, next_row = ?, ingest_done = ?, columns = COALESCE(?, columns),
         updated_at = ? WHERE cid = ?`,
      ),
      pendingAfter: db.prepare(
        `SELECT row, line, recipient, params, attempts FROM campaign_rows
         WHERE cid = ? AND state = 'pending' AND row > ? ORDER BY row LIMIT ?`,
      ),
      intent: db.prepare(
        `UPDATE campaign_rows SET state = 'in_flight', attempts = attempts + 1, updated_at = ? WHERE cid = ? AND row = ?`,
      ),
      intentRange: db.prepare(
        `UPDATE campaign_rows SET state = 'in_flight', attempts = attempts + 1, updated_at = ?
         WHERE cid = ? AND row >= ? AND row <= ?`,
      ),
      update: db.prepare(
        `UPDATE campaign_rows SET state = ?, reason = ?, error_code = ?, error_title = ?, wamid = COALESCE(?, wamid),
         message_status = COALESCE(?, message_status), updated_at = ? WHERE cid = ? AND row = ?`,
      ),
      // an accepted send, with what its audit record needs (no second look at the row)
      sent: db.prepare(
        `UPDATE campaign_rows SET state = 'sent', reason = ?, error_code = ?, error_title = ?, wamid = ?,
         message_status = COALESCE(?, message_status), updated_at = ? WHERE cid = ? AND row = ? RETURNING recipient, params`,
      ),
      heartbeat: db.prepare(
        'UPDATE campaigns SET lease_heartbeat = ?, updated_at = ? WHERE cid = ? AND lease_owner = ?',
      ),
    };
  }

  /** Every COMMIT fsyncs (see the file comment); the ledger reads rows in order: SQLite's default 2 MB page cache. */
  durable(): void {
    this.db.pragma('synchronous = FULL');
    this.db.pragma('cache_size = -2000');
  }

  find(id: string): Campaign | undefined {
    const r = this.s.byId.get(id) as CampaignRowDb | undefined;
    return r ? toCampaign(r) : undefined;
  }

  list(): Campaign[] {
    return (
      this.db.prepare('SELECT * FROM campaigns ORDER BY created_at DESC, cid DESC').all() as CampaignRowDb[]
    ).map(toCampaign);
  }

  create(c: NewCampaign, now: number): Campaign {
    this.db
      .prepare(
        `INSERT INTO campaigns (id, created_at, updated_at, status, template, language, phone_number_id, waba_id,
           csv_path, csv_size, csv_mtime, csv_sha256, options, template_json)
         VALUES (?, ?, ?, 'ready', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        c.id,
        now,
        now,
        c.template,
        c.language,
        c.phoneNumberId,
        c.wabaId,
        c.csvPath,
        c.csvSize,
        c.csvMtime,
        c.csvSha256,
        JSON.stringify(c.options),
        JSON.stringify(c.templateSnapshot),
      );
    return this.find(c.id)!;
  }

  /**
   * Creates the campaign holding its lease for `me`, in one immediate transaction, unless a campaign with that id
   * exists already (another run created it since this one looked): then nothing is written and that campaign is
   * returned, for the caller to take its lease the usual way (and be refused while the other run holds it).
   */
  createLeased(
    c: NewCampaign,
    now: number,
    me: { owner: string; host: string; pid: number },
    numberJudge: Pick<LeaseJudge, 'staleMs' | 'isAlive'>,
  ): { created: true; campaign: Campaign } | { created: false; campaign: Campaign } {
    return this.db
      .transaction(() => {
        const existing = this.find(c.id);
        if (existing) return { created: false as const, campaign: existing };
        const campaign = this.create(c, now);
        // while another campaign sends from the number, this one is created unleased: its run waits for the number
        if (!this.numberHolder(campaign.cid, c.phoneNumberId, { me, now, ...numberJudge })) {
          this.db
            .prepare(
              `UPDATE campaigns SET lease_owner = ?, lease_host = ?, lease_pid = ?, lease_heartbeat = ? WHERE cid = ?`,
            )
            .run(me.owner, me.host, me.pid, now, campaign.cid);
        }
        return { created: true as const, campaign: this.find(c.id)! };
      })
      .immediate();
  }

  /** Deletes a campaign and its rows (used when a first run is refused before anything was sent). */
  remove(cid: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM campaign_rows WHERE cid = ?').run(cid);
      this.db.prepare('DELETE FROM campaigns WHERE cid = ?').run(cid);
    })();
  }

  counts(cid: number): Counts {
    const counts = emptyCounts();
    const rows = this.db
      .prepare('SELECT state, COUNT(*) AS n FROM campaign_rows WHERE cid = ? GROUP BY state')
      .all(cid) as { state: RowState; n: number }[];
    for (const r of rows) {
      counts[r.state] = r.n;
      counts.total += r.n;
    }
    return counts;
  }

  // ---- lease ----

  /**
   * Takes the campaign's lease unless another live run holds it, or a live run of another campaign holds the same
   * phone number (see `numberHolder`). Judged and written in one write transaction: on PostgreSQL every transaction
   * takes the store's advisory lock first, so two machines never both see the lease free.
   */
  acquireLease(
    cid: number,
    me: { owner: string; host: string; pid: number },
    now: number,
    staleMs: number,
    isAlive: (pid: number) => boolean,
  ): LeaseResult {
    const judge: LeaseJudge = { me, now, staleMs, isAlive };
    return this.db
      .transaction((): LeaseResult => {
        const r = this.db
          .prepare(
            'SELECT lease_owner, lease_host, lease_pid, lease_heartbeat, phone_number_id FROM campaigns WHERE cid = ?',
          )
          .get(cid) as (LeaseColumns & { phone_number_id: string }) | undefined;
        const holder = holderOf(r);
        const self =
          holder !== null && holder.host === me.host && holder.pid === me.pid && r?.lease_owner === me.owner;
        if (holder && !self && leaseLive(holder, judge)) return { ok: false, holder, campaign: null };
        if (r) {
          const busy = this.numberHolder(cid, r.phone_number_id, judge);
          if (busy) {
            const { campaign, ...holder } = busy;
            return { ok: false, holder, campaign };
          }
          // the number's other leases are all stale: they end here, so that a run that only stalled learns at its
          // next commit (its heartbeat finds no lease) that it lost the number, before it sends again
          this.db
            .prepare(
              `UPDATE campaigns SET lease_owner = NULL, lease_host = NULL, lease_pid = NULL, lease_heartbeat = NULL
               WHERE phone_number_id = ? AND cid <> ? AND lease_owner IS NOT NULL`,
            )
            .run(r.phone_number_id, cid);
        }
        this.db
          .prepare(
            `UPDATE campaigns SET lease_owner = ?, lease_host = ?, lease_pid = ?, lease_heartbeat = ?, updated_at = ?
           WHERE cid = ?`,
          )
          .run(me.owner, me.host, me.pid, now, now, cid);
        return { ok: true, tookOver: holder && !self ? holder : null };
      })
      .immediate();
  }

  /**
   * The live lease of another campaign on the same phone number, if any. One sending campaign per number at a time
   * (a per-number lease, kept in the campaigns' own lease columns): the number's throughput is a limit of Meta's
   * per number, and the pacer of the one run that holds the number can use all of it, adapt it to 130429 answers
   * and ramp it up without sharing a budget with another process; a budget shared in the database would cost a
   * write per slice of sends on every number, and two half-rate runs finish no sooner than one after the other.
   */
  private numberHolder(
    cid: number,
    phoneNumberId: string,
    judge: LeaseJudge,
  ): (LeaseHolder & { campaign: string }) | null {
    const others = this.db
      .prepare(
        `SELECT id, lease_owner, lease_host, lease_pid, lease_heartbeat FROM campaigns
         WHERE phone_number_id = ? AND cid <> ? AND lease_owner IS NOT NULL`,
      )
      .all(phoneNumberId, cid) as (LeaseColumns & { id: string })[];
    for (const o of others) {
      const holder = holderOf(o);
      if (holder && leaseLive(holder, judge)) return { ...holder, campaign: o.id };
    }
    return null;
  }

  releaseLease(cid: number, owner: string): void {
    this.db
      .prepare(
        'UPDATE campaigns SET lease_owner = NULL, lease_host = NULL, lease_pid = NULL, lease_heartbeat = NULL WHERE cid = ? AND lease_owner = ?',
      )
      .run(cid, owner);
  }

  // ---- ingest ----

  /**
   * Writes ingested rows and the reading position in one transaction. A valid row whose recipient is already in
   * the campaign is stored as a skipped duplicate. Rows already present (re-read after a crash) are left alone.
   * Returns the rows as stored (duplicates turned into skipped rows).
   */
  ingestBatch(
    cid: number,
    rows: readonly IngestRow[],
    progress: { offset: number; line: number; nextRow: number; done: boolean; columns?: string[] },
    now: number,
  ): IngestRow[] {
    return whileBusy(() => this.ingestTransaction(cid, rows, progress, now));
  }

  private ingestTransaction(
    cid: number,
    rows: readonly IngestRow[],
    progress: { offset: number; line: number; nextRow: number; done: boolean; columns?: string[] },
    now: number,
  ): IngestRow[] {
    return this.db.transaction((): IngestRow[] => {
      // every row first, then what each insert did: on PostgreSQL the inserts go to the server together
      const inserted = rows.map((r) =>
        this.s.insertRow.run(cid, r.row, r.line, r.recipient, r.input, r.params, r.state, r.reason, now),
      );
      const stored: IngestRow[] = [];
      for (const [i, r] of rows.entries()) {
        if (inserted[i]!.changes === 1) {
          stored.push(r);
          continue;
        }
        if (this.s.rowExists.get(cid, r.row)) continue;
        const first = this.s.firstWithRecipient.get(cid, r.recipient) as
          | { row: number; line: number }
          | undefined;
        const dup: IngestRow = {
          row: r.row,
          line: r.line,
          recipient: null,
          input: r.recipient,
          params: null,
          state: 'skipped',
          reason: `duplicate: same recipient as line ${first?.line ?? '?'}`,
        };
        this.s.insertRow.run(cid, dup.row, dup.line, null, dup.input, null, 'skipped', dup.reason, now);
        stored.push(dup);
      }
      this.s.ingestProgress.run(
        progress.offset,
        progress.line,
        progress.nextRow,
        progress.done ? 1 : 0,
        progress.columns ? JSON.stringify(progress.columns) : null,
        now,
        cid,
      );
      return stored;
    })();
  }

  // ---- sending ----

  pendingAfter(cid: number, afterRow: number, limit: number): PendingRow[] {
    const rows = this.s.pendingAfter.all(cid, afterRow, limit) as {
      row: number;
      line: number;
      recipient: string;
      params: string | null;
      attempts: number;
    }[];
    return rows.map((r) => ({
      row: r.row,
      line: r.line,
      recipient: r.recipient,
      params: r.params ? (JSON.parse(r.params) as string[]) : [],
      attempts: r.attempts,
    }));
  }

  /**
   * One group commit: outcomes that came back, then the `in_flight` marks of the rows about to leave, then the
   * heartbeat. Returns false when the lease was lost (another run took the campaign over).
   */
  commit(cid: number, batch: CommitBatch, now: number): boolean {
    return this.commitAll(cid, [{ batch, now }])[0]!;
  }

  /**
   * Several group commits in ONE transaction, each as `commit` would write it (its own time, its own lease check):
   * the writer thread's commits that queued while it waited for the last fsync share the next one.
   */
  commitAll(cid: number, commits: readonly { batch: CommitBatch; now: number }[]): boolean[] {
    return whileBusy(() =>
      this.db.transaction((): boolean[] => commits.map((c) => this.applyCommit(cid, c.batch, c.now)))(),
    );
  }

  private applyCommit(cid: number, batch: CommitBatch, now: number): boolean {
    const ok =
      batch.heartbeatOwner === undefined ||
      this.s.heartbeat.run(now, now, cid, batch.heartbeatOwner).changes === 1;
    // the sent rows' recipients and parameters (for their audit records) come back with their updates, read
    // once all are written: on PostgreSQL the updates go to the server together
    const sentRows: { row: number; wamid: string; stored: () => unknown }[] = [];
    for (const u of batch.updates) {
      const values = [u.reason, u.errorCode, u.errorTitle, u.wamid, u.messageStatus, now, cid, u.row];
      if (u.state === 'sent' && u.wamid)
        sentRows.push({ row: u.row, wamid: u.wamid, stored: getLater(this.s.sent, values) });
      else this.s.update.run(u.state, ...values);
    }
    // after losing the lease, outcomes are still recorded (they are facts) but no row is marked to leave
    if (ok) this.markInFlight(cid, batch.intents, now);
    const sent = sentRows.map(({ row, wamid, stored }): SentRow => {
      const r = stored() as StoredRow | undefined;
      return { row, wamid, recipient: r?.recipient ?? null, params: r?.params ?? null };
    });
    this.auditSends(cid, sent, now);
    return ok;
  }

  /**
   * The in_flight marks: one statement per run of consecutive rows (a batch is mostly rows in ledger order), so
   * that a batch of a hundred rows costs a few statements, not a hundred.
   */
  private markInFlight(cid: number, rows: readonly number[], now: number): void {
    for (let i = 0; i < rows.length; ) {
      const first = rows[i]!;
      let j = i;
      while (j + 1 < rows.length && rows[j + 1] === rows[j]! + 1) j++;
      if (j === i) this.s.intent.run(now, cid, first);
      else this.s.intentRange.run(now, cid, first, rows[j]);
      i = j + 1;
    }
  }

  private campaignOf(cid: number): { id: string; template: string; language: string } {
    let c = this.audited.get(cid);
    if (!c) {
      c = this.s.auditCampaign.get(cid) as { id: string; template: string; language: string };
      this.audited.set(cid, c);
    }
    return c;
  }

  /**
   * Every message the API accepted is an audit record, committed with the row's outcome: who, which template and
   * language, a hash of the parameters it was rendered with, and its wamid.
   */
  private auditSends(cid: number, sent: readonly SentRow[], now: number): void {
    if (sent.length === 0) return;
    const c = this.campaignOf(cid);
    const entries: AuditEntry[] = new Array(sent.length);
    for (let i = 0; i < sent.length; i++) {
      const s = sent[i]!;
      entries[i] = {
        at: now,
        kind: 'send',
        subject: s.recipient ?? '',
        content: {
          campaign: c.id,
          row: s.row,
          template: c.template,
          language: c.language,
          params_sha256: sha256(s.params ?? ''),
          wamid: s.wamid,
        },
      };
    }
    this.journal.append(entries);
  }

  /** Rows left `in_flight` by a run that died: their request may have left, the outcome is unknown. */
  inFlightToUnknown(cid: number, now: number): number {
    return this.db
      .prepare(
        `UPDATE ${ROWS_BY_STATE} SET state = 'unknown', reason = 'in flight when a previous run stopped', updated_at = ?
         WHERE cid = ? AND state = 'in_flight'`,
      )
      .run(now, cid).changes;
  }

  /** `--resend-unknown`: unknown rows go back to pending. */
  unknownToPending(cid: number, now: number): number {
    return this.db
      .prepare(
        `UPDATE ${ROWS_BY_STATE} SET state = 'pending', reason = 'unknown outcome, re-sent (--resend-unknown)', updated_at = ?
         WHERE cid = ? AND state = 'unknown'`,
      )
      .run(now, cid).changes;
  }

  /** Without `limit`, every such row (PostgreSQL refuses SQLite's LIMIT -1 for "no limit"). */
  rowsInState(cid: number, state: RowState, limit = Number.MAX_SAFE_INTEGER): RowOutcome[] {
    return (
      this.db
        .prepare(
          `SELECT row, line, recipient, input, state, reason, error_code, error_title, wamid, attempts FROM ${ROWS_BY_STATE}
           WHERE cid = ? AND state = ? ORDER BY row LIMIT ?`,
        )
        .all(cid, state, limit) as DbOutcome[]
    ).map(toOutcome);
  }

  /** Every row in order, for the report. */
  *allRows(cid: number): Generator<RowOutcome> {
    const it = this.db
      .prepare(
        `SELECT row, line, recipient, input, state, reason, error_code, error_title, wamid, attempts FROM campaign_rows
         WHERE cid = ? ORDER BY row`,
      )
      .iterate(cid) as IterableIterator<DbOutcome>;
    for (const r of it) yield toOutcome(r);
  }

  failuresByCode(cid: number): { code: number | null; title: string | null; count: number }[] {
    return this.db
      .prepare(
        `SELECT error_code AS code, MAX(error_title) AS title, COUNT(*) AS count FROM ${ROWS_BY_STATE}
         WHERE cid = ? AND state = 'failed' GROUP BY error_code ORDER BY count DESC`,
      )
      .all(cid) as { code: number | null; title: string | null; count: number }[];
  }

  skipsByReason(cid: number): { reason: string; count: number }[] {
    // the reason text starts with its kind: "invalid_phone: …", "duplicate: …" (the CAST: PostgreSQL's substr takes
    // an int4 length, its instr gives a bigint)
    return this.db
      .prepare(
        `SELECT CASE WHEN instr(reason, ':') > 0 THEN substr(reason, 1, CAST(instr(reason, ':') - 1 AS INTEGER)) ELSE reason END AS reason,
           COUNT(*) AS count FROM ${ROWS_BY_STATE} WHERE cid = ? AND state = 'skipped' GROUP BY 1 ORDER BY count DESC`,
      )
      .all(cid) as { reason: string; count: number }[];
  }

  /** Settles rows from status webhooks: `sent` (accepted, maybe delivered) or `failed` with the error code. */
  settle(
    cid: number,
    settled: readonly {
      row: number;
      state: 'sent' | 'failed';
      wamid: string;
      status: string;
      errorCode: number | null;
      errorTitle: string | null;
    }[],
    now: number,
  ): void {
    const stmt = this.db.prepare(
      `UPDATE campaign_rows SET state = ?, wamid = ?, message_status = ?, error_code = ?, error_title = ?,
       reason = 'settled from status webhooks', updated_at = ? WHERE cid = ? AND row = ? AND state IN ('unknown', 'in_flight')
       RETURNING recipient, params`,
    );
    this.db.transaction(() => {
      const sent: SentRow[] = [];
      for (const s of settled) {
        const r = stmt.get(s.state, s.wamid, s.status, s.errorCode, s.errorTitle, now, cid, s.row) as
          | StoredRow
          | undefined;
        if (r && s.state === 'sent' && s.wamid)
          sent.push({ row: s.row, wamid: s.wamid, recipient: r.recipient, params: r.params });
      }
      this.auditSends(cid, sent, now);
    })();
  }

  /**
   * Rows the API accepted (`sent`) that a `failed` status webhook later reported (e.g. 131047): failed, with the
   * status's error. Returns how many changed.
   */
  failAccepted(
    cid: number,
    failed: readonly { row: number; wamid: string; errorCode: number | null; errorTitle: string | null }[],
    now: number,
  ): number {
    const stmt = this.db.prepare(
      `UPDATE campaign_rows SET state = 'failed', wamid = ?, message_status = 'failed', error_code = ?, error_title = ?,
       reason = 'settled from status webhooks', updated_at = ? WHERE cid = ? AND row = ? AND state = 'sent'`,
    );
    return this.db.transaction(() =>
      failed.reduce((n, f) => n + stmt.run(f.wamid, f.errorCode, f.errorTitle, now, cid, f.row).changes, 0),
    )();
  }

  setStatus(
    cid: number,
    status: CampaignStatus,
    now: number,
    extra: { stopReason?: StopReason | null; activeMs?: number; started?: boolean; finished?: boolean } = {},
  ): void {
    const stopped = extra.finished || (extra.stopReason !== undefined && extra.stopReason !== null);
    if (extra.started || stopped) {
      const c = this.campaignOf(cid);
      this.journal.append([
        {
          at: now,
          kind: extra.started ? 'campaign_start' : 'campaign_stop',
          subject: c.id,
          content: {
            status,
            template: c.template,
            language: c.language,
            stop_reason: extra.stopReason ?? null,
          },
        },
      ]);
    }
    this.db
      .prepare(
        `UPDATE campaigns SET status = ?, updated_at = ?,
           stop_reason = CASE WHEN ? THEN ? ELSE stop_reason END,
           active_ms = active_ms + ?,
           runs = runs + ?,
           started_at = CASE WHEN ? THEN COALESCE(started_at, ?) ELSE started_at END,
           finished_at = CASE WHEN ? THEN ? ELSE finished_at END
         WHERE cid = ?`,
      )
      .run(
        status,
        now,
        extra.stopReason !== undefined ? 1 : 0,
        extra.stopReason ? JSON.stringify(extra.stopReason) : null,
        Math.round(extra.activeMs ?? 0),
        extra.started ? 1 : 0,
        extra.started ? 1 : 0,
        now,
        extra.finished ? 1 : 0,
        now,
        cid,
      );
  }
}

/** What the audit record of an accepted send is made of. */
interface SentRow {
  row: number;
  wamid: string;
  recipient: string | null;
  params: string | null;
}

type StoredRow = { recipient: string | null; params: string | null };

interface DbOutcome {
  row: number;
  line: number;
  recipient: string | null;
  input: string | null;
  state: RowState;
  reason: string | null;
  error_code: number | null;
  error_title: string | null;
  wamid: string | null;
  attempts: number;
}

function toOutcome(r: DbOutcome): RowOutcome {
  return {
    row: r.row,
    line: r.line,
    recipient: r.recipient ?? r.input,
    state: r.state,
    reason: r.reason,
    errorCode: r.error_code,
    errorTitle: r.error_title,
    wamid: r.wamid,
    attempts: r.attempts,
    // a row with a recipient key keeps in `input` the BSUID it named when the store resolved it to a phone
    resolvedFrom: r.recipient !== null ? r.input : null,
  };
}

export { ROW_STATES };
