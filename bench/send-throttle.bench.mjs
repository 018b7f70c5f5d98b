// Adaptive throughput of `wacx send` when the API enforces less than the number advertises, and through a storm
// of 130429. Measured from the sandbox's own per-second counts (accepted and throttled answers, its clock).
//
// limit: the sandbox enforces half the advertised rate (20 → 10, 80 → 40, 1,000 → 500 msg/s) while the sender
//   targets the advertised one; BENCH_SECONDS (default 60) after the first 130429 the limit lifts to the advertised
//   rate. Targets: from 15 s after the first 130429 until the lift, accepted ≥ 90 % of the enforced limit and
//   throttled answers ≤ 2 % of requests; after the lift, a second at ≥ 95 % of the advertised rate within 30 s.
// storm: at the advertised rate, every send refused with 130429 for 10 s (throttle_storm_ms). Targets: from 2 s
//   into the storm, attempts (accepted + refused) ≤ 10 % of the target in every second; a second at ≥ 95 % of the
//   target within 10 s after the storm.
// BENCH_RATES picks rates ("20,1000"), BENCH_PARTS picks parts ("limit" or "storm").
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import {
  BIN,
  cliEnv,
  fmt,
  orderSendArgs,
  SEED,
  startSandboxProcess,
  tempDir,
  warmUp,
  writeCsv,
} from './send-common.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const STORM_MS = 10_000;
const TARGETS = [
  { rate: 20, number: SEED.phoneNumbers.coex.id, label: 'coexistence number (20 msg/s)' },
  { rate: 80, number: SEED.phoneNumbers.cloud.id, label: 'STANDARD number (80 msg/s)' },
  { rate: 1000, number: SEED.phoneNumbers.cloud.id, label: 'number at 1,000 msg/s', force: true },
];
const only = process.env.BENCH_RATES?.split(',').map(Number);
const parts = (process.env.BENCH_PARTS ?? 'limit,storm').split(',');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sec = (ms) => Math.floor(ms / 1000);

function send(args, env) {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  const exit = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exit, stdout: () => stdout, stderr: () => stderr };
}

async function seconds(sb, number) {
  const c = await sb.control(`send-counts?phone_number_id=${number}`);
  const m = new Map(c.seconds.map((s) => [s.second, s]));
  return (s) => m.get(s) ?? { second: s, accepted: 0, throttled: 0 };
}

async function until(sb, number, cond, timeoutMs) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const c = await sb.control(`send-counts?phone_number_id=${number}`);
    const hit = cond(c.seconds);
    if (hit !== null && hit !== undefined && hit !== false) return hit;
    if (Date.now() > end) return null;
    await sleep(100);
  }
}

/** The sending run: `wacx send` at the advertised rate (--rate, --force above 80), --json. */
async function startRun(sb, dir, t, rows, name) {
  const csv = await writeCsv(join(dir, `${name}.csv`), rows);
  const args = orderSendArgs(csv);
  args.push('--rate', String(t.rate), '--phone-number-id', t.number, '--campaign', name, '--json');
  if (t.force) args.push('--force');
  return send(args, cliEnv(sb.url, dir));
}

async function stop(run) {
  run.child.kill('SIGTERM');
  return run.exit;
}

const problems = [];
const check = (ok, message) => {
  if (!ok) problems.push(message);
  return ok;
};

async function limitPart(t) {
  const enforced = t.rate / 2;
  const sb = await startSandboxProcess();
  const dir = tempDir();
  try {
    await sb.control(`numbers/${t.number}`, { mps: t.rate, statuses: false, pair_limit: false });
    await warmUp(sb, dir.dir, t.number);
    await sb.control(`numbers/${t.number}`, { enforced_mps: enforced });
    const rows = Math.ceil(enforced * (SECONDS + 20) + t.rate * 45);
    const run = await startRun(sb, dir.dir, t, rows, `limit-${t.rate}`);
    const firstSecond = await until(
      sb,
      t.number,
      (ss) => ss.find((s) => s.throttled > 0)?.second ?? null,
      30_000,
    );
    if (!check(firstSecond !== null, `${t.rate}: no 130429 within 30 s`)) {
      await stop(run);
      return;
    }
    const firstMs = firstSecond * 1000;
    await sleep(Math.max(0, firstMs + SECONDS * 1000 - Date.now()));
    await sb.control(`numbers/${t.number}`, { enforced_mps: null });
    const liftAt = Date.now();
    // a second at ≥ 95 % of the advertised rate (or 30 s)
    await until(
      sb,
      t.number,
      (ss) => ss.some((s) => s.second > sec(liftAt) && s.accepted >= t.rate * 0.95),
      32_000,
    );
    await sleep(1100);
    const at = await seconds(sb, t.number);
    const end = await stop(run);
    let accepted = 0;
    let throttled = 0;
    let n = 0;
    for (let s = firstSecond + 15; s < sec(liftAt); s++) {
      accepted += at(s).accepted;
      throttled += at(s).throttled;
      n++;
    }
    const rate = accepted / n;
    const share = throttled / (accepted + throttled);
    let back = null;
    for (let s = sec(liftAt) + 1; s <= sec(liftAt) + 31 && back === null; s++)
      if (at(s).accepted >= t.rate * 0.95) back = (s + 1) * 1000 - liftAt;
    const firstAll = [];
    for (let s = firstSecond; s < firstSecond + 15; s++) firstAll.push(at(s).accepted);
    check(rate >= enforced * 0.9, `${t.rate}: ${fmt(rate, 2)} msg/s accepted, below 90 % of ${enforced}`);
    check(share <= 0.02, `${t.rate}: ${(share * 100).toFixed(2)} % of requests throttled, above 2 %`);
    check(
      back !== null && back <= 30_000,
      `${t.rate}: back at 95 % after ${back ?? '> 30000'} ms, not within 30 s`,
    );
    check(
      end.code === 130 || end.code === 0,
      `${t.rate}: the run exited ${end.code}: ${run.stderr().slice(-800)}`,
    );
    console.log(
      `limit ${fmt(t.rate)} msg/s advertised (${t.label}), ${fmt(enforced)} enforced, lifted after ${SECONDS} s:\n` +
        `  from first 130429 +15 s to the lift (${n} s): ${fmt(rate, 2)} msg/s accepted = ${((rate / enforced) * 100).toFixed(1)} % of the limit (target ≥ 90 %), ` +
        `throttled ${fmt(throttled)} of ${fmt(accepted + throttled)} requests = ${(share * 100).toFixed(2)} % (target ≤ 2 %)\n` +
        `  first 15 s after the first 130429, accepted/s: ${firstAll.join(' ')}\n` +
        `  after the lift: ≥ 95 % of ${fmt(t.rate)} msg/s within ${back === null ? '> 30' : fmt(back / 1000, 1)} s (target ≤ 30 s)`,
    );
    const progress = run
      .stderr()
      .trim()
      .split('\n')
      .filter((l) => l.includes('Throughput'));
    if (progress.length > 0) console.log(`  said: ${progress[0].slice(0, 200)}`);
  } finally {
    await sb.close();
    dir.cleanup();
  }
}

