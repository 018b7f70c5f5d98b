#!/usr/bin/env node
// Bytes allocated per message by `wacx send` on its main thread (a sampling heap profile that counts collected
// objects too), and the functions that allocate most. Not a benchmark with a target (not run by `npm run bench`):
// a profile, to compare before and after a change. Load-independent, unlike throughput.
// `BENCH_ROWS` (default 30,000), `BENCH_RATE` (default 1,000,000: pacing off), `BENCH_NODE_ARGS` (e.g.
// --no-turbo-inlining, so that each function's own allocations are not counted in the one it was inlined into).
// Usage: npm run build && node bench/send-alloc.mjs
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  cliEnv,
  fmt,
  orderSendArgs,
  ROOT,
  runWacx,
  SEED,
  startSandboxProcess,
  tempDir,
  writeCsv,
} from './send-common.mjs';

const ROWS = Number(process.env.BENCH_ROWS ?? 30_000);
const RATE = process.env.BENCH_RATE ?? '1000000';
const sb = await startSandboxProcess();
const dir = tempDir();
try {
  const pn = SEED.phoneNumbers.coex.id;
  await sb.control(`numbers/${pn}`, { mps: 1e9, pair_limit: false, statuses: false });
  const csv = await writeCsv(join(dir.dir, 'alloc.csv'), ROWS);
  const profile = join(dir.dir, 'alloc.json');
  const args = [...orderSendArgs(csv), '--rate', RATE, '--force', '--phone-number-id', pn];
  const r = await runWacx(args, cliEnv(sb.url, dir.dir, { ALLOC_PROFILE: profile }), {
    nodeArgs: [
      '--import',
      join(ROOT, 'bench', 'alloc-sampler.mjs'),
      ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
    ],
  });
  if (r.code !== 0) throw new Error(`wacx send exited ${r.code}: ${r.stderr.slice(-2000)}`);
  const self = new Map();
  const byFile = new Map();
  let total = 0;
  const walk = (node) => {
    const f = node.callFrame;
    const where = f.url.replace(/^.*\/(node_modules|dist)\//, '$1/');
    const key = `${f.functionName || '(anonymous)'} ${where}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + node.selfSize);
    const file = where.replace(/^(node_modules\/[^/]+|node:internal\/[^/]+|node:[^/:]+).*$/, '$1');
    byFile.set(file, (byFile.get(file) ?? 0) + node.selfSize);
    total += node.selfSize;
    for (const c of node.children) walk(c);
  };
  walk(JSON.parse(readFileSync(profile, 'utf8')).head);
  console.log(
    `wacx send, ${fmt(ROWS)} rows, ${RATE === '1000000' ? 'pacing off' : `${RATE} msg/s`} (load ${loadavg()[0].toFixed(1)}): ` +
      `${fmt(total / ROWS / 1024, 1)} KB allocated per message on the main thread (start-up included)`,
  );
  console.log('by file (undici and node:internal streams grouped):');
  for (const [file, bytes] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 15))
    console.log(`${fmt(bytes / ROWS).padStart(8)} B/msg  ${file || '(native)'}`);
  console.log('by function:');
  for (const [key, bytes] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25))
    console.log(`${fmt(bytes / ROWS).padStart(8)} B/msg  ${key}`);
} finally {
  await sb.close();
  dir.cleanup();
}
