// A paced 1,000 msg/s `wacx send` with its ledger on PostgreSQL (a server started here, fsync on: every group
// commit waits for the server's WAL flush, as in production) and, in the same run, on SQLite: on each, the mean
// achieved rate is within ±1 %, no sliding one-second window holds more than 1,010 messages, and the sandbox
// answers no 130429. Measured from the sandbox's own record of accepted messages. `BENCH_SECONDS` shortens the
// runs (default 60).
import { join } from 'node:path';
import { startPostgres } from '../scripts/postgres-server.mjs';
import {
  cliEnv,
  fmt,
  maxSlidingWindow,
  orderSendArgs,
  runWacx,
  SEED,
  startSandboxProcess,
  summaryOf,
  tempDir,
  warmUp,
  writeCsv,
} from './send-common.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const RATE = 1000;
const NUMBER = SEED.phoneNumbers.cloud.id;

const pg = await startPostgres({ fsync: true });
let failed = 0;
try {
  for (const backend of ['postgres', 'sqlite']) {
    const sb = await startSandboxProcess();
    const dir = tempDir();
    try {
      await sb.control(`numbers/${NUMBER}`, { mps: RATE, statuses: false });
      await warmUp(sb, dir.dir, NUMBER);
      const rows = RATE * SECONDS;
      const csv = await writeCsv(join(dir.dir, 'rate.csv'), rows);
      const args = orderSendArgs(csv);
      args.push('--rate', String(RATE), '--phone-number-id', NUMBER, '--force', '--json');
      // WACX_DATABASE_URL comes before WACX_DB (which cliEnv sets): the ledger goes to PostgreSQL
      const env = cliEnv(sb.url, dir.dir, backend === 'postgres' ? { WACX_DATABASE_URL: pg.url } : {});
      const r = await runWacx(args, env, { timeoutMs: (SECONDS + 120) * 1000 });
      const summary = summaryOf(r.stdout);
      const msgs = await sb.control(`messages?phone_number_id=${NUMBER}`);
      const counts = await sb.control(`send-counts?phone_number_id=${NUMBER}`);
      const times = msgs.map((m) => m.at).sort((a, b) => a - b);
      const mean = ((times.length - 1) * 1000) / (times.at(-1) - times[0]);
      const { max: window, at: windowAt } = maxSlidingWindow(times);
      const throttled = counts.seconds.reduce((n, s) => n + s.throttled, 0);
      const meanOk = Math.abs(mean - RATE) / RATE <= 0.01;
      const windowOk = window <= RATE * 1.01;
      const ok = r.code === 0 && times.length === rows && meanOk && windowOk && throttled === 0;
      if (!ok) failed++;
      console.log(
        `${ok ? 'ok  ' : 'MISS'} ${backend.padEnd(8)} target ${fmt(RATE)} msg/s, ${fmt(rows)} messages: mean ${fmt(mean, 2)} msg/s ` +
          `(${(((mean - RATE) / RATE) * 100).toFixed(2)} %), max in any 1 s window ${window} (limit ${fmt(RATE * 1.01, 1)}, ` +
          `first at +${fmt(windowAt / 1000, 3)} s), 130429 answers ${throttled}, exit ${r.code}, ` +
          `commits ${summary?.commits ?? '?'}`,
      );
      if (r.code !== 0) console.log(r.stderr.slice(-2000));
    } finally {
      await sb.close();
      dir.cleanup();
    }
  }
} finally {
  pg.stop();
}
console.log(
  failed === 0
    ? 'send on PostgreSQL and SQLite: targets met'
    : `send on PostgreSQL: ${failed} target(s) missed`,
);
process.exitCode = failed === 0 ? 0 : 1;
