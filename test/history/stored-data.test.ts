import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { historyStatus, missingChunkOrders } from '../../src/lib/history/queries.js';
import { statusJson, statusLines, statusSummary } from '../../src/lib/history/status.js';
import type { StoreLocation } from '../../src/lib/store/location.js';
import type { Store } from '../../src/lib/store/store.js';
import { syncHealth } from '../../src/lib/webhooks/queries.js';
import { accountUpdate, contact, echo, historyChunk, ingest, NOW, PN, WABA } from '../doctor/fixtures.js';
import { describeBackends, storeEnv } from '../helpers/backends.js';
import { runCli, tempHome } from '../helpers/cli.js';
import type { TestBackend } from '../helpers/postgres.js';

/**
 * Readers of the store (history status, doctor, the webhook queries) hold whatever values the store holds:
 * rows are written here directly, past the parser, the way an older wacx, a bug or a hand edit could leave them.
 * SQLite keeps any value in any column (1e308, text in an INTEGER column); PostgreSQL's BIGINT columns hold at most
 * their own extremes, which stand in for those there.
 */

type Db = Store['db'];

function eventRow(db: Db, field: string): number {
  const payload = db
    .prepare(
      `INSERT INTO webhook_payloads (received_at, body_sha256, body, signature_verified, source) VALUES (?, 'x', '{}', 1, 'test')`,
    )
    .run(NOW).lastInsertRowid;
  return Number(
    db
      .prepare(
        `INSERT INTO webhook_events (payload_id, dedupe_key, field, kind, parsed, waba_id, phone_number_id, received_at, summary, data)
         VALUES (?, ?, ?, 'x', 1, ?, ?, ?, '', '{}')`,
      )
      .run(payload, `k${Math.random()}`, field, WABA, PN, NOW).lastInsertRowid,
  );
}

function chunk(
  db: Db,
  phase: number | null,
  order: number | null,
  progress: unknown = 50,
  at: unknown = NOW,
) {
  const ev = eventRow(db, 'history');
  db.prepare(
    `INSERT INTO history_chunks (event_id, phone_number_id, phase, chunk_order, progress, threads, messages, received_at)
     VALUES (?, ?, ?, ?, ?, 1, 1, ?)`,
  ).run(ev, PN, phase, order, progress, at);
}

/** The absurd values each backend's columns can hold (PostgreSQL: BIGINT's extremes, no text in a number column). */
function extremes(backend: TestBackend) {
  const max = 2n ** 63n - 1n;
  const min = -(2n ** 63n);
  return backend === 'sqlite'
    ? {
        huge: 1e308,
        enormous: 1e300,
        negative: -1e20,
        hugelyNegative: -1e300,
        text: 'abc',
        date: 'yesterday',
      }
    : { huge: max, enormous: max, negative: min, hugelyNegative: min, text: null, date: min };
}

/** Every absurd value the readers must survive. */
function hostile(db: Db, backend: TestBackend): void {
  const x = extremes(backend);
  ingest(db, [
    { payload: historyChunk(0, 1, 40), at: NOW - 1000 },
    { payload: echo(NOW - 5000), at: NOW - 5000 },
    { payload: contact(NOW - 6000), at: NOW - 6000 },
    { payload: accountUpdate('PARTNER_ADDED', NOW - 7000), at: NOW - 7000 },
  ]);
  chunk(db, 1, 2_000_000_000);
  chunk(db, 2, -2_000_000_000);
  chunk(db, 7, 3, x.huge, x.huge);
  chunk(db, null, null, null, x.negative);
  chunk(db, 1, Number.MAX_SAFE_INTEGER * 4, x.text, x.date);
  const ev = eventRow(db, 'smb_message_echoes');
  db.prepare(
    `INSERT INTO message_echoes (event_id, phone_number_id, wamid, type, timestamp) VALUES (?, ?, 'w1', 'text', ?)`,
  ).run(ev, PN, x.enormous);
  db.prepare(
    `INSERT INTO message_echoes (event_id, phone_number_id, wamid, type, timestamp) VALUES (?, ?, 'w2', 'text', ?)`,
  ).run(ev, PN, -99_999_999_999_999);
  const au = eventRow(db, 'account_update');
  db.prepare(
    `INSERT INTO account_updates (event_id, waba_id, event, at) VALUES (?, ?, 'ACCOUNT_OFFBOARDED', ?)`,
  ).run(au, WABA, x.enormous);
  db.prepare(`INSERT INTO webhook_rejections (at, reason, source) VALUES (?, 'bad_signature', 'http')`).run(
    x.hugelyNegative,
  );
  db.prepare(
    `INSERT INTO sync_requests (phone_number_id, sync_type, outcome, request_id, requested_at, onboarded_at)
     VALUES (?, 'history', 'accepted', 'r1', ?, ?)`,
  ).run(PN, 9e15, -9e15);
  db.prepare(
    `INSERT INTO sync_onboardings (phone_number_id, onboarded_at, source, recorded_at) VALUES (?, ?, 'onboard', ?)`,
  ).run(PN, x.enormous, NOW);
}

