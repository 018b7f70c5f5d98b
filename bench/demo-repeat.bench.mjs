#!/usr/bin/env node
// The demo never flakes: runs the README's demo (`npm run demo`, i.e. scripts/demo.mjs on the built CLI)
// BENCH_RUNS times (default 30), one after the other, and counts the runs that failed. Target: 0 failures.
// Usage: node bench/demo-repeat.bench.mjs [runs]   (npm run bench builds dist/ first)
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  process.stderr.write('dist/ is missing: run `npm run build` first.\n');
  process.exit(1);
}
const RUNS = Number(process.argv[2] ?? process.env.BENCH_RUNS ?? 30);
if (!Number.isInteger(RUNS) || RUNS < 1) {
  process.stderr.write(
    `runs must be a positive integer, not "${process.argv[2] ?? process.env.BENCH_RUNS}"\n`,
  );
  process.exit(2);
}

/** One demo run, piped like in CI; resolves with its exit code, duration and the tail of its output. */
function demo() {
  const start = process.hrtime.bigint();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'scripts', 'demo.mjs')], {
      cwd: root,
      env: { ...process.env, CI: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code, signal) =>
      resolve({
        code: code ?? (signal ? 128 : 1),
        ms: Number(process.hrtime.bigint() - start) / 1e6,
        tail: out.split('\n').slice(-15).join('\n'),
      }),
    );
  });
}

const failures = [];
const times = [];
for (let i = 1; i <= RUNS; i++) {
  const r = await demo();
  times.push(r.ms);
  process.stdout.write(
    `run ${String(i).padStart(2)}/${RUNS}: ${r.code === 0 ? 'ok' : `FAILED (exit ${r.code})`} in ${(r.ms / 1000).toFixed(1)} s\n`,
  );
  if (r.code !== 0) {
    failures.push(i);
    process.stdout.write(`${r.tail.replace(/^/gm, '    ')}\n`);
  }
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
process.stdout.write(
  `\ndemo runs: ${RUNS}, failures: ${failures.length}${failures.length ? ` (runs ${failures.join(', ')})` : ''}; median ${(median / 1000).toFixed(1)} s\n`,
);
process.stdout.write(`target: 0 failures — ${failures.length === 0 ? 'met' : 'MISSED'}\n`);
process.exitCode = failures.length === 0 ? 0 : 1;
