import { spawnSync } from 'node:child_process';
const cases = {
  esm: ['--input-type=module', '-e', "0"],
  crypto: ['--input-type=module', '-e', "await import('node:crypto')"],
  os: ['--input-type=module', '-e', "await import('node:os')"],
  module: ['--input-type=module', '-e', "await import('node:module')"],
  errcodes: ['--input-type=module', '-e', "await import('./dist/lib/graph/error-codes.js')"],
  client: ['--input-type=module', '-e', "await import('./dist/lib/graph/client.js')"],
  profiles: ['--input-type=module', '-e', "await import('./dist/lib/config/profiles.js')"],
  chalkless_io: ['--input-type=module', '-e', "await import('./dist/lib/io/io.js')"],
};
const N = Number(process.argv[2] ?? 15);
const res = Object.fromEntries(Object.keys(cases).map(k => [k, []]));
for (let i = 0; i < N; i++) for (const [k, a] of Object.entries(cases)) { const t = process.hrtime.bigint(); spawnSync(process.execPath, a, { stdio: 'ignore' }); res[k].push(Number(process.hrtime.bigint() - t) / 1e6); }
for (const [k, v] of Object.entries(res)) { v.sort((a,b)=>a-b); console.log(k.padEnd(12), 'min', v[0].toFixed(1), 'med', v[Math.floor(v.length/2)].toFixed(1)); }
