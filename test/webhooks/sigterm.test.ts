import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/lib/store/store.js';
import { tempHome } from '../helpers/cli.js';
import { APP_SECRET } from './fixtures.js';
import { loadUntilStopped } from './load-client.js';

const root = join(import.meta.dirname, '..', '..');

describe('wacx webhooks serve (built CLI, child process)', () => {
  let home: ReturnType<typeof tempHome>;
  beforeEach(() => {
    home = tempHome();
  });
  afterEach(() => home.cleanup());

  // `npm test` builds first; run `npm run build` before running this file alone.
  it('SIGTERM during load: in-flight requests finish, no acknowledged event is lost', async () => {
    const db = join(home.home, 'wacx.db');
    const child = spawn(
      process.execPath,
      [join(root, 'bin', 'wacx.js'), 'webhooks', 'serve', '--port', '0', '--json'],
      {
        env: { ...home.env, WACX_DB: db, WACX_APP_SECRET: APP_SECRET },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const lines: Record<string, unknown>[] = [];
    const rl = createInterface({ input: child.stdout });
    const url = await new Promise<string>((resolve, reject) => {
      rl.on('line', (l) => {
        const o = JSON.parse(l) as Record<string, unknown>;
        lines.push(o);
        if (o.type === 'listening') resolve(o.url as string);
      });
      child.once('exit', () => reject(new Error(`exited early: ${stderr}`)));
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const load = loadUntilStopped(url, 8, APP_SECRET);
    await load.acknowledged(21);
    child.kill('SIGTERM');
    const code = await exited;
    await load.done;
    expect(code).toBe(0);
    expect(load.acked.length).toBeGreaterThan(20);
    const store = Store.open(db, { readonly: true });
    const stored = new Set(
      (store.db.prepare('SELECT wamid FROM message_statuses').all() as { wamid: string }[]).map(
        (r) => r.wamid,
      ),
    );
    store.close();
    expect(load.acked.filter((w) => !stored.has(w))).toEqual([]);
    const stopped = lines.find((l) => l.type === 'stopped');
    expect(stopped).toBeDefined();
    // every event the server reported is in the database, and every acknowledged one was reported
    expect(stopped?.events).toBe(stored.size);
    expect(stderr).toContain('Stopping: finishing in-flight requests');
  });
});
