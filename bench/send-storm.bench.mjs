// Throughput through a storm of 130429: `wacx send` at 200 msg/s; once it runs at its target, the sandbox's limit
// drops to 5 msg/s for 10 s, and the sender is killed (SIGKILL) 4 s into the storm and resumed at once.
// Targets: never above the target rate in any second, at least 75 % of it in the second before the storm; during
// the storm (after its first 2 s) fewer than 30 % of the target in attempts per second (it backs off as a whole);
// back at 90 % of the target within 15 s of the storm's end; every recipient accepted once and no row lost.
// Measured from the sandbox's own per-second counts. `BENCH_RATE` changes the target (default 200).
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  BIN,
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
const RATE = Number(process.env.BENCH_RATE ?? 200);
const ROWS = RATE * 11;
const STORM_MPS = 5;
const STORM_MS = 10_000;
const KILL_AFTER_MS = 4000;
const RECOVERY_S = 15;
const pn = SEED.phoneNumbers.coex.id;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function send(args, env) {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exit, stderr: () => stderr };
}

const sb = await startSandboxProcess();
const dir = tempDir();
const problems = [];
const check = (ok, message) => {
  if (!ok) problems.push(message);
};
try {
  await sb.control(`numbers/${pn}`, { mps: RATE, pair_limit: false, statuses: false });
  const csv = await writeCsv(join(dir.dir, 'storm.csv'), ROWS);
  const env = cliEnv(sb.url, dir.dir);
  const args = orderSendArgs(csv);
  args.push('--rate', String(RATE), '--force', '--json');
  const perSecond = async () => (await sb.control(`send-counts?phone_number_id=${pn}`)).seconds;

  let run = send(args, env);
  // the storm starts once the sender runs at its target (start-up time varies with the machine's load)
  const steadyBy = Date.now() + 20_000;
  while (!(await perSecond()).some((s) => s.accepted >= RATE * 0.9) && Date.now() < steadyBy)
    await sleep(200);
  await sleep(1200);
  const stormStart = Date.now();
  await sb.control(`numbers/${pn}`, { mps: STORM_MPS });
  await sleep(KILL_AFTER_MS);
  run.child.kill('SIGKILL');
  await run.exit;
  run = send(args, env);
  await sleep(Math.max(0, stormStart + STORM_MS - Date.now()));
  await sb.control(`numbers/${pn}`, { mps: RATE });
  const stormEnd = Date.now();
  const end = await run.exit;

  const seconds = await perSecond();
  const bySecond = new Map(seconds.map((s) => [s.second, s]));
  const at = (s) => bySecond.get(s) ?? { second: s, accepted: 0, throttled: 0 };
  const sec = (ms) => Math.floor(ms / 1000);
  const maxAccepted = Math.max(...seconds.map((s) => s.accepted));
  const beforeStorm = at(sec(stormStart) - 1).accepted;
  let stormAttempts = 0;
  for (let s = sec(stormStart) + 2; s < sec(stormEnd) - 1; s++)
    stormAttempts += at(s).accepted + at(s).throttled;
  const stormRate = stormAttempts / (sec(stormEnd) - 1 - (sec(stormStart) + 2));
  let recoveredAfter = null;
  for (let s = sec(stormEnd) + 1; s <= sec(stormEnd) + 30 && recoveredAfter === null; s++)
    if (at(s).accepted >= RATE * 0.9) recoveredAfter = s - sec(stormEnd);

  const msgs = await sb.control(`messages?phone_number_id=${pn}`);
  const db = new Database(env.WACX_DB, { readonly: true, fileMustExist: true });
  const states = Object.fromEntries(
    db
      .prepare('SELECT state, COUNT(*) AS n FROM campaign_rows GROUP BY state')
      .all()
      .map((r) => [r.state, r.n]),
  );
  db.close();
  const sent = states.sent ?? 0;
  const unknown = states.unknown ?? 0;

  check([0, 3].includes(end.code), `the resumed run exited ${end.code}: ${run.stderr().slice(-1000)}`);
  check(maxAccepted <= RATE, `${maxAccepted} accepted in one second, above the target ${RATE}`);
  check(beforeStorm >= RATE * 0.75, `${beforeStorm} msg/s before the storm, below 75 % of ${RATE}`);
  check(stormRate < RATE * 0.3, `${fmt(stormRate, 1)} attempts/s in the storm, not below 30 % of ${RATE}`);
  check(
    recoveredAfter !== null && recoveredAfter <= RECOVERY_S,
    `back at 90 % of the target after ${recoveredAfter ?? '> 30'} s, not within ${RECOVERY_S} s`,
  );
  check(new Set(msgs.map((m) => m.to)).size === msgs.length, 'a recipient was accepted twice');
  check(sent + unknown === ROWS, `rows ${JSON.stringify(states)}, expected ${ROWS} sent or unknown`);
  check(
    sent <= msgs.length && msgs.length <= sent + unknown,
    `${msgs.length} accepted, ledger ${JSON.stringify(states)}`,
  );

  console.log(
    `target ${fmt(RATE)} msg/s, ${fmt(ROWS)} rows, storm of ${STORM_MS / 1000} s at ${STORM_MPS} msg/s, killed after ${KILL_AFTER_MS / 1000} s:\n` +
      `  before the storm ${fmt(beforeStorm)} msg/s (target ≥ ${fmt(RATE * 0.75)}), max in any second ${fmt(maxAccepted)} (limit ${fmt(RATE)})\n` +
      `  in the storm ${fmt(stormRate, 1)} attempts/s (target < ${fmt(RATE * 0.3)})\n` +
      `  back at ≥ 90 % of the target ${recoveredAfter ?? '> 30'} s after the storm (target ≤ ${RECOVERY_S} s)\n` +
      `  ${fmt(msgs.length)} accepted, each recipient once; ledger ${JSON.stringify(states)}; exit ${end.code}`,
  );
} finally {
  await sb.close();
  dir.cleanup();
}
for (const p of problems) console.log(`MISS ${p}`);
console.log(problems.length === 0 ? 'storm: all targets met' : `storm: ${problems.length} target(s) missed`);
process.exitCode = problems.length === 0 ? 0 : 1;
