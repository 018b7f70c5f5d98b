import { spawnSync } from 'node:child_process';
const cases = {
  node: ['-e', '0'],
  esm: ['--input-type=module', '-e', '0'],
  commander: ['--input-type=module', '-e', "await import('commander')"],
  io: ['--input-type=module', '-e', "await import('./dist/lib/io/io.js')"],
  config: ['--input-type=module', '-e', "await import('./dist/lib/config/index.js')"],
  deps: ['--input-type=module', '-e', "await import('./dist/lib/deps.js')"],
  cli: ['--input-type=module', '-e', "await import('./dist/cli.js')"],
  help: ['bin/wacx.js', '--help'],
  version: ['bin/wacx.js', '--version'],
};
const N = Number(process.argv[2] ?? 15);
const res = Object.fromEntries(Object.keys(cases).map(k => [k, []]));
for (let i = 0; i < N; i++) for (const [k, a] of Object.entries(cases)) { const t = process.hrtime.bigint(); spawnSync(process.execPath, a, { stdio: 'ignore' }); res[k].push(Number(process.hrtime.bigint() - t) / 1e6); }
for (const [k, v] of Object.entries(res)) { v.sort((a,b)=>a-b); console.log(k.padEnd(10), 'min', v[0].toFixed(1), 'p25', v[Math.floor(v.length/4)].toFixed(1)); }
