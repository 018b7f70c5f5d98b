// Rate accuracy of `wacx send` against the sandbox: at 20, 80 and 1,000 msg/s for 60 s each, the mean achieved
// rate is within ±1 % of the target, no sliding one-second window holds more than the target + 1 %, and the
// sandbox answers no 130429 (throughput exceeded) at all. Measured from the sandbox's own record of accepted
// messages (its timestamps, not the sender's). `BENCH_SECONDS` shortens the runs (default 60); `BENCH_RATES`
// picks targets ("1000").
import { pacedRun, SEED } from './send-common.mjs';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const TARGETS = [
  { rate: 20, number: SEED.phoneNumbers.coex.id, label: 'coexistence number (20 msg/s)' },
  { rate: 80, number: SEED.phoneNumbers.cloud.id, label: 'STANDARD number (80 msg/s)' },
  { rate: 1000, number: SEED.phoneNumbers.cloud.id, label: 'number raised to 1,000 msg/s', force: true },
];

const only = process.env.BENCH_RATES?.split(',').map(Number);
let failed = 0;
for (const t of TARGETS.filter((x) => !only || only.includes(x.rate))) {
  if (!(await pacedRun({ ...t, seconds: SECONDS }))) failed++;
}
console.log(failed === 0 ? 'rate: all targets met' : `rate: ${failed} target(s) missed`);
process.exitCode = failed === 0 ? 0 : 1;
