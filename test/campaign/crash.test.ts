/**
 * Crash safety: the built CLI is killed with SIGKILL at random points of a 5,000-row campaign, at least 20
 * times (10 kills of 2,000 rows for the variant whose CSV mixes phones and BSUIDs; 20 kills of 4,000 rows with the
 * ledger on PostgreSQL), and resumed each time. The sandbox's record of
 * accepted messages must never show a recipient twice, and every row must end sent, failed or unknown, with no more
 * unknowns than rows that were in flight at the kills. Status webhooks are ingested into the same store, so that
 * the unknown rows are then reconciled and the rest re-sent with --resend-unknown: in the end every recipient got the message exactly once.
 *
 * Needs `npm run build` (it runs bin/wacx.js).
 */
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/lib/store/store.js';
import { ingestPayload } from '../../src/lib/webhooks/storage.js';
import { SEED } from '../../src/sandbox/seed.js';
import { freshLocation, type TestBackend } from '../helpers/postgres.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import {
  countBy,
  dbEnv,
  type LedgerRow,
  ledgerRows,
  orderSendArgs,
  requireBuild,
  rng,
  spawnWacx,
  until,
  writeOrdersCsv,
} from './helpers.js';

const ROWS = 5000;
const KILLS = 20;

interface Accepted {
  to: string | null;
  user_id: string | null;
  callback_data: string | null;
}

/** Who a message went to: the phone of a send by `to`, the BSUID of a send by `recipient`. */
const recipientOf = (m: Accepted) => m.to ?? m.user_id;

async function crashRun(options: {
  faults: boolean;
  seed: number;
  bsuids?: boolean;
  kills?: number;
  rows?: number;
  backend?: TestBackend;
}) {
  const killCount = options.kills ?? KILLS;
  const rowCount = options.rows ?? ROWS;
  const random = rng(options.seed);
  let store: Store | undefined;
  const sb: TestSandbox = await startTestSandbox({
    statusDelayMs: 5,
    webhookSink: async (raw, headers) => {
      if (!store) return 503;
      const r = ingestPayload(store.db, raw, {
        signature: headers['x-hub-signature-256'] ?? null,
        appSecret: SEED.app.secret,
      });
      return r.outcome === 'rejected' ? 400 : 200;
    },
  });
  const dbPath = freshLocation(options.backend ?? 'sqlite', join(sb.home, 'ledger.db'));
  store = Store.open(dbPath);
  const env = sb.env(dbEnv(dbPath));
  try {
    await sb.control(`numbers/${SEED.phoneNumbers.coex.id}`, { mps: 100_000, pair_limit: false });
    if (options.faults) await sb.control('scenario', { name: 'faults', error_rate: 0.03, reset_rate: 0.02 });
    const csv = writeOrdersCsv(sb.home, rowCount, 'orders.csv', '', { bsuids: options.bsuids ?? false });
    const args = [...orderSendArgs(csv), '--rate', '100000', '--force', '--max-in-flight', '32', '--json'];
    const inFlightAtKill: number[] = [];
    const inFlight = () =>
      store!.db
        .prepare("SELECT COUNT(*) FROM campaign_rows WHERE state = 'in_flight'")
        .pluck()
        .get() as number;
    const accepted = async () =>
      sb.control<Accepted[]>(`messages?phone_number_id=${SEED.phoneNumbers.coex.id}`);
    let kills = 0;
    for (let k = 0; k < killCount; k++) {
      const run = spawnWacx(args, env);
      // a few kills land at a random time (start-up, template check, ingest), the others after a random
      // number of row outcomes (somewhere in the sending)
      if (k % 5 === 0) {
        await new Promise((r) => setTimeout(r, 50 + random() * 400));
      } else {
        const target = 40 + Math.floor(random() * 180);
        await until(() => run.rows() >= target || run.exited(), 15_000);
      }
      run.child.kill('SIGKILL');
      const exit = await run.exit;
      if (exit.signal === 'SIGKILL') kills++;
      inFlightAtKill.push(inFlight());
      const acc = await accepted();
      expect(new Set(acc.map(recipientOf)).size, `recipient accepted twice after kill ${k}`).toBe(acc.length);
    }
    expect(kills).toBeGreaterThanOrEqual(killCount - 2); // a run may finish before its kill
    expect(Math.max(...inFlightAtKill)).toBeLessThanOrEqual(32);

    // a run to the end
    const last = spawnWacx(args, env);
    const end = await last.exit;
    expect([0, 3], last.stderr()).toContain(end.code);

    const rows = ledgerRows(dbPath);
    expect(rows).toHaveLength(rowCount);
    const states = countBy(rows, (r) => r.state);
    expect(
      Object.keys(states).every((s) => ['sent', 'failed', 'unknown'].includes(s)),
      JSON.stringify(states),
    ).toBe(true);
    const unknownBefore = states.unknown ?? 0;
    const totalInFlightAtKills = inFlightAtKill.reduce((a, b) => a + b, 0);
    expect(unknownBefore).toBeLessThanOrEqual(totalInFlightAtKills);

    let acc = await accepted();
    expect(new Set(acc.map(recipientOf)).size).toBe(acc.length);
    const acceptedRows = new Set(acc.map((m) => Number(m.callback_data!.split(':').at(-1))));
    // a row the ledger says was sent was accepted; an accepted row is sent or unknown, never pending, and failed
    // only when its status webhook said so (e.g. 131049) after acceptance
    for (const r of rows) {
      if (r.state === 'sent')
        expect(acceptedRows.has(r.row), `row ${r.row} sent but not accepted`).toBe(true);
      if (acceptedRows.has(r.row) && !failedAfterAcceptance(r))
        expect(['sent', 'unknown'], JSON.stringify(r)).toContain(r.state);
    }

    // statuses reach the store; reconcile settles every unknown row that was accepted
    await sb.flush();
    const campaign = store.db.prepare('SELECT id FROM campaigns').pluck().get() as string;
    const rec = spawnWacx(['campaigns', 'reconcile', campaign, '--json'], env);
    await rec.exit;
    const settled = JSON.parse(rec.stdout()) as { still_unknown: number; sent: number };
    const afterRec = ledgerRows(dbPath);
    for (const r of afterRec) {
      if (r.state === 'unknown')
        expect(acceptedRows.has(r.row), `row ${r.row} accepted but still unknown`).toBe(false);
    }
    expect(settled.still_unknown).toBe(afterRec.filter((r) => r.state === 'unknown').length);

    // the unknown rows left never reached the API: once the faults are over, --resend-unknown completes the
    // campaign, once each
    if (options.faults) await sb.control('scenario', { name: 'faults', error_rate: 0, reset_rate: 0 });
    if (settled.still_unknown > 0) {
      const resend = spawnWacx([...args, '--resend-unknown'], env);
      await resend.exit;
    }
    acc = await accepted();
    expect(new Set(acc.map(recipientOf)).size).toBe(acc.length);
    const final = ledgerRows(dbPath);
    const finalStates = countBy(final, (r) => r.state);
    expect(finalStates.unknown ?? 0).toBe(0);
    expect(finalStates.pending ?? 0).toBe(0);
    expect(acc.length).toBe((finalStates.sent ?? 0) + final.filter(failedAfterAcceptance).length);
    if (!options.faults) expect(acc.length).toBe(rowCount);
    if (options.bsuids) {
      // every third row went by BSUID in `recipient`, the others by phone in `to`
      const byBsuid = acc.filter((m) => m.user_id !== null);
      expect(byBsuid.length).toBeGreaterThan(0);
      expect(byBsuid.every((m) => m.to === null && /^US\.\d+$/.test(m.user_id!))).toBe(true);
      expect(acc.filter((m) => m.to !== null).every((m) => m.user_id === null)).toBe(true);
    }
    return { kills, inFlightAtKill, unknownBefore, states: finalStates };
  } finally {
    store.close();
    await sb.close();
  }
}

