// Capacity of `wacx send` with pacing off (rate far above the sandbox's limit, --force), against the sandbox in
// its own process: at least 5,000 sends/s end to end (CSV read, validation, the durable ledger with its group
// commits, HTTP over an undici Pool), on this 2-core machine. Also a bare undici loop (no ledger, no CSV, same
// Pool size and concurrency, same request bodies) against the same sandbox, and the ratio.
// `BENCH_ROWS` changes the size (default 100,000).
import { Pool } from 'undici';
import { templateMessageBody } from '../dist/lib/graph/resources/messages.js';
import {
  cliEnv,
  fmt,
  orderComponents,
  orderSendArgs,
  phone,
  runWacx,
  SEED,
  startSandboxProcess,
  summaryOf,
  tempDir,
  writeCsv,
} from './send-common.mjs';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const TARGET = 5000;
const sb = await startSandboxProcess();
const dir = tempDir();
const coex = SEED.phoneNumbers.coex.id;
const cloud = SEED.phoneNumbers.cloud.id;
let failed = false;
try {
  for (const pn of [coex, cloud])
    await sb.control(`numbers/${pn}`, { mps: 1e9, pair_limit: false, statuses: false });
  // warm the sandbox up (a fresh process runs cold code for its first thousands of requests)
  await bareLoop(cloud, 20_000, 64, 256);

  const csv = await writeCsv(`${dir.dir}/capacity.csv`, ROWS);
  const args = orderSendArgs(csv);
  args.push('--rate', '1000000', '--force', '--phone-number-id', coex, '--json');
  const r = await runWacx(args, cliEnv(sb.url, dir.dir));
  const s = summaryOf(r.stdout);
  const accepted = (await sb.control(`send-counts?phone_number_id=${coex}`)).seconds.reduce(
    (n, x) => n + x.accepted,
    0,
  );
  const e2e = (ROWS * 1000) / r.ms;
  console.log(
    `wacx send, pacing off, ${fmt(ROWS)} rows: exit ${r.code}, ${fmt(accepted)} accepted by the sandbox, wall ${fmt(r.ms / 1000, 2)} s ` +
      `(process start to exit) = ${fmt(e2e)} sends/s end to end; sending phase ${fmt(s?.achieved_rate ?? 0)} sends/s; ` +
      `${fmt(s?.commits ?? 0)} ledger commits (${fmt(ROWS / (s?.commits || 1), 1)} rows per fsync'ed commit)`,
  );
  if (r.code !== 0 || accepted !== ROWS) {
    console.log(r.stderr.slice(-2000));
    failed = true;
  }

  const bare = await bareLoop(cloud, ROWS, 128, 512);
  console.log(
    `bare undici loop (Pool of 128 connections, 512 in flight, no ledger): ${fmt(bare)} requests/s`,
  );
  console.log(
    `ratio wacx send / bare loop: ${(e2e / bare).toFixed(2)} end to end, ${((s?.achieved_rate ?? 0) / bare).toFixed(2)} sending phase`,
  );
  if (e2e < TARGET) failed = true;
  console.log(
    failed
      ? `capacity: MISSED (target ${fmt(TARGET)} sends/s end to end)`
      : `capacity: ok (target ${fmt(TARGET)} sends/s)`,
  );
} finally {
  await sb.close();
  dir.cleanup();
}
process.exitCode = failed ? 1 : 0;

/** POSTs `n` template sends as fast as the sandbox takes them; returns requests/s. */
async function bareLoop(pn, n, connections, concurrency) {
  const pool = new Pool(sb.url, { connections, pipelining: 1 });
  const headers = { authorization: `Bearer ${SEED.token}`, 'content-type': 'application/json' };
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const body = JSON.stringify(
        templateMessageBody({
          to: `+${phone(2_000_000 + i)}`,
          name: 'order_update',
          language: 'en_US',
          components: orderComponents(`Name ${i}`, `A-${i}`),
          bizOpaqueCallbackData: `bare:${i}`,
        }),
      );
      const res = await pool.request({ method: 'POST', path: `/v25.0/${pn}/messages`, headers, body });
      await res.body.text();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - started;
  await pool.close();
  return (n * 1000) / ms;
}
