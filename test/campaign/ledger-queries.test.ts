import { describe, expect, it } from 'vitest';
import { Ledger } from '../../src/lib/campaign/ledger.js';
import { Store } from '../../src/lib/store/store.js';
import { BACKENDS, freshLocation, type TestBackend } from '../helpers/postgres.js';
import { addCampaign, ingestPending } from './helpers.js';

/**
 * The ledger's questions about the rows in one state (the summary's failures and skips, the unknown rows, a resume's
 * in-flight rows) read those rows through the (cid, state, row) index, not every row of the campaign: SQLite's
 * planner, without statistics, would otherwise scan the whole campaign by its primary key for each of them.
 */
const ROWS = 2_000;

function campaignOfMostlySent(backend: TestBackend = 'sqlite') {
  const store = Store.open(backend === 'sqlite' ? ':memory:' : freshLocation(backend, ''));
  const ledger = new Ledger(store.db);
  const cid = addCampaign(ledger, 0);
  ingestPending(ledger, cid, ROWS, 0);
  const set = store.db.prepare(
    'UPDATE campaign_rows SET state = ?, reason = ?, error_code = ?, error_title = ? WHERE cid = ? AND row = ?',
  );
  store.db.prepare("UPDATE campaign_rows SET state = 'sent' WHERE cid = ?").run(cid);
  set.run('failed', null, 131026, 'Message undeliverable', cid, 10);
  set.run('failed', null, 131026, 'Message undeliverable', cid, 20);
  set.run('failed', null, 131049, 'Healthy ecosystem', cid, 30);
  set.run('skipped', 'invalid_phone: "12" is not a valid phone number', null, null, cid, 40);
  set.run('skipped', 'duplicate: same recipient as line 2', null, null, cid, 50);
  set.run('unknown', 'in flight when a previous run stopped', null, null, cid, 60);
  set.run('in_flight', null, null, null, cid, 70);
  return { store, ledger, cid };
}

/** Each SQL text the ledger prepares while `f` runs, with SQLite's plan for it. */
function plansOf(store: Store, f: () => void): { sql: string; plan: string }[] {
  const db = store.db;
  const prepare = db.prepare.bind(db);
  const seen: string[] = [];
  db.prepare = ((sql: string) => {
    seen.push(sql);
    return prepare(sql);
  }) as typeof db.prepare;
  try {
    f();
  } finally {
    db.prepare = prepare;
  }
  return seen.map((sql) => {
    const params = Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 1);
    const steps = prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
    return { sql, plan: steps.map((s) => s.detail).join(' / ') };
  });
}

describe('the ledger reads the rows of one state through the state index', () => {
  it('failures by code, skips by reason and the unknown rows: right answers, none of them scans the campaign', () => {
    const { store, ledger, cid } = campaignOfMostlySent();
    let failures: ReturnType<Ledger['failuresByCode']> = [];
    let skips: ReturnType<Ledger['skipsByReason']> = [];
    let unknown: ReturnType<Ledger['rowsInState']> = [];
    const plans = plansOf(store, () => {
      failures = ledger.failuresByCode(cid);
      skips = ledger.skipsByReason(cid);
      unknown = ledger.rowsInState(cid, 'unknown', 100);
    });
    expect(failures).toEqual([
      { code: 131026, title: 'Message undeliverable', count: 2 },
      { code: 131049, title: 'Healthy ecosystem', count: 1 },
    ]);
    expect(skips.sort((a, b) => a.reason.localeCompare(b.reason))).toEqual([
      { reason: 'duplicate', count: 1 },
      { reason: 'invalid_phone', count: 1 },
    ]);
    expect(unknown.map((r) => r.row)).toEqual([60]);
    expect(plans).toHaveLength(3);
    for (const { sql, plan } of plans) {
      expect(plan, sql).toContain('USING INDEX campaign_rows_state (cid=? AND state=?)');
    }
  });

  it("a resume's in-flight rows become unknown, and --resend-unknown's unknown rows pending, through the index", () => {
    const { store, ledger, cid } = campaignOfMostlySent();
    let toUnknown = 0;
    let toPending = 0;
    const plans = plansOf(store, () => {
      toUnknown = ledger.inFlightToUnknown(cid, 1);
      toPending = ledger.unknownToPending(cid, 2);
    });
    expect([toUnknown, toPending]).toEqual([1, 2]);
    expect(ledger.counts(cid)).toMatchObject({ pending: 2, unknown: 0, in_flight: 0, sent: ROWS - 7 });
    for (const { sql, plan } of plans) {
      expect(plan, sql).toContain('USING INDEX campaign_rows_state (cid=? AND state=?)');
    }
  });
});

// the index hint is SQLite's; PostgreSQL's dialect drops it: the same questions give the same answers there
describe.each(BACKENDS)('the questions about the rows of one state (%s)', (backend) => {
  it('answer the same on every backend', () => {
    const { store, ledger, cid } = campaignOfMostlySent(backend);
    try {
      expect(ledger.failuresByCode(cid)).toEqual([
        { code: 131026, title: 'Message undeliverable', count: 2 },
        { code: 131049, title: 'Healthy ecosystem', count: 1 },
      ]);
      expect(ledger.skipsByReason(cid).sort((a, b) => a.reason.localeCompare(b.reason))).toEqual([
        { reason: 'duplicate', count: 1 },
        { reason: 'invalid_phone', count: 1 },
      ]);
      expect(ledger.rowsInState(cid, 'unknown', 100).map((r) => r.row)).toEqual([60]);
      expect([ledger.inFlightToUnknown(cid, 1), ledger.unknownToPending(cid, 2)]).toEqual([1, 2]);
      expect(ledger.counts(cid)).toMatchObject({ pending: 2, unknown: 0, in_flight: 0, sent: ROWS - 7 });
    } finally {
      store.close();
    }
  });
});