/** Accepted by the API, then failed by its status webhook (the sandbox fails some marketing sends with 131049). */
function failedAfterAcceptance(r: LedgerRow): boolean {
  return r.state === 'failed' && r.reason === 'settled from status webhooks';
}

beforeAll(() => requireBuild());

describe('crash safety (SIGKILL at random points, resume each time)', () => {
  it('never sends a recipient twice and loses no row', { timeout: 90_000 }, async () => {
    const r = await crashRun({ faults: false, seed: 7 });
    expect((r.states.sent ?? 0) + (r.states.failed ?? 0)).toBe(ROWS);
  });

  it('the same with injected 5xx answers and connection resets', { timeout: 90_000 }, async () => {
    const r = await crashRun({ faults: true, seed: 11 });
    expect((r.states.sent ?? 0) + (r.states.failed ?? 0)).toBe(ROWS);
  });

  it('the same on PostgreSQL, with injected 5xx answers and connection resets', {
    timeout: 120_000,
  }, async () => {
    // enough rows that the 20th run is still sending when it is killed
    const r = await crashRun({ faults: true, seed: 17, backend: 'postgres', rows: 4000 });
    expect((r.states.sent ?? 0) + (r.states.failed ?? 0)).toBe(4000);
  });

  it('the same with a CSV mixing phones and BSUIDs', { timeout: 60_000 }, async () => {
    const r = await crashRun({ faults: true, seed: 13, bsuids: true, kills: 10, rows: 2000 });
    expect((r.states.sent ?? 0) + (r.states.failed ?? 0)).toBe(2000);
  });
});

describe('SIGTERM', () => {
  it('stops scheduling, lets in-flight requests finish, checkpoints, exits 130; resume completes', {
    timeout: 30_000,
  }, async () => {
    const sb = await startTestSandbox();
    try {
      await sb.control(`numbers/${SEED.phoneNumbers.coex.id}`, { pair_limit: false, statuses: false });
      const dbPath = join(sb.home, 'ledger.db');
      const env = sb.env({ WACX_DB: dbPath });
      const csv = writeOrdersCsv(sb.home, 60);
      const args = [...orderSendArgs(csv), '--json'];
      const run = spawnWacx(args, env);
      await until(() => run.rows() >= 10, 10_000);
      run.child.kill('SIGTERM');
      const exit = await run.exit;
      expect(exit.code).toBe(130);
      const summary = JSON.parse(run.stdout().trim().split('\n').at(-1)!);
      expect(summary).toMatchObject({ type: 'summary', status: 'cancelled', exit_code: 130, unknown: 0 });
      const rows = ledgerRows(dbPath);
      const states = countBy(rows, (r) => r.state);
      expect(states.in_flight ?? 0).toBe(0);
      expect(states.unknown ?? 0).toBe(0);
      const msgs = await sb.control<{ to: string }[]>('messages');
      expect(states.sent ?? 0).toBe(msgs.length);
      const resumed = spawnWacx(args, env);
      expect((await resumed.exit).code).toBe(0);
      const all = await sb.control<{ to: string }[]>('messages');
      expect(all).toHaveLength(60);
      expect(new Set(all.map((m) => m.to)).size).toBe(60);
    } finally {
      await sb.close();
    }
  });
});
