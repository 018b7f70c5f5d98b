#!/usr/bin/env node
// The one build step (`npm run build`, `prepare`, and the test suite's global setup):
// 1. tsc compiles src/ to dist/, file for file. The worker threads run from there, and tests and benches import
//    modules from there.
// 2. rolldown bundles what bin/wacx.js runs into dist/bundle/: the entry and the cli kit (flag parsers,
//    defineCommand, registry, Deps and the leaves of lib they import) in one chunk, each verb in its own chunk, the
//    rest of the code in chunks loaded on first use, as the sources' dynamic imports say. Start-up is measured
//    (bench/startup.bench.mjs), and Node 20 keeps no compile cache: we measured `wacx <verb> --help` loading 27 of
//    our ES modules unbundled (about a millisecond each), 5 files bundled. esbuild was tried first: it makes one
//    chunk per set of importing entries (16 files for a verb's help) and cannot be told to keep the kit together;
//    rolldown can, and is already in the tree (vite uses it).
//    The bundle is CommonJS (.cjs, strict mode), as is the launcher: a run that loads no ES module never starts
//    Node's ES module loader, which cost 4 to 6 ms of CPU per run in our measurements. Packages stay external and
//    are required from node_modules as before; those the sources import dynamically are still imported.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RolldownMagicString, rolldown } from 'rolldown';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const out = join(root, 'dist', 'bundle');
const require = createRequire(import.meta.url);

execFileSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')],
  {
    cwd: root,
    stdio: 'inherit',
  },
);

/** The cli kit: every verb imports it, so it is loaded with the entry, in one file, with what it imports. */
const KIT = new Set(['cli/main.ts', 'cli/define.ts', 'cli/flags.ts'].map((f) => join(src, f)));

/**
 * A bundled module keeps the `import.meta.url` of its compiled twin under dist/ (every chunk sits in dist/bundle/,
 * one level below dist/; rolldown gives CommonJS chunks their own import.meta.url): the worker threads it starts
 * (src/lib/worker-file.ts), the package.json it reads and the packages it requires are found where the unbundled
 * module finds them.
 */
const twinUrl = {
  name: 'twin-import-meta-url',
  transform: {
    filter: { id: /\.ts$/, code: 'import.meta.url' },
    handler(code, id) {
      const twin = `../${relative(src, id).split(sep).join('/').replace(/\.ts$/, '.js')}`;
      return {
        code: new RolldownMagicString(code).replaceAll(
          'import.meta.url',
          `new URL(${JSON.stringify(twin)}, import.meta.url).href`,
        ),
      };
    },
  },
};

const bundle = await rolldown({
  input: { main: join(src, 'cli', 'main.ts') },
  platform: 'node',
  // packages and node: builtins; our own files are imported by relative paths
  external: (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0'),
  resolve: { extensionAlias: { '.js': ['.ts', '.js'] } },
  plugins: [twinUrl],
});
rmSync(out, { recursive: true, force: true });
const { output } = await bundle.write({
  dir: out,
  format: 'cjs',
  strict: true,
  sourcemap: true,
  entryFileNames: '[name].cjs',
  chunkFileNames: '[name]-[hash].cjs',
  codeSplitting: { groups: [{ name: 'kit', test: (id) => KIT.has(id) }] },
});
await bundle.close();

// Which sources each chunk holds: test/architecture/help-loads.test.ts checks what a run loads against it.
const modules = {};
for (const chunk of output) {
  if (chunk.type !== 'chunk') continue;
  modules[chunk.fileName] = chunk.moduleIds
    .filter((id) => id.startsWith(src))
    .map((id) => relative(root, id).split(sep).join('/'));
}
writeFileSync(join(out, 'modules.json'), `${JSON.stringify(modules, null, 2)}\n`);
