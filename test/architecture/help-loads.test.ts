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
 * rule"), from few files and no ES module: bin/wacx.js runs the CommonJS bundle under dist/bundle/
 * (scripts/build.mjs says why), whose modules.json says which sources each chunk holds. The built CLI runs as a
 * real process with a module trace; what each `--help` loads is checked here, in sources and in files. Timing
 * itself is measured by bench/startup.bench.mjs.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

interface Loaded {
  /** Our own files (dist/…, bin/…), relative to the package root. */
  ours: Set<string>;
  /** The sources (src/…) that the loaded chunks of the bundle hold. */
  sources: Set<string>;
  /** Packages, by name. */
  packages: Set<string>;
  /** Files of packages, relative to node_modules (e.g. commander/esm.mjs). */
  packageFiles: Set<string>;
  /** Node builtins imported or required (node:http…). */
  builtins: Set<string>;
  /** Our files loaded as ES modules, but the launcher (run through the ES module loader because of --import). */
  esm: Set<string>;
}

const home = tempHome();
afterAll(() => home.cleanup());

const BUNDLE = 'dist/bundle/';
/** Chunk file (under dist/bundle/) -> the sources it holds. */
const chunks: Record<string, string[]> = JSON.parse(
  readFileSync(join(root, BUNDLE, 'modules.json'), 'utf8'),
) as Record<string, string[]>;

/**
 * Most files of ours any `--help` or `--version` may load: the launcher, the entry, the kit chunk (the cli kit and
 * the leaves of lib it imports), the bundler's runtime; a verb's own chunk and at most one chunk of constants its
 * help shows. Unbundled, a verb's help loaded 27.
 */
const MAX_FILES = { entry: 4, verb: 6 };

async function loads(args: string[], env: NodeJS.ProcessEnv = home.env): Promise<Loaded> {
  const trace = join(home.home, `trace-${args.join('-')}.txt`);
  rmSync(trace, { force: true });
  await run(
    process.execPath,
    ['--import', join(root, 'test', 'helpers', 'load-trace.mjs'), join(root, 'bin', 'wacx.js'), ...args],
    { cwd: root, env: { ...env, LOAD_TRACE: trace } },
  );
  const loaded: Loaded = {
    ours: new Set(),
    sources: new Set(),
    packages: new Set(),
    packageFiles: new Set(),
    builtins: new Set(),
    esm: new Set(),
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
    } else {
      loaded.ours.add(path);
      if (line.startsWith('esm ') && path !== 'bin/wacx.js') loaded.esm.add(path);
      if (path.startsWith(BUNDLE))
        for (const source of chunks[path.slice(BUNDLE.length)] ?? []) loaded.sources.add(source);
    }
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

/** Constants a verb's help text shows (cheap modules with no imports of their own to speak of). */
const HELP_TEXT_MODULES: Record<string, string[]> = {
  eligibility: ['src/lib/eligibility/inputs.ts', 'src/lib/eligibility/policies.ts', 'src/lib/dates.ts'],
  doctor: ['src/lib/doctor/types.ts'],
  sandbox: ['src/sandbox/scenario-spec.ts', 'src/sandbox/seed.ts'],
};

function verbSource(path: readonly string[]): string {
  return `src/commands/${path.join('/')}.ts`;
}

/** Only the launcher and the bundle: no file of the unbundled build (dist/cli/…, dist/lib/…) is loaded. */
function outsideBundle(loaded: Loaded): string[] {
  return [...loaded.ours].filter((f) => f !== 'bin/wacx.js' && !f.startsWith(BUNDLE));
}

describe('what start-up loads', () => {
  it('`wacx --version` loads no package, not even commander, from the bundle, as CommonJS', async () => {
    const loaded = await loads(['--version']);
    expect([...loaded.packages]).toEqual([]);
    expect(loaded.sources.has('src/cli/main.ts')).toBe(true);
    expect(outsideBundle(loaded)).toEqual([]);
    expect([...loaded.esm]).toEqual([]);
    expect(loaded.ours.size).toBeLessThanOrEqual(MAX_FILES.entry);
  });

  let entry: Loaded;
  it('`wacx --help` loads commander (required: not its ESM wrapper), no verb, nothing that runs commands', async () => {
    entry = await loads(['--help']);
    expect([...entry.packages]).toEqual(['commander']);
    expect(entry.packageFiles.has('commander/index.js')).toBe(true);
    expect(entry.packageFiles.has('commander/esm.mjs')).toBe(false);
    expect([...entry.sources].filter((f) => f.startsWith('src/commands/'))).toEqual([]);
    expect([...entry.sources].filter((f) => f.startsWith('src/sandbox/'))).toEqual([]);
    expect([...entry.builtins].filter((b) => RUN_ONLY_BUILTINS.includes(b))).toEqual([]);
    expect(outsideBundle(entry)).toEqual([]);
    expect([...entry.esm]).toEqual([]);
    expect(entry.ours.size).toBeLessThanOrEqual(MAX_FILES.entry);
  });

  it.each(COMMANDS.filter((c) => !c.hidden).map((c) => [c.path.join(' '), c.path] as const))(
    '`wacx %s --help` loads its verb and the cli kit, not its domain, from few files',
    async (name, path) => {
      entry ??= await loads(['--help']);
      const loaded = await loads([...path, '--help']);
      // a noun's shared.ts (options and renderers its verbs share) belongs to the verb, and must be as cheap
      const nounShared = path.length > 1 ? [`src/commands/${path[0]}/shared.ts`] : [];
      const allowed = new Set([
        ...entry.sources,
        verbSource(path),
        ...nounShared,
        ...(HELP_TEXT_MODULES[name] ?? []),
      ]);
      expect(loaded.sources.has(verbSource(path))).toBe(true);
      expect([...loaded.sources].filter((f) => !allowed.has(f))).toEqual([]);
      expect([...loaded.packages]).toEqual(['commander']);
      expect(loaded.packageFiles.has('commander/esm.mjs')).toBe(false);
      expect([...loaded.builtins].filter((b) => RUN_ONLY_BUILTINS.includes(b))).toEqual([]);
      expect(outsideBundle(loaded)).toEqual([]);
      expect([...loaded.esm]).toEqual([]);
      expect(loaded.ours.size).toBeLessThanOrEqual(MAX_FILES.verb);
    },
  );
});

describe('what running a command loads of the profiles file', () => {
  // conf and its schema validator (ajv) cost ~50 ms of a start: only the commands that change a profile load them
  const profiles = tempHome();
  afterAll(() => profiles.cleanup());
  const env = { ...profiles.env, WACX_KEYCHAIN: '0' };

  it('`wacx config set` writes the file through conf; `wacx config list` reads it without loading conf', async () => {
    const set = await loads(['config', 'set', 'phoneNumberId', '123456'], env);
    expect(set.packages.has('conf')).toBe(true);
    const list = await loads(['config', 'list', '--json'], env);
    expect([...list.packages].filter((p) => p === 'conf' || p === 'ajv')).toEqual([]);
    const shown = await run(
      process.execPath,
      [join(root, 'bin', 'wacx.js'), 'config', 'get', 'phoneNumberId'],
      {
        cwd: root,
        env,
      },
    );
    expect(shown.stdout.trim()).toBe('123456');
  });
});
