import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Several wacx processes opening one new profile database at the same moment: the migrations run in one
 * immediate transaction that re-reads the applied list, so each process either applies them or finds them
 * applied, never "table … already exists".
 */

const dir = mkdtempSync(join(tmpdir(), 'wacx-concurrency-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const storeModule = pathToFileURL(resolve('dist/lib/store/store.js')).href;
// Waits for a shared start time, then opens (creates and migrates) the database and reports what it applied.
const SCRIPT = `
const [path, startAt] = process.argv.slice(1);
const { Store } = await import(${JSON.stringify(storeModule)});
await new Promise((r) => setTimeout(r, Math.max(0, Number(startAt) - Date.now())));
try {
  const store = Store.open(path);
  const n = store.db.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get().n;
  store.close();
  process.stdout.write(JSON.stringify({ ok: true, n }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(e && e.message) }));
  process.exitCode = 1;
}
`;

function openIn(path: string, startAt: number): Promise<{ ok: boolean; n?: number; error?: string }> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', SCRIPT, path, String(startAt)],
      { timeout: 20_000 },
      (error, stdout, stderr) => {
        try {
          done(JSON.parse(stdout));
        } catch {
          done({ ok: false, error: `${error?.message ?? ''} ${stderr}` });
        }
      },
    );
  });
}

describe('opening one new database from several processes at once', () => {
  it('4 processes, 20 times: every one opens it, the migrations are applied once', async () => {
    const failures: string[] = [];
    for (let round = 0; round < 20; round++) {
      const path = join(dir, `db${round}.sqlite`);
      // start together, after every process has loaded the module
      const startAt = Date.now() + 400;
      const results = await Promise.all([0, 1, 2, 3].map(() => openIn(path, startAt)));
      const counts = new Set(results.map((r) => r.n));
      for (const r of results) if (!r.ok) failures.push(`round ${round}: ${r.error}`);
      if (failures.length === 0) expect(counts.size).toBe(1);
    }
    expect(failures).toEqual([]);
  }, 60_000);
});
