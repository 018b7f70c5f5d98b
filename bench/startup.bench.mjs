#!/usr/bin/env node
// Start-up time: median wall time of `wacx --help` and `wacx --version` (the built CLI through bin/wacx.js,
// as a user runs it) against bare `node -e 0` on the same machine, runs interleaved so that load changes hit
// all three alike. Targets: `wacx --help` median < 150 ms and < 3x bare node.
// Usage: node bench/startup.bench.mjs [runs]   (npm run bench builds dist/ first)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'wacx.js');
if (!existsSync(join(root, 'dist', 'cli.js'))) {
  process.stderr.write('dist/ is missing: run `npm run build` first.\n');
  process.exit(1);
}

const RUNS = Number(process.argv[2] ?? 20);
const WARMUP = 3;
const TARGET_MS = 150;
const TARGET_RATIO = 3;

// A throw-away HOME: --help must not need (or touch) any configuration anyway. Piped, like in a script.
const home = mkdtempSync(join(tmpdir(), 'wacx-bench-'));
const env = {
  PATH: process.env.PATH,
  HOME: home,
  XDG_CONFIG_HOME: join(home, '.config'),
  WACX_KEYCHAIN: '0',
};

const cases = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'wacx --help', args: [bin, '--help'] },
  { name: 'wacx --version', args: [bin, '--version'] },
];

function once(args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

try {
  for (let i = 0; i < WARMUP; i++) for (const c of cases) once(c.args);
  const times = new Map(cases.map((c) => [c.name, []]));
  for (let i = 0; i < RUNS; i++) for (const c of cases) times.get(c.name).push(once(c.args));

  const node = median(times.get('node -e 0'));
  const help = median(times.get('wacx --help'));
  const version = median(times.get('wacx --version'));
  const rows = [
    ['node -e 0', node, 1],
    ['wacx --help', help, help / node],
    ['wacx --version', version, version / node],
  ];
  const cores = typeof availableParallelism === 'function' ? availableParallelism() : cpus().length;
  const load = loadavg()[0];
  process.stdout.write(
    `start-up, median of ${RUNS} runs (Node ${process.versions.node}, ${process.platform}, ${cores} cores, load ${load.toFixed(1)})\n`,
  );
  if (load > cores) {
    process.stdout.write(
      `  note: the machine is busy (load ${load.toFixed(1)} > ${cores} cores): figures are inflated\n`,
    );
  }
  for (const [name, ms, ratio] of rows) {
    const min = Math.min(...times.get(name));
    process.stdout.write(
      `  ${name.padEnd(16)} ${ms.toFixed(1).padStart(7)} ms  (min ${min.toFixed(1)} ms)  ${ratio.toFixed(2)}x node\n`,
    );
  }
  const ratio = help / node;
  const ok = help < TARGET_MS && ratio < TARGET_RATIO;
  process.stdout.write(
    `target: wacx --help < ${TARGET_MS} ms and < ${TARGET_RATIO}x node -> ${help.toFixed(1)} ms, ${ratio.toFixed(2)}x: ${ok ? 'met' : 'MISSED'}\n`,
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(home, { recursive: true, force: true });
}
