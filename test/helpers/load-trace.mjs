// Records which modules a Node process loads: `node --import <this file> bin/wacx.js …` with LOAD_TRACE=<file>.
// ES modules (ours, and node: builtins imported from ESM) are seen by a resolve hook, which runs in the loader's
// own thread; CommonJS files (ours when bundled, commander and other packages) are listed from the require cache at
// exit, and the builtins CommonJS code requires are seen as it requires them.
import { appendFileSync } from 'node:fs';
import Module, { createRequire, isBuiltin, register } from 'node:module';

const out = process.env.LOAD_TRACE;

if (out) {
  // The hook is a module of its own: it runs in the loader's thread.
  const hook = `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(${JSON.stringify(out)}, \`esm \${resolved.url}\\n\`);
  return resolved;
}`;
  register(`data:text/javascript,${encodeURIComponent(hook)}`);
  const required = new Set();
  const moduleRequire = Module.prototype.require;
  Module.prototype.require = function require(id) {
    if (isBuiltin(id)) required.add(id.startsWith('node:') ? id : `node:${id}`);
    return moduleRequire.call(this, id);
  };
  process.on('exit', () => {
    const files = Object.keys(createRequire(import.meta.url).cache).map((f) => `cjs ${f}\n`);
    appendFileSync(out, [...files, ...[...required].map((b) => `cjs ${b}\n`)].join(''));
  });
}
