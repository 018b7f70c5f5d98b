import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { Ledger, type RowUpdate } from '../../src/lib/campaign/ledger.js';
import { type Clock, systemClock } from '../../src/lib/clock.js';
import type { StoreLocation } from '../../src/lib/store/location.js';
import { PostgresDatabase } from '../../src/lib/store/postgres.js';
import { Store } from '../../src/lib/store/store.js';
import { ingestPayload } from '../../src/lib/webhooks/storage.js';
import { SEED } from '../../src/sandbox/seed.js';
import { freshLocation, type TestBackend } from '../helpers/postgres.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';

/** A valid, distinct German mobile number per index (E.164 digits). */
export function phone(i: number): string {
  return `49151${String(10_000_000 + i).padStart(8, '0')}`;
}

/** A BSUID per index (the same digits as phone(i), so the sandbox's fates by suffix hold). */
export function bsuid(i: number): string {
  return `US.${phone(i)}`;
}

/**
 * Writes a CSV of `n` rows for order_update (name → {{1}}, order → {{2}}); with `bsuids`, every third row names its
 * recipient by BSUID instead of by phone.
 */
export function writeOrdersCsv(
  dir: string,
  n: number,
  name = 'orders.csv',
  extra = '',
  o: { bsuids?: boolean } = {},
): string {
  const lines = ['phone,name,order'];
  for (let i = 0; i < n; i++) {
    lines.push(`${o.bsuids && i % 3 === 1 ? bsuid(i) : `+${phone(i)}`},Name ${i},A-${i}`);
  }
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n${extra}`);
  return path;
}

/** `wacx send` of order_update (name → {{1}}, order → {{2}}) from `csv`, then `extra`. */
export function orderSendArgs(csv: string, ...extra: string[]): string[] {
  return [
    'send',
    '--csv',
    csv,
    '--template',
    'order_update',
    '--language',
    'en_US',
    '--map',
    'name=1',
    '--map',
    'order=2',
    ...extra,
  ];
}

/** `wacx send` of spring_sale (name → {{1}}, code → {{2}}, slug → its URL button's parameter) from `csv`, then `extra`. */
export function saleSendArgs(csv: string, ...extra: string[]): string[] {
  return [
    'send',
    '--csv',
    csv,
    '--template',
    'spring_sale',
    '--language',
    'en_US',
    '--map',
    'name=1',
    '--map',
    'code=2',
    '--map',
    'slug=button.1',
    ...extra,
  ];
}

/** An in-memory store with one order_update campaign (no rows yet) in its ledger. */
export function memoryCampaign(now: number): { store: Store; ledger: Ledger; cid: number } {
  const store = Store.open(':memory:');
  const ledger = new Ledger(store.db);
  return { store, ledger, cid: addCampaign(ledger, now) };
}

/** Reads `n` pending rows (row i+1 on line i+2, to phone(i), no parameters) into a campaign's ledger, as the reader does. */
export function ingestPending(ledger: Ledger, cid: number, n: number, now: number, done = true): void {
  const rows = Array.from({ length: n }, (_, i) => ({
    row: i + 1,
    line: i + 2,
    recipient: phone(i),
    input: null,
    params: '[]',
    state: 'pending' as const,
    reason: null,
  }));
  ledger.ingestBatch(cid, rows, { offset: 0, line: 0, nextRow: n + 1, done }, now);
}

/** Adds an order_update campaign (no rows yet) to a ledger; returns its cid. */
export function addCampaign(
  ledger: Ledger,
  now: number,
  o: { id?: string; phoneNumberId?: string } = {},
): number {
  const { cid } = ledger.create(
    {
      id: o.id ?? 'c1',
      template: 'order_update',
      language: 'en_US',
      phoneNumberId: o.phoneNumberId ?? '1',
      wabaId: '2',
      csvPath: '/x.csv',
      csvSize: 0,
      csvMtime: 0,
      csvSha256: '',
      options: { map: [], phoneColumn: 'phone', defaultCountry: null, exclude: null, slots: [] },
      templateSnapshot: {
        id: 't',
        name: 'order_update',
        language: 'en_US',
        category: 'UTILITY',
        status: 'APPROVED',
        components: [],
      },
    },
    now,
  );
  return cid;
}

export interface LedgerRow {
  row: number;
  line: number;
  recipient: string | null;
  state: string;
  reason: string | null;
  error_code: number | null;
  wamid: string | null;
  attempts: number;
}

/** A SQLite file's path, or either backend's location. */
export type DbWhere = string | StoreLocation;

/** The CLI's environment for a store: WACX_DB for a SQLite file, WACX_DATABASE_URL for PostgreSQL. */
export function dbEnv(where: DbWhere): NodeJS.ProcessEnv {
  if (typeof where === 'string') return { WACX_DB: where };
  return where.backend === 'sqlite' ? { WACX_DB: where.path } : { WACX_DATABASE_URL: where.url };
}

/** Runs `read` on a connection of its own to the store (read-only for SQLite), closed afterwards. */
export function readDb<T>(where: DbWhere, read: (db: Database.Database | PostgresDatabase) => T): T {
  const db =
    typeof where === 'string' || where.backend === 'sqlite'
      ? new Database(typeof where === 'string' ? where : where.path, { readonly: true, fileMustExist: true })
      : new PostgresDatabase(where.url);
  try {
    return read(db);
  } finally {
    db.close();
  }
}

/** Reads a campaign's rows (the last campaign's without `campaign`) straight from the store. */
export function ledgerRows(where: DbWhere, campaign?: string): LedgerRow[] {
  return readDb(where, (db) => {
    const cid = campaign
      ? (db.prepare('SELECT cid FROM campaigns WHERE id = ?').pluck().get(campaign) as number)
      : (db.prepare('SELECT cid FROM campaigns ORDER BY cid DESC LIMIT 1').pluck().get() as number);
    return db
      .prepare(
        'SELECT row, line, recipient, state, reason, error_code, wamid, attempts FROM campaign_rows WHERE cid = ? ORDER BY row',
      )
      .all(cid) as LedgerRow[];
  });
}

export function countBy<T>(items: readonly T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = join(ROOT, 'bin', 'wacx.js');

/** The built CLI must exist (`npm run build`): the crash tests kill it as a real process. */
export function requireBuild(): void {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/cli/main.js is missing: run `npm run build` before the campaign crash tests.');
  }
}

export interface Spawned {
  child: ChildProcess;
  /** Row outcome lines seen on stdout so far (NDJSON with --json). */
  rows: () => number;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: () => boolean;
}

/** Runs `node bin/wacx.js …args` as a child process. */
export function spawnWacx(args: string[], env: NodeJS.ProcessEnv): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let rows = 0;
  child.stdout!.on('data', (d: Buffer) => {
    const s = d.toString('utf8');
    out += s;
    for (let i = s.indexOf('"type":"row"'); i !== -1; i = s.indexOf('"type":"row"', i + 1)) rows++;
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString('utf8');
  });
  let exited = false;
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => {
      exited = true;
      resolve({ code, signal });
    }),
  );
  return { child, rows: () => rows, stdout: () => out, stderr: () => err, exit, exited: () => exited };
}

/**
 * The system clock with a hook that runs before each sleep (and may hold it). A sending run sleeps only between
 * its turns (pacing, flushes, heartbeats), so a test can stop or hold it at a known point of its progress
 * instead of after some wall-clock time.
 */
export function clockWithHook(beforeSleep: () => void | Promise<void>): Clock {
  return {
    now: () => systemClock.now(),
    sleep: async (ms, signal) => {
      await beforeSleep();
      return systemClock.sleep(ms, signal);
    },
  };
}

/** Resolves when `cond()` holds (polled), or after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 2));
  }
  return cond();
}

/** A seeded pseudo-random generator (mulberry32), so that a failing run can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SandboxIntoStore {
  sb: TestSandbox;
  /**
   * The current test's database (a SQLite file, or a new PostgreSQL database): the sandbox's webhooks are
   * ingested into it (like `wacx webhooks serve`).
   */
  dbPath: DbWhere;
  sink: Store | undefined;
  /** The sandbox's CLI environment with the current test's database. */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
}

/**
 * Registers the hooks of a campaign test file: one sandbox for the file (statuses every 5 ms), reset before each
 * test with the coexistence number at 1,000 msg/s and no pair limit, and a fresh database per test into which the
 * sandbox's webhooks are ingested. Read the fields inside tests or hooks registered after this call.
 */
export function sandboxIntoStore(prefix: string, backend: TestBackend = 'sqlite'): SandboxIntoStore {
  const ctx = {
    sink: undefined,
    dbPath: '',
    env: (extra = {}) => ctx.sb.env({ ...dbEnv(ctx.dbPath), ...extra }),
  } as SandboxIntoStore;
  let k = 0;
  beforeAll(async () => {
    ctx.sb = await startTestSandbox({
      statusDelayMs: 5,
      webhookSink: async (raw, headers) => {
        if (ctx.sink) {
          ingestPayload(ctx.sink.db, raw, {
            signature: headers['x-hub-signature-256'] ?? null,
            appSecret: SEED.app.secret,
          });
        }
        return 200;
      },
    });
  });
  afterAll(async () => {
    ctx.sink?.close();
    await ctx.sb?.close();
  });
  beforeEach(async () => {
    await ctx.sb.control('reset', {});
    await ctx.sb.control(`numbers/${SEED.phoneNumbers.coex.id}`, { mps: 1000, pair_limit: false });
    ctx.sink?.close();
    const path = join(ctx.sb.home, `${prefix}-${++k}.db`);
    ctx.dbPath = backend === 'sqlite' ? path : freshLocation(backend, path);
    ctx.sink = Store.open(ctx.dbPath);
  });
  return ctx;
}

/** A row's outcome as the API accepted it (wamid.<row>), for ledger commits. */
export function sentUpdate(row: number): RowUpdate {
  return {
    row,
    state: 'sent',
    reason: null,
    errorCode: null,
    errorTitle: null,
    wamid: `wamid.${row}`,
    messageStatus: 'accepted',
  };
}
