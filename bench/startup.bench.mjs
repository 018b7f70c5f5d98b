#!/usr/bin/env node
// Start-up time: median wall time of `wacx --help`, `wacx --version` and the `--help` of every verb (each command
// of the registry, and `completion`) (the built CLI through bin/wacx.js, as a user runs it) against bare
// `node -e 0` on the same machine, runs interleaved so that load changes hit all alike. Target: each within 40 ms
// of bare node (median against median).
// Usage: node bench/startup.bench.mjs [runs]   (npm run bench builds dist/ first)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'bin', 'wacx.js');
if (
  !existsSync(join(root, 'dist', 'bundle', 'main.cjs')) ||
  !existsSync(join(root, 'dist', 'cli', 'registry.js'))
) {
  process.stderr.write('dist/ is missing: run `npm run build` first.\n');
  process.exit(1);
}

const RUNS = Number(process.argv[2] ?? 10);
const WARMUP = 2;
const TARGET_OVER_NODE_MS = 40;

// A throw-away HOME: --help must not need (or touch) any configuration anyway. Piped, like in a script.
const home = mkdtempSync(join(tmpdir(), 'wacx-bench-'));
const env = {
  PATH: process.env.PATH,
  HOME: home,
  XDG_CONFIG_HOME: join(home, '.config'),
  WACX_KEYCHAIN: '0',
};

const { COMMANDS } = await import(join(root, 'dist', 'cli', 'registry.js'));
const cases = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'wacx --help', args: [bin, '--help'] },
  { name: 'wacx --version', args: [bin, '--version'] },
  ...[...COMMANDS.map((c) => c.path), ['completion']].map((path) => ({
    name: `wacx ${path.join(' ')} --help`,
    args: [bin, ...path, '--help'],
  })),
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
  let worst = { name: '', over: -Infinity };
  for (const c of cases) {
    const ms = median(times.get(c.name));
    const over = ms - node;
    if (c.name !== 'node -e 0' && over > worst.over) worst = { name: c.name, over };
    process.stdout.write(
      `  ${c.name.padEnd(34)} ${ms.toFixed(1).padStart(7)} ms  ${c.name === 'node -e 0' ? '' : `${over >= 0 ? '+' : ''}${over.toFixed(1)} ms over node`}\n`,
    );
  }
  const ok = worst.over <= TARGET_OVER_NODE_MS;
  process.stdout.write(
    `target: every case within ${TARGET_OVER_NODE_MS} ms of node -e 0 -> slowest ${worst.name} +${worst.over.toFixed(1)} ms: ${ok ? 'met' : 'MISSED'}\n`,
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  rmSync(home, { recursive: true, force: true });
}
