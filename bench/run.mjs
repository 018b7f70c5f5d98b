#!/usr/bin/env node
// Runs every bench/*.bench.mjs (or those whose name contains the first argument), one after the other.
// Each benchmark prints its figures and exits non-zero when it misses its target.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2] ?? '';
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.mjs') && f.includes(filter))
  .sort();
let failed = 0;
for (const f of files) {
  process.stdout.write(`\n=== ${f} ===\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, f)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.stdout.write(`\n${files.length - failed} benchmarks met their targets, ${failed} missed.\n`);
process.exitCode = failed ? 1 : 0;
