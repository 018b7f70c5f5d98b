// A paced 1,000 msg/s `wacx send` with its ledger on PostgreSQL (a server started here, fsync on: every group
// commit waits for the server's WAL flush, as in production) and, in the same run, on SQLite: on each, the mean
// achieved rate is within ±1 %, no sliding one-second window holds more than 1,010 messages, and the sandbox
// answers no 130429. Measured from the sandbox's own record of accepted messages. `BENCH_SECONDS` shortens the
// runs (default 60).
import { startPostgres } from '../scripts/postgres-server.mjs';
import { pacedRun, SEED } from './send-common.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const pg = await startPostgres({ fsync: true });
let failed = 0;
try {
  for (const backend of ['postgres', 'sqlite']) {
    const met = await pacedRun({
      rate: 1000,
      number: SEED.phoneNumbers.cloud.id,
      seconds: SECONDS,
      label: backend,
      force: true,
      // WACX_DATABASE_URL comes before WACX_DB (which cliEnv sets): the ledger goes to PostgreSQL
      env: backend === 'postgres' ? { WACX_DATABASE_URL: pg.url } : {},
    });
    if (!met) failed++;
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
