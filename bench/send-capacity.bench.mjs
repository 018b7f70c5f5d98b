// Capacity of `wacx send` with pacing off (rate far above the sandbox's limit, --force), against the sandbox in
// its own process: at least 5,000 sends/s end to end (CSV read, validation, the durable ledger with its group
// commits, HTTP over an undici Pool), on this 2-core machine; and at least half the rate of a bare undici loop
// against the same sandbox, measured side by side in this run (before and after the send; their mean is the
// yardstick, so that a change of the machine's load during the run weighs on both sides alike).
// The bare loop is a fair yardstick: the same number, the same Pool size and requests in flight as the send uses
// (rate.ts, run.ts), the same request (URL with appsecret_proof, headers, template bodies), each answer read whole;
// only the ledger, the CSV and everything else wacx does are left out.
// Also the CPU each side used per message (wacx's threads, the sandbox), which does not depend on the load as the
// rates do. `BENCH_ROWS` changes the size (default 100,000).
import { Pool } from 'undici';
import { defaultWindow } from '../dist/lib/campaign/rate.js';
import { appSecretProof } from '../dist/lib/graph/client.js';
import { templateMessageBody } from '../dist/lib/graph/resources/messages.js';
import { VERSION } from '../dist/lib/version.js';
import {
  cliEnv,
  cpuOf,
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
const RATIO = 0.5;
const RATE = 1_000_000;
// what `wacx send --rate 1000000 --force` uses (run.ts: a Pool of min(window, 128) connections)
const WINDOW = defaultWindow(RATE);
const CONNECTIONS = Math.min(WINDOW, 128);
const sb = await startSandboxProcess();
const dir = tempDir();
const pn = SEED.phoneNumbers.coex.id;
let failed = false;
try {
  await sb.control(`numbers/${pn}`, { mps: 1e9, pair_limit: false, statuses: false });
  // warm the sandbox up (a fresh process runs cold code for its first thousands of requests)
  await bareLoop(20_000, 5_000_000);

  const before = await bareLoop(ROWS, 2_000_000);
  const csv = await writeCsv(`${dir.dir}/capacity.csv`, ROWS);
  const args = orderSendArgs(csv);
  args.push('--rate', String(RATE), '--force', '--phone-number-id', pn, '--json');
  const sbCpu = cpuOf(sb.pid)?.total ?? 0;
  const r = await runWacx(args, cliEnv(sb.url, dir.dir), { sampleCpu: true });
  const wacxSandboxMs = (cpuOf(sb.pid)?.total ?? 0) - sbCpu;
  const after = await bareLoop(ROWS, 3_000_000);
  const s = summaryOf(r.stdout);
  const accepted = (await sb.control(`send-counts?phone_number_id=${pn}`)).seconds.reduce(
    (n, x) => n + x.accepted,
    0,
  );
  const e2e = (ROWS * 1000) / r.ms;
  const threads = (r.cpu?.threads ?? [])
    .filter((t) => t.ms >= 100)
    .map((t) => `${t.name}${t.tid === r.child.pid ? ' (main)' : ''} ${fmt((t.ms * 1000) / ROWS)}`)
    .join(', ');
  console.log(
    `wacx send, pacing off, ${fmt(ROWS)} rows, ${WINDOW} in flight over ${CONNECTIONS} connections: exit ${r.code}, ` +
      `wall ${fmt(r.ms / 1000, 2)} s (process start to exit) = ${fmt(e2e)} sends/s end to end; sending phase ` +
      `${fmt(s?.achieved_rate ?? 0)} sends/s; ${fmt(s?.commits ?? 0)} ledger commits (${fmt(ROWS / (s?.commits || 1), 1)} rows per fsync'ed commit)`,
  );
  console.log(
    `  CPU per message: wacx ${fmt(((r.cpu?.total ?? 0) * 1000) / ROWS)} µs (by thread, main first, then V8's helper threads (its optimising compiler; garbage collection too on 4 cores or more), then the checkpointer, ledger writer and CSV reader threads: ${threads}), sandbox ${fmt((wacxSandboxMs * 1000) / ROWS)} µs`,
  );
  if (r.code !== 0 || accepted < ROWS) {
    console.log(r.stderr.slice(-2000));
    failed = true;
  }
  for (const [when, b] of [
    ['before', before],
    ['after', after],
  ]) {
    console.log(
      `bare undici loop ${when} (same Pool, requests and in-flight count, no ledger): ${fmt(b.rate)} requests/s; ` +
        `CPU per message: loop ${fmt(b.loopUs)} µs, sandbox ${fmt(b.sandboxUs)} µs`,
    );
  }
  const bare = (before.rate + after.rate) / 2;
  const ratio = e2e / bare;
  console.log(
    `ratio wacx send / bare loop (mean of both): ${ratio.toFixed(2)} end to end, ${((s?.achieved_rate ?? 0) / bare).toFixed(2)} sending phase (target ${RATIO})`,
  );
  if (e2e < TARGET || ratio < RATIO) failed = true;
  console.log(
    failed
      ? `capacity: MISSED (targets: ${fmt(TARGET)} sends/s end to end, ratio ${RATIO})`
      : `capacity: ok (${fmt(TARGET)} sends/s, ratio ${RATIO})`,
  );
} finally {
  await sb.close();
  dir.cleanup();
}
process.exitCode = failed ? 1 : 0;

/**
 * POSTs `n` template sends as fast as the sandbox takes them, `WINDOW` in flight over a Pool of `CONNECTIONS`, the
 * requests as wacx sends them; returns requests/s and the CPU per request of this loop and of the sandbox.
 */
async function bareLoop(n, offset) {
  const pool = new Pool(sb.url, { connections: CONNECTIONS, pipelining: 1, keepAliveTimeout: 30_000 });
  const path = `/v25.0/${pn}/messages?appsecret_proof=${appSecretProof(SEED.token, SEED.app.secret)}`;
  const headers = {
    'user-agent': `wacx/${VERSION}`,
    accept: 'application/json',
    authorization: `Bearer ${SEED.token}`,
    'content-type': 'application/json',
  };
  let next = 0;
  const sbCpu = cpuOf(sb.pid)?.total ?? 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const body = JSON.stringify(
        templateMessageBody({
          to: `+${phone(offset + i)}`,
          name: 'order_update',
          language: 'en_US',
          components: orderComponents(`Name ${i}`, `A-${i}, express`),
          bizOpaqueCallbackData: `bare-loop-campaign:${i + 1}`,
        }),
      );
      const res = await pool.request({ method: 'POST', path, headers, body });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`bare loop: HTTP ${res.statusCode} ${text}`);
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  const sandboxMs = (cpuOf(sb.pid)?.total ?? 0) - sbCpu;
  await pool.close();
  return {
    rate: (n * 1000) / ms,
    loopUs: (used.user + used.system) / n,
    sandboxUs: (sandboxMs * 1000) / n,
  };
}