describe('gaps in chunk numbers are bounded by what was received, not by the numbers', () => {
  it('one chunk numbered 2000000000 lists a bounded number of gaps and counts them all', () => {
    const started = Date.now();
    const gaps = missingChunkOrders([1, 2_000_000_000]);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(gaps.count).toBe(1_999_999_998);
    expect(gaps.listed.length).toBeLessThanOrEqual(100);
    expect(gaps.listed.slice(0, 3)).toEqual([2, 3, 4]);
  });

  it('negative, fractional and unsafe numbers do not widen the range', () => {
    const gaps = missingChunkOrders([-2_000_000_000, 1.5, 2 ** 60, 3]);
    expect(gaps.listed.length).toBeLessThanOrEqual(100);
    expect(gaps.count).toBeGreaterThan(0);
    expect(missingChunkOrders([1, 3, 5])).toEqual({ listed: [2, 4], count: 2 });
  });

  it('many distinct chunk numbers (more than a spread can take) are read without overflowing the stack', () => {
    const orders = Array.from({ length: 300_000 }, (_, i) => i + 1);
    expect(missingChunkOrders(orders)).toEqual({ listed: [], count: 0 });
  });
});

describeBackends('history status and the doctor queries on absurd stored values', ({ backend, open }) => {
  it('historyStatus, syncHealth and every presentation of them return without throwing', () => {
    const store = open();
    hostile(store.db, backend);
    for (const pn of [PN, undefined]) {
      const s = historyStatus(store.db, pn);
      expect(s.history.missingChunks.length).toBeLessThanOrEqual(100);
      expect(s.history.missingChunkCount).toBeGreaterThan(1_000_000);
      expect(() => statusLines(s, NOW)).not.toThrow();
      expect(() => statusSummary(s)).not.toThrow();
      const json = statusJson(s, NOW) as {
        onboarded_at: unknown;
        history: { missing_chunk_count: number };
      };
      expect(json.onboarded_at).toBeNull();
      expect(json.history.missing_chunk_count).toBe(s.history.missingChunkCount);
      expect(() => JSON.stringify(json)).not.toThrow();
      expect(() => syncHealth(store.db, pn)).not.toThrow();
    }
  });
});

describeBackends('the commands on a store holding absurd values', ({ backend, location, open }) => {
  const home = tempHome();
  afterAll(() => home.cleanup());
  let env: NodeJS.ProcessEnv;
  beforeAll(() => {
    const db: StoreLocation = location();
    const store = open(db);
    hostile(store.db, backend);
    store.close();
    env = { ...home.env, ...storeEnv(db), WACX_PHONE_NUMBER_ID: PN, WACX_WABA_ID: WABA };
  });

  it('history status prints (text and --json) and exits with the import state, not a crash', async () => {
    const text = await runCli(['history', 'status'], { env });
    expect(text.stderr).not.toMatch(/Invalid|RangeError|stack/);
    expect(text.code).toBe(8);
    expect(text.stdout).toMatch(/missing\s+chunk -1999999999, -1999999998, .* and \d+ more/);
    const json = await runCli(['history', 'status', '--json'], { env });
    expect(json.code).toBe(8);
    const parsed = JSON.parse(json.stdout) as { history: { missing_chunk_count: number } };
    expect(parsed.history.missing_chunk_count).toBeGreaterThan(1_000_000);
  });

  it('doctor --offline runs every check and prints its report', async () => {
    for (const args of [
      ['doctor', '--offline'],
      ['doctor', '--offline', '--json'],
    ]) {
      const r = await runCli(args, { env });
      expect(r.stderr).not.toMatch(/Invalid|RangeError|stack/);
      expect([0, 1]).toContain(r.code);
      expect(r.stdout).toMatch(/History import|sync\.history/);
      expect(r.stdout).not.toMatch(/\[object Object\]/);
    }
  });
});
