import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/registry.js';
import { tempHome } from '../helpers/cli.js';

/**
 * Start-up stays low because describing a command loads only what describes it (the README's "lazy loading
 * rule"). The built CLI runs as a real process with a module trace; what each `--help` loads is checked here.
 * Timing itself is measured by bench/startup.bench.mjs.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

interface Loaded {
  /** Our own files (dist/…, bin/…), relative to the package root. */
  ours: Set<string>;
  /** Packages, by name. */
  packages: Set<string>;
  /** Files of packages, relative to node_modules (e.g. commander/esm.mjs). */
  packageFiles: Set<string>;
  /** Node builtins imported by ES modules (node:http…). */
  builtins: Set<string>;
}

const home = tempHome();
afterAll(() => home.cleanup());

async function loads(args: string[]): Promise<Loaded> {
  const trace = join(home.home, `trace-${args.join('-')}.txt`);
  rmSync(trace, { force: true });
  await run(
    process.execPath,
    ['--import', join(root, 'test', 'helpers', 'load-trace.mjs'), join(root, 'bin', 'wacx.js'), ...args],
    { cwd: root, env: { ...home.env, LOAD_TRACE: trace } },
  );
  const loaded: Loaded = {
    ours: new Set(),
    packages: new Set(),
    packageFiles: new Set(),
    builtins: new Set(),
  };
  for (const line of readFileSync(trace, 'utf8').split('\n')) {
    if (!line) continue;
    const where = line.slice(4);
    if (where.startsWith('node:')) {
      loaded.builtins.add(where);
      continue;
    }
    const path = relative(root, where.startsWith('file:') ? fileURLToPath(where) : where)
      .split(sep)
      .join('/');
    const inPackage = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
    if (inPackage) {
      loaded.packages.add(inPackage[1]!);
      loaded.packageFiles.add(path.slice('node_modules/'.length));
    } else loaded.ours.add(path);
  }
  return loaded;
}

/** Builtins that only running a command needs (servers, clients, signing, threads, compression, prompts). */
const RUN_ONLY_BUILTINS = [
  'node:http',
  'node:https',
  'node:http2',
  'node:crypto',
  'node:tls',
  'node:dns',
  'node:zlib',
  'node:worker_threads',
  'node:v8',
  'node:readline',
];

/** What any verb's flags may need besides the entry: the cli kit and the leaves of lib it imports. */
const KIT = new Set([
  'dist/cli/define.js',
  'dist/cli/flags.js',
  'dist/lib/config/settings.js',
  'dist/lib/country.js',
  'dist/lib/graph/url.js',
  'dist/lib/graph/versions.js',
  'dist/lib/io/format.js',
  'dist/lib/lazy.js',
]);

/** Constants a verb's help text shows (cheap modules with no imports of their own to speak of). */
const HELP_TEXT_MODULES: Record<string, string[]> = {
  eligibility: ['dist/lib/eligibility/inputs.js', 'dist/lib/eligibility/policies.js', 'dist/lib/dates.js'],
  doctor: ['dist/lib/doctor/types.js'],
  sandbox: ['dist/sandbox/scenario-spec.js', 'dist/sandbox/seed.js'],
};

function verbFile(path: readonly string[]): string {
  return `dist/commands/${path.join('/')}.js`;
}

describe('what start-up loads', () => {
  it('`wacx --version` loads no package, not even commander', async () => {
    const loaded = await loads(['--version']);
    expect([...loaded.packages]).toEqual([]);
    expect(loaded.ours.has('dist/cli/main.js')).toBe(true);
  });

  let entry: Loaded;
  it('`wacx --help` loads commander (required: not its ESM wrapper), no verb, nothing that runs commands', async () => {
    entry = await loads(['--help']);
    expect([...entry.packages]).toEqual(['commander']);
    expect(entry.packageFiles.has('commander/index.js')).toBe(true);
    expect(entry.packageFiles.has('commander/esm.mjs')).toBe(false);
    expect([...entry.ours].filter((f) => f.startsWith('dist/commands/'))).toEqual([]);
    expect([...entry.builtins].filter((b) => RUN_ONLY_BUILTINS.includes(b))).toEqual([]);
  });

  it.each(COMMANDS.map((c) => [c.path.join(' '), c.path] as const))(
    '`wacx %s --help` loads its verb and the cli kit, not its domain',
    async (name, path) => {
      entry ??= await loads(['--help']);
      const loaded = await loads([...path, '--help']);
      // a noun's shared.ts (options and renderers its verbs share) belongs to the verb, and must be as cheap
      const nounShared = path.length > 1 ? [`dist/commands/${path[0]}/shared.js`] : [];
      const allowed = new Set([
        ...entry.ours,
        ...KIT,
        verbFile(path),
        ...nounShared,
        ...(HELP_TEXT_MODULES[name] ?? []),
      ]);
      expect(loaded.ours.has(verbFile(path))).toBe(true);
      expect([...loaded.ours].filter((f) => !allowed.has(f))).toEqual([]);
      expect([...loaded.packages]).toEqual(['commander']);
      expect(loaded.packageFiles.has('commander/esm.mjs')).toBe(false);
      expect([...loaded.builtins].filter((b) => RUN_ONLY_BUILTINS.includes(b))).toEqual([]);
    },
  );
});
