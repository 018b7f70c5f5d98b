// Resume after a crash of a 1,000,000-row campaign: the first new send must leave within 2 s of the start of the
// resumed run (same command, and `wacx campaigns resume ID`), without re-reading what is in the ledger.
// The first run is killed (SIGKILL) once the whole CSV is in the ledger and sending is under way; a second case
// kills it while the CSV is still being read. `BENCH_ROWS` changes the size.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  cliEnv,
  fmt,
  orderSendArgs,
  ROOT,
  SEED,
  startSandboxProcess,
  tempDir,
  writeCsv,
} from './send-common.mjs';

const require = createRequire(join(ROOT, 'package.json'));
const Database = require('better-sqlite3');
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const LIMIT_MS = 2000;
const pn = SEED.phoneNumbers.coex.id;

const sb = await startSandboxProcess();
const dir = tempDir();
let failed = false;
try {
  await sb.control(`numbers/${pn}`, { mps: 1e9, pair_limit: false, statuses: false });
  const csv = await writeCsv(`${dir.dir}/million.csv`, ROWS);
  const env = cliEnv(sb.url, dir.dir);
  const args = orderSendArgs(csv);
  args.push('--rate', '2000', '--force');

  const ledger = () => {
    let db;
    try {
      db = new Database(env.WACX_DB, { readonly: true, fileMustExist: true });
      const c = db.prepare('SELECT id, ingest_done, next_row FROM campaigns').get();
      const sent = c
        ? db.prepare("SELECT COUNT(*) FROM campaign_rows WHERE state = 'sent'").pluck().get()
        : 0;
      return { id: c?.id, ingestDone: c?.ingest_done === 1, rows: (c?.next_row ?? 1) - 1, sent };
    } catch {
      return { id: undefined, ingestDone: false, rows: 0, sent: 0 };
    } finally {
      db?.close();
    }
  };
  const lastAt = async () => {
    const c = await sb.control(`send-counts?phone_number_id=${pn}`);
    return c.seconds.reduce((n, s) => n + s.accepted, 0);
  };

  /** Starts a run, kills it with SIGKILL when `until()` holds. */
  async function crash(runArgs, until) {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'wacx.js'), ...runArgs], {
      env,
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    for (;;) {
      await new Promise((r) => setTimeout(r, 200));
      if (until()) break;
    }
    child.kill('SIGKILL');
    await exited;
  }

  /** Starts a resumed run; returns ms from spawn to the first message the sandbox accepted from it. */
  async function firstSend(runArgs) {
    const before = await lastAt();
    const started = Date.now();
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'wacx.js'), ...runArgs], {
      env,
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    let first = null;
    while (first === null && Date.now() - started < 20_000) {
      await new Promise((r) => setTimeout(r, 10));
      if ((await lastAt()) > before) first = Date.now() - started;
    }
    // exact time of the first new message, from the sandbox's log
    const msgs = await sb.control(`messages?phone_number_id=${pn}`);
    const exact = msgs
      .filter((m) => m.at >= started)
      .reduce((a, m) => Math.min(a, m.at), Number.POSITIVE_INFINITY);
    child.kill('SIGKILL');
    await exited;
    return Number.isFinite(exact) ? exact - started : first;
  }

  // case 1: the whole CSV is in the ledger, sending under way
  await crash(args, () => {
    const l = ledger();
    return l.ingestDone && l.sent > 20_000;
  });
  const l1 = ledger();
  console.log(`killed run 1: ${fmt(l1.rows)} rows in the ledger, ${fmt(l1.sent)} sent`);
  const sameCommand = await firstSend(args);
  const byId = await firstSend(['campaigns', 'resume', l1.id, '--rate', '2000', '--force']);
  console.log(`resume with the same command: first new send ${fmt(sameCommand)} ms after start`);
  console.log(`resume with \`wacx campaigns resume ${l1.id}\`: first new send ${fmt(byId)} ms after start`);
  if (!(sameCommand < LIMIT_MS && byId < LIMIT_MS)) failed = true;

  // case 2: killed while the CSV is still being read (a new campaign id)
  const args2 = [...args, '--campaign', 'resume-bench-2'];
  await crash(args2, () => {
    const db = new Database(env.WACX_DB, { readonly: true });
    try {
      const c = db.prepare("SELECT next_row, ingest_done FROM campaigns WHERE id = 'resume-bench-2'").get();
      return c && c.next_row > ROWS / 4 && c.ingest_done === 0;
    } finally {
      db.close();
    }
  });
  const mid = await firstSend(args2);
  console.log(`killed while reading the CSV, resumed: first new send ${fmt(mid)} ms after start`);
  if (!(mid < LIMIT_MS)) failed = true;
} finally {
  await sb.close();
  dir.cleanup();
}
console.log(
  failed
    ? `resume: MISSED (limit ${fmt(LIMIT_MS)} ms)`
    : `resume: ok (first new send within ${fmt(LIMIT_MS)} ms)`,
);
process.exitCode = failed ? 1 : 0;
