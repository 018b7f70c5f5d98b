/**
 * The README's demo (`node scripts/demo.mjs`) run as a user would, then every file and directory wacx created
 * under the temporary HOME listed with its mode: files 0600, directories 0700.
 *
 * The demo makes its own HOME with mkdtemp under the system temp directory and removes it at the end, so the test
 * points TMPDIR at its own directory and preloads (into the demo process only) a hook that lists that HOME just
 * before the demo removes it.
 */
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Entry {
  path: string;
  mode: number;
  dir: boolean;
}

const HOOK = `
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
const rmSync = fs.rmSync;
fs.rmSync = (path, options) => {
  const seen = [];
  const walk = (p) => {
    const st = fs.lstatSync(p);
    seen.push({ path: p, mode: st.mode & 0o777, dir: st.isDirectory() });
    if (st.isDirectory()) for (const name of fs.readdirSync(p)) walk(join(p, name));
  };
  try { walk(String(path)); } catch {}
  fs.appendFileSync(process.env.WACX_TEST_MODES, JSON.stringify(seen) + '\\n');
  return rmSync(path, options);
};
syncBuiltinESMExports();
`;

function listTree(root: string): Entry[] {
  const out: Entry[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p);
    out.push({ path: p, mode: st.mode & 0o777, dir: st.isDirectory() });
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  for (const name of readdirSync(root)) walk(join(root, name));
  return out;
}

describe('the demo leaves no file readable by others', () => {
  const work = mkdtempSync(join(tmpdir(), 'wacx-modes-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('every file the demo made under its HOME is 0600, every directory 0700', {
    timeout: 180_000,
  }, async () => {
    const tmp = join(work, 'tmp');
    const home = join(work, 'home');
    for (const d of [tmp, home]) rmSync(d, { recursive: true, force: true });
    mkdirSync(tmp);
    mkdirSync(home, { mode: 0o700 });
    const hook = join(work, 'list-before-remove.mjs');
    const modes = join(work, 'modes.ndjson');
    writeFileSync(hook, HOOK);
    writeFileSync(modes, '');

    const child = spawn(process.execPath, ['--import', hook, join(ROOT, 'scripts', 'demo.mjs')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: home,
        XDG_CONFIG_HOME: join(home, '.config'),
        TMPDIR: tmp,
        CI: 'true',
        NO_COLOR: '1',
        WACX_TEST_MODES: modes,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => {
      output += d;
    });
    child.stderr.on('data', (d) => {
      output += d;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, output).toBe(0);

    const removed = readFileSync(modes, 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((line) => JSON.parse(line) as Entry[]);
    const entries = [...removed, ...listTree(tmp), ...listTree(home)];
    const demoHome = removed[0]?.path;
    expect(demoHome, 'the demo removed its HOME').toMatch(/wacx-demo-/);
    const files = entries.filter((e) => !e.dir).map((e) => relative(work, e.path));
    // the profile's config and database were among them
    expect(files.some((f) => f.endsWith('config.json'))).toBe(true);
    expect(files.some((f) => f.endsWith('.db'))).toBe(true);

    const wrong = entries
      .filter((e) => e.mode !== (e.dir ? 0o700 : 0o600))
      .map((e) => `${relative(work, e.path)} ${e.mode.toString(8)}`);
    expect(wrong).toEqual([]);
  });
});
