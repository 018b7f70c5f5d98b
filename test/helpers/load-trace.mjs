// Records which modules a Node process loads: `node --import <this file> bin/wacx.js …` with LOAD_TRACE=<file>.
// ES modules (ours, and node: builtins imported from ESM) are seen by a resolve hook, which runs in the loader's
// own thread; CommonJS files (commander and other packages) are listed from the require cache at exit.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

const out = process.env.LOAD_TRACE;

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (out) appendFileSync(out, `esm ${resolved.url}\n`);
  return resolved;
}

if (isMainThread && out) {
  register(import.meta.url);
  const require = createRequire(import.meta.url);
  process.on('exit', () => {
    const files = Object.keys(require.cache);
    if (files.length > 0) appendFileSync(out, files.map((f) => `cjs ${f}\n`).join(''));
  });
}
