// The CPU cost of the audit trail (issue #20): `wacx send` of 20,000 messages at 1,000 msg/s against the sandbox,
// with the audit trail on and off (the yardstick: WACX_AUDIT_OFF=1, read once in lib/audit/journal.ts), measured
// as the CPU time (user + system, all threads) of the wacx process. Target: on / off ≤ 1.10. Runs alternate
// between the two modes (BENCH_ROUNDS each, default 3) and each mode keeps its lowest figure, the one least
// disturbed by the rest of the machine. `BENCH_MESSAGES` changes the count (default 20,000).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  cliEnv,
  fmt,
  orderSendArgs,
  runWacx,
  SEED,
  startSandboxProcess,
  summaryOf,
  tempDir,
  warmUp,
  writeCsv,
} from './send-common.mjs';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RATE = 1000;
const TARGET = 1.1;
const NUMBER = SEED.phoneNumbers.cloud.id;
// the child reports its own process.cpuUsage() (every thread of the process) as it exits
const CPU_REPORT = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\nBENCH_CPU '+JSON.stringify(process.cpuUsage())+'\\n'))`;

/** The audit records a run left (the yardstick is only one if it wrote none, and the real run one per send). */
function auditRecords(path) {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT COUNT(*) FROM audit_records').pluck().get();
  } finally {
    db.close();
  }
}

/**
 * The process's CPU time at exit. The --import module also runs in each worker thread, whose exit (earlier) reports
 * too: the largest figure is the main thread's, at the process's own exit, the cumulative one.
 */
function cpuOf(stderr) {
  const figures = stderr
    .split('\n')
    .filter((l) => l.startsWith('BENCH_CPU '))
    .map((l) => {
      const u = JSON.parse(l.slice('BENCH_CPU '.length));
      return (u.user + u.system) / 1000;
    });
  return figures.length ? Math.max(...figures) : null;
}

const sb = await startSandboxProcess();
const dir = tempDir();
let failed = false;
try {
  await warmUp(sb, dir.dir, NUMBER);
  const csv = await writeCsv(join(dir.dir, 'audit.csv'), MESSAGES);
  const runs = { on: [], off: [] };
  let run = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of ['off', 'on']) {
      run++;
      await sb.control('reset', {});
      await sb.control(`numbers/${NUMBER}`, { mps: RATE, statuses: false, pair_limit: false });
      const args = orderSendArgs(csv);
      args.push('--rate', String(RATE), '--force', '--phone-number-id', NUMBER, '--json');
      args.push('--campaign', `audit-${run}`);
      const dbPath = join(dir.dir, `audit-${run}.db`);
      const env = cliEnv(sb.url, dir.dir, {
        WACX_DB: dbPath,
        ...(mode === 'off' ? { WACX_AUDIT_OFF: '1' } : {}),
      });
      const r = await runWacx(args, env, { nodeArgs: ['--import', CPU_REPORT] });
      const cpu = cpuOf(r.stderr);
      const summary = summaryOf(r.stdout);
      const records = r.code === 0 ? auditRecords(dbPath) : -1;
      const recordsOk = mode === 'off' ? records === 0 : records >= MESSAGES;
      if (r.code !== 0 || cpu === null || summary?.sent !== MESSAGES || !recordsOk) {
        console.log(
          `run ${run} (audit ${mode}) failed: exit ${r.code}, sent ${summary?.sent ?? '?'}, audit records ${records}`,
        );
        console.log(r.stderr.slice(-2000));
        failed = true;
        continue;
      }
      runs[mode].push(cpu);
      console.log(
        `run ${run}: audit ${mode.padEnd(3)} ${fmt(MESSAGES)} messages at ${fmt(RATE)} msg/s in ${fmt(r.ms / 1000, 1)} s, CPU ${fmt(cpu)} ms, ${fmt(records)} audit records`,
      );
    }
  }
  const best = { on: Math.min(...runs.on), off: Math.min(...runs.off) };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
  const ratio = best.on / best.off;
  const ok = !failed && Number.isFinite(ratio) && ratio <= TARGET;
  console.log(
    `${ok ? 'ok  ' : 'MISS'} audit trail CPU: on ${fmt(best.on)} ms, off ${fmt(best.off)} ms, ratio ${fmt(ratio, 3)} (target ≤ ${TARGET}); medians on ${fmt(median(runs.on))} ms, off ${fmt(median(runs.off))} ms`,
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  await sb.close();
  dir.cleanup();
}
