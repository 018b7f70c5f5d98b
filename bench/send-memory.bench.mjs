// Memory of `wacx send` on big lists: peak RSS of the whole process (VmHWM: main thread, the CSV reader, ledger
// writer and checkpointer threads, SQLite) for a 1,000,000-row CSV must stay under 150 MB, and a 5,000,000-row CSV
// may not need more than 10 % more. By default each list is really sent, pacing off, to the sandbox in its own
// process (5,000,000 rows take about ten minutes); `BENCH_MODE=dry-run` measures --dry-run instead (read,
// validate, normalise, dedupe through the ledger, render every message, send nothing).
// `BENCH_RATE=1000` sends paced at that rate instead of pacing off. `BENCH_ROWS` changes the sizes
// ("1000000,5000000"). `BENCH_DETAIL=1` also prints, at the moment of the peak, what it was made of (anonymous and
// file-backed resident memory, the main thread's V8 heap, its external and ArrayBuffer memory: send-memsampler.mjs).
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  BIN,
  cliEnv,
  fmt,
  orderSendArgs,
  peakOf,
  ROOT,
  SEED,
  startSandboxProcess,
  tempDir,
  writeCsv,
} from './send-common.mjs';

const SIZES = (process.env.BENCH_ROWS ?? '1000000,5000000').split(',').map(Number);
const DRY_RUN = process.env.BENCH_MODE === 'dry-run';
const RATE = process.env.BENCH_RATE ?? '1000000';
const DETAIL = process.env.BENCH_DETAIL === '1';
if (process.platform !== 'linux') {
  console.log('memory: skipped (needs /proc to read the peak RSS)');
  process.exit(0);
}

const sb = await startSandboxProcess();
const pn = SEED.phoneNumbers.coex.id;
if (!DRY_RUN) await sb.control(`numbers/${pn}`, { mps: 1e9, pair_limit: false, statuses: false });
const results = [];
let failed = false;
try {
  for (const rows of SIZES) {
    const dir = tempDir();
    try {
      const csv = await writeCsv(`${dir.dir}/big.csv`, rows);
      const started = performance.now();
      const profile = join(dir.dir, 'memory.json');
      const child = spawn(
        process.execPath,
        [
          ...(DETAIL ? ['--import', join(ROOT, 'bench', 'send-memsampler.mjs')] : []),
          BIN,
          ...orderSendArgs(csv),
          '--campaign',
          `memory-${rows}`,
          ...(DRY_RUN ? ['--dry-run'] : ['--rate', RATE, '--force', '--phone-number-id', pn]),
        ],
        {
          env: cliEnv(sb.url, dir.dir, DETAIL ? { MEM_PROFILE: profile } : {}),
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
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
      }, 50);
      const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
      clearInterval(timer);
      const ms = performance.now() - started;
      const done = DRY_RUN
        ? `${/(\d[\d,]*) messages rendered/.exec(out)?.[1] ?? '?'} messages rendered`
        : `${/^\s*sent\s+([\d,]+)/m.exec(out)?.[1] ?? '?'} sent`;
      results.push({ rows, peak });
      console.log(
        `${fmt(rows)} rows (${fmt(csvSize(csv) / 1e6, 0)} MB CSV): ${DRY_RUN ? '--dry-run' : RATE === '1000000' ? 'sent, pacing off' : `sent at ${RATE} msg/s`}: peak RSS ${fmt(peak / 1e6, 1)} MB, ${done}, ` +
          `${fmt(ms / 1000, 1)} s (${fmt((rows * 1000) / ms)} rows/s), exit ${code}`,
      );
      if (DETAIL) console.log(`  at the peak: ${detailOf(profile)}`);
      if (code !== 0) {
        console.log(err.slice(-2000));
        failed = true;
      }
    } finally {
      dir.cleanup();
    }
  }
} finally {
  await sb.close();
}
const first = results[0];
if (first && first.rows >= 1_000_000 && first.peak >= 150e6) failed = true;
for (const r of results.slice(1)) {
  const growth = r.peak / first.peak - 1;
  console.log(
    `${fmt(r.rows)} rows vs ${fmt(first.rows)}: ${(growth * 100).toFixed(1)} % more memory (limit 10 %)`,
  );
  if (growth > 0.1) failed = true;
}
console.log(failed ? 'memory: MISSED' : 'memory: ok (peak under 150 MB, flat in the number of rows)');
process.exitCode = failed ? 1 : 0;

/** What the resident memory was made of when it was highest (see send-memsampler.mjs). */
function detailOf(path) {
  try {
    const p = JSON.parse(readFileSync(path, 'utf8'));
    const mb = (n) => fmt(n / 1e6, 1);
    const spaces = Object.entries(p.spaces)
      .map(([name, used]) => `${name.replace(/_space$/, '')} ${mb(used)}`)
      .join(', ');
    return (
      `${fmt(p.at / 1000, 1)} s in: RSS ${mb(p.rss)} MB (anonymous ${mb(p.anon)}, files ${mb(p.file)}, shared ${mb(p.shmem)}; ` +
      `${p.threads} threads); main thread heap ${mb(p.heapUsed)} used of ${mb(p.heapTotal)} (${spaces}), ` +
      `external ${mb(p.external)}, ArrayBuffers ${mb(p.arrayBuffers)}`
    );
  } catch {
    return 'no sample';
  }
}

function csvSize(path) {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
