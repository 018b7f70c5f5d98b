// Rate accuracy of `wacx send` against the sandbox: at 20, 80 and 1,000 msg/s for 60 s each, the mean achieved
// rate is within ±1 % of the target, no sliding one-second window holds more than the target + 1 %, and the
// sandbox answers no 130429 (throughput exceeded) at all. Measured from the sandbox's own record of accepted
// messages (its timestamps, not the sender's). `BENCH_SECONDS` shortens the runs (default 60); `BENCH_RATES`
// picks targets ("1000").
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
const TARGETS = [
  { rate: 20, number: SEED.phoneNumbers.coex.id, mps: 20, label: 'coexistence number (20 msg/s)' },
  { rate: 80, number: SEED.phoneNumbers.cloud.id, mps: 80, label: 'STANDARD number (80 msg/s)' },
  {
    rate: 1000,
    number: SEED.phoneNumbers.cloud.id,
    mps: 1000,
    label: 'number raised to 1,000 msg/s',
    force: true,
  },
];

const only = process.env.BENCH_RATES?.split(',').map(Number);
let failed = 0;
const results = [];
for (const t of TARGETS.filter((x) => !only || only.includes(x.rate))) {
  const sb = await startSandboxProcess();
  const dir = tempDir();
  try {
    await sb.control(`numbers/${t.number}`, { mps: t.mps, statuses: false });
    await warmUp(sb, dir.dir, t.number);
    const rows = t.rate * SECONDS;
    const csv = await writeCsv(`${dir.dir}/rate-${t.rate}.csv`, rows);
    const args = orderSendArgs(csv);
    args.push('--rate', String(t.rate), '--phone-number-id', t.number, '--json');
    if (t.force) args.push('--force');
    const r = await runWacx(args, cliEnv(sb.url, dir.dir), { timeoutMs: (SECONDS + 120) * 1000 });
    const summary = summaryOf(r.stdout);
    const msgs = await sb.control(`messages?phone_number_id=${t.number}`);
    const counts = await sb.control(`send-counts?phone_number_id=${t.number}`);
    const times = msgs.map((m) => m.at).sort((a, b) => a - b);
    const mean = ((times.length - 1) * 1000) / (times.at(-1) - times[0]);
    const { max: window, at: windowAt } = maxSlidingWindow(times);
    const throttled = counts.seconds.reduce((n, s) => n + s.throttled, 0);
    const meanOk = Math.abs(mean - t.rate) / t.rate <= 0.01;
    const windowOk = window <= t.rate * 1.01;
    const ok = r.code === 0 && times.length === rows && meanOk && windowOk && throttled === 0;
    if (!ok) failed++;
    results.push({ t, mean, window, throttled, sent: times.length, rows, code: r.code, summary, ok });
    console.log(
      `${ok ? 'ok  ' : 'MISS'} target ${fmt(t.rate)} msg/s (${t.label}), ${fmt(rows)} messages: mean ${fmt(mean, 2)} msg/s ` +
        `(${(((mean - t.rate) / t.rate) * 100).toFixed(2)} %), max in any 1 s window ${window} (limit ${fmt(t.rate * 1.01, 1)}, ` +
        `first at +${fmt(windowAt / 1000, 3)} s), ` +
        `130429 answers ${throttled}, exit ${r.code}, commits ${summary?.commits ?? '?'}`,
    );
    if (r.code !== 0) console.log(r.stderr.slice(-2000));
  } finally {
    await sb.close();
    dir.cleanup();
  }
}
console.log(failed === 0 ? 'rate: all targets met' : `rate: ${failed} target(s) missed`);
process.exitCode = failed === 0 ? 0 : 1;