async function stormPart(t) {
  const sb = await startSandboxProcess();
  const dir = tempDir();
  try {
    await sb.control(`numbers/${t.number}`, { mps: t.rate, statuses: false, pair_limit: false });
    await warmUp(sb, dir.dir, t.number);
    const rows = Math.ceil(t.rate * 40);
    const run = await startRun(sb, dir.dir, t, rows, `storm-${t.rate}`);
    const steady = await until(sb, t.number, (ss) => ss.some((s) => s.accepted >= t.rate * 0.95), 30_000);
    if (!check(steady !== null, `${t.rate}: never reached 95 % of the target before the storm`)) {
      await stop(run);
      return;
    }
    await sleep(3000);
    await sb.control(`numbers/${t.number}`, { throttle_storm_ms: STORM_MS });
    const stormStart = Date.now();
    const stormEnd = stormStart + STORM_MS;
    await sleep(STORM_MS);
    await until(
      sb,
      t.number,
      (ss) => ss.some((s) => s.second > sec(stormEnd) && s.accepted >= t.rate * 0.95),
      12_000,
    );
    await sleep(1100);
    const at = await seconds(sb, t.number);
    const end = await stop(run);
    const during = [];
    for (let s = sec(stormStart + 2000) + 1; s < sec(stormEnd); s++)
      during.push(at(s).accepted + at(s).throttled);
    const first2 = [sec(stormStart), sec(stormStart) + 1, sec(stormStart) + 2].map(
      (s) => at(s).accepted + at(s).throttled,
    );
    let back = null;
    for (let s = sec(stormEnd) + 1; s <= sec(stormEnd) + 12 && back === null; s++)
      if (at(s).accepted >= t.rate * 0.95) back = (s + 1) * 1000 - stormEnd;
    const maxDuring = Math.max(...during);
    check(
      maxDuring <= t.rate * 0.1,
      `${t.rate}: ${maxDuring} attempts in a second of the storm, above 10 % of ${t.rate}`,
    );
    check(
      back !== null && back <= 10_000,
      `${t.rate}: back at 95 % after ${back ?? '> 12000'} ms, not within 10 s`,
    );
    check(
      end.code === 130 || end.code === 0,
      `${t.rate}: the run exited ${end.code}: ${run.stderr().slice(-800)}`,
    );
    console.log(
      `storm at ${fmt(t.rate)} msg/s (${t.label}), every send refused for ${STORM_MS / 1000} s:\n` +
        `  attempts/s in the first seconds: ${first2.join(' ')}; from +2 s: ${during.join(' ')} (max ${maxDuring}, target ≤ ${fmt(t.rate * 0.1, 1)})\n` +
        `  after the storm: ≥ 95 % of the target within ${back === null ? '> 12' : fmt(back / 1000, 1)} s (target ≤ 10 s)`,
    );
  } finally {
    await sb.close();
    dir.cleanup();
  }
}

for (const t of TARGETS.filter((x) => !only || only.includes(x.rate))) {
  if (parts.includes('limit')) await limitPart(t);
  if (parts.includes('storm')) await stormPart(t);
}
for (const p of problems) console.log(`MISS ${p}`);
console.log(
  problems.length === 0 ? 'throttle: all targets met' : `throttle: ${problems.length} target(s) missed`,
);
process.exitCode = problems.length === 0 ? 0 : 1;
