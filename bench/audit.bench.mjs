// The audit trail at 1,000,000 records: `wacx audit verify`, `wacx audit export` and `wacx audit verify --file` as
// whole commands, their time and peak RSS, next to the same commands on 300,000 records. Target: constant memory,
// i.e. the 1,000,000-record peak within 15 % of the 300,000-record peak (V8's young generation reaches its full
// size only after a few hundred thousand records; a reader that kept the records would need several times more),
// with V8's old space capped at 32 MB for every command.
// `BENCH_RECORDS` changes the sizes ("300000,1000000").

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BIN, fmt, peakOf, ROOT, tempDir } from './send-common.mjs';

const SIZES = (process.env.BENCH_RECORDS ?? '300000,1000000').split(',').map(Number);
const { Store } = await import(pathToFileURL(join(ROOT, 'dist/lib/store/store.js')).href);
const { AuditJournal } = await import(pathToFileURL(join(ROOT, 'dist/lib/audit/journal.js')).href);

/** Runs the built CLI; wall time and peak RSS (sampled VmHWM, a high-water mark). */
function measure(args, env) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    let peak = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, peakOf(child.pid));
    }, 10);
    child.on('exit', (code) => {
      clearInterval(timer);
      resolve({ code, out, err, ms: performance.now() - started, peak });
    });
  });
}

function seed(db, n) {
  const store = Store.open(db);
  const journal = new AuditJournal(store.db);
  const started = performance.now();
  const batch = 10_000;
  for (let i = 0; i < n; i += batch) {
    const entries = [];
    for (let k = i; k < Math.min(n, i + batch); k++) {
      entries.push({
        at: 1_764_547_200_000 + k * 1000,
        kind: k % 3 === 0 ? 'send' : k % 3 === 1 ? 'status' : 'inbound',
        subject: `49151${String(10_000_000 + k).padStart(8, '0')}`,
        content: { template: 'order_update', language: 'en_US', wamid: `wamid.HBgL${k}`, params: 'sha256:…' },
      });
    }
    journal.append(entries);
  }
  store.close();
  return performance.now() - started;
}

const results = [];
let failed = false;
for (const n of SIZES) {
  const dir = tempDir();
  try {
    const db = join(dir.dir, 'wacx.db');
    const seedMs = seed(db, n);
    const env = {
      PATH: process.env.PATH,
      HOME: dir.dir,
      XDG_CONFIG_HOME: join(dir.dir, '.config'),
      WACX_DB: db,
      CI: 'true',
    };
    const verify = await measure(['audit', 'verify'], env);
    const exported = await measure(['audit', 'export', '-o', join(dir.dir, 'audit.jsonl')], env);
    const checked = await measure(['audit', 'verify', '--file', join(dir.dir, 'audit.jsonl')], env);
    for (const [name, r] of [
      ['verify', verify],
      ['export', exported],
      ['verify --file', checked],
    ]) {
      if (r.code !== 0) {
        console.log(`audit ${name} on ${fmt(n)} records exited ${r.code}: ${r.err.trim()}`);
        failed = true;
      }
    }
    results.push({ n, verify, exported, checked });
    console.log(
      `${fmt(n)} records (appended in ${fmt(seedMs / 1000, 1)} s, ${fmt((n / seedMs) * 1000)} records/s): ` +
        `verify ${fmt(verify.ms / 1000, 2)} s, peak ${fmt(verify.peak / 1e6, 1)} MB; ` +
        `export ${fmt(exported.ms / 1000, 2)} s, peak ${fmt(exported.peak / 1e6, 1)} MB; ` +
        `verify --file ${fmt(checked.ms / 1000, 2)} s, peak ${fmt(checked.peak / 1e6, 1)} MB`,
    );
  } finally {
    dir.cleanup();
  }
}
if (results.length >= 2) {
  const [small, big] = [results[0], results.at(-1)];
  for (const key of ['verify', 'exported', 'checked']) {
    const ratio = big[key].peak / small[key].peak;
    const ok = ratio <= 1.15;
    if (!ok) failed = true;
    console.log(
      `${key}: peak RSS ${fmt(big.n)} / ${fmt(small.n)} records = ${fmt(ratio, 2)} (target ≤ 1.15: constant memory) ${ok ? 'ok' : 'MISSED'}`,
    );
  }
}
process.exitCode = failed ? 1 : 0;
