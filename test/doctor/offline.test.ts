import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/lib/store/store.js';
import { storeEnv } from '../helpers/backends.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { freshPostgresUrl } from '../helpers/postgres.js';
import { PN, seedHealthy, WABA } from './fixtures.js';

interface JsonCheck {
  id: string;
  group: string;
  status: string;
  title: string;
  detail: string;
  fix: string | null;
}

/** A loopback port with nothing listening (connections are refused). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('wacx doctor without the API', () => {
  const home = tempHome();
  afterAll(() => home.cleanup());

  it('offline (Graph URL on a closed port): runs the local checks, lists the skipped ones and why, exits 1', async () => {
    const port = await closedPort();
    const db = join(home.home, 'offline.db');
    const store = Store.open(db);
    seedHealthy(store.db, Date.now());
    store.close();
    const env = {
      ...home.env,
      WACX_GRAPH_URL: `http://127.0.0.1:${port}`,
      WACX_TOKEN: 'EAAOFFLINETOKEN00000000000000000000000001',
      WACX_APP_ID: '1000000000000001',
      WACX_APP_SECRET: 'offline-app-secret-000000000000',
      WACX_WABA_ID: WABA,
      WACX_PHONE_NUMBER_ID: PN,
      WACX_DB: db,
    };
    const started = Date.now();
    const json = await runCli(['doctor', '--json'], { env });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(json.code).toBe(1);
    const checks = JSON.parse(json.stdout) as JsonCheck[];
    const by = new Map(checks.map((c) => [c.id, c]));
    expect(by.get('setup.api')).toMatchObject({ status: 'fail' });
    expect(by.get('setup.api')!.detail).toMatch(/^API unreachable: .*ECONNREFUSED/);
    for (const id of [
      'setup.secrets',
      'number.api_version',
      'sync.webhooks',
      'sync.echo_age',
      'sync.account_update',
      'sync.history',
    ]) {
      expect(by.get(id)!.status, `${id}: ${by.get(id)!.detail}`).toBe('pass');
    }
    for (const id of [
      'token.valid',
      'waba.subscribed',
      'waba.webhook_fields',
      'number.coexistence',
      'templates.counts',
    ]) {
      expect(by.get(id)!.status, id).toBe('skip');
      expect(by.get(id)!.detail, id).toMatch(/^API unreachable: /);
    }
    // The secrets never show.
    expect(json.stdout + json.stderr).not.toContain('EAAOFFLINETOKEN00000000000000000000000001');
    expect(json.stdout + json.stderr).not.toContain('offline-app-secret-000000000000');

    const text = await runCli(['doctor'], { env });
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/^Skipped$/m);
    expect(text.stdout).toMatch(
      /^ {2}- token\.valid, token\.expiry, .*templates\.rejected: API unreachable: /m,
    );
    expect(text.stdout).toMatch(/ {2}✗ Graph API reachable: API unreachable/);
    expect(text.stdout).toMatch(/ {6}→ Check the network and the Graph URL/);
  });

  it('the store checks read a PostgreSQL store as they read SQLite (WACX_DATABASE_URL)', async () => {
    const now = Date.now();
    const locations = [
      { backend: 'sqlite' as const, path: join(home.home, 'both.db') },
      { backend: 'postgres' as const, url: freshPostgresUrl() },
    ];
    const results = [];
    for (const location of locations) {
      const store = Store.open(location);
      seedHealthy(store.db, now);
      store.close();
      const env = {
        ...home.env,
        WACX_TOKEN: 'EAAOFFLINETOKEN00000000000000000000000001',
        WACX_APP_SECRET: 'offline-app-secret-000000000000',
        WACX_WABA_ID: WABA,
        WACX_PHONE_NUMBER_ID: PN,
        ...storeEnv(location),
      };
      const r = await runCli(['doctor', '--offline', '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      results.push(
        (JSON.parse(r.stdout) as JsonCheck[])
          .filter((c) => c.id.startsWith('sync.') || c.id.startsWith('consent'))
          .map((c) => ({ id: c.id, status: c.status, detail: c.detail.replace(/\d+ (s|min|h)\b/g, 'T') })),
      );
    }
    expect(results[0]!.length).toBeGreaterThan(3);
    expect(results[0]!.filter((c) => c.status === 'pass').length).toBeGreaterThan(3);
    expect(results[1]).toEqual(results[0]);
  });

  it('--offline contacts nothing and passes when the local checks pass', async () => {
    const port = await closedPort();
    const env = {
      ...home.env,
      WACX_GRAPH_URL: `http://127.0.0.1:${port}`,
      WACX_TOKEN: 'EAAOFFLINETOKEN00000000000000000000000001',
      WACX_APP_SECRET: 'offline-app-secret-000000000000',
      WACX_WABA_ID: WABA,
      WACX_PHONE_NUMBER_ID: PN,
      WACX_DB: join(home.home, 'offline.db'),
    };
    const r = await runCli(['doctor', '--offline', '--json'], { env });
    const checks = JSON.parse(r.stdout) as JsonCheck[];
    const failing = checks.filter((c) => c.status === 'fail');
    expect(failing).toEqual([]);
    expect(r.code).toBe(0);
    expect(checks.find((c) => c.id === 'setup.api')).toMatchObject({
      status: 'skip',
      detail: '--offline: the API was not contacted',
    });
  });

  it('without a token: local checks run, API checks are skipped with "no token: run `wacx auth login`"', async () => {
    const h = tempHome();
    try {
      const r = await runCli(['doctor', '--json'], { env: h.env });
      expect(r.code).toBe(1);
      const checks = JSON.parse(r.stdout) as JsonCheck[];
      const by = new Map(checks.map((c) => [c.id, c]));
      expect(by.get('setup.secrets')).toMatchObject({
        status: 'fail',
        fix: 'Run `wacx auth login`, or set WACX_TOKEN.',
      });
      expect(by.get('setup.profile')!.status).toBe('fail');
      expect(by.get('token.valid')).toMatchObject({
        status: 'skip',
        detail: 'no token: run `wacx auth login`',
      });
      expect(by.get('sync.webhooks')).toMatchObject({ status: 'fail' });
      expect(by.get('sync.webhooks')!.detail).toContain('no webhook received yet');
      expect(by.get('setup.node')!.status).not.toBe('skip');
      // The doctor never creates a database or a config file (conf may create the empty directory).
      const dir = join(h.home, '.config', 'wacx');
      expect(existsSync(dir) ? readdirSync(dir, { recursive: true }) : []).toEqual([]);
    } finally {
      h.cleanup();
    }
  });

  it('a config file readable by others fails setup.config_mode with the chmod fix', async () => {
    const h = tempHome();
    try {
      const dir = join(h.home, 'cfg');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, 'config.json');
      writeFileSync(
        file,
        JSON.stringify({
          profiles: {
            default: {
              settings: { wabaId: WABA },
              secrets: { token: 'EAAFILETOKEN000000000000000000000000001' },
            },
          },
        }),
      );
      chmodSync(file, 0o644);
      const r = await runCli(['doctor', '--offline', '--json'], { env: { ...h.env, WACX_CONFIG_DIR: dir } });
      const c = (JSON.parse(r.stdout) as JsonCheck[]).find((x) => x.id === 'setup.config_mode')!;
      expect(c).toMatchObject({ status: 'fail', fix: `chmod 600 ${file}` });
      expect(c.detail).toContain('0644');
      expect(r.stdout).not.toContain('EAAFILETOKEN000000000000000000000000001');
      expect(r.code).toBe(1);
    } finally {
      h.cleanup();
    }
  });

  it('bad flags are usage errors (exit 2) before anything is read', async () => {
    const a = await runCli(['doctor', '--skip', 'nope'], { env: home.env });
    expect(a.code).toBe(2);
    expect(a.stderr).toContain('--skip: Unknown check or group "nope"');
    const b = await runCli(['doctor', '--activity-warn-days', '14', '--activity-fail-days', '13'], {
      env: home.env,
    });
    expect(b.code).toBe(2);
    expect(b.stderr).toContain('--activity-warn-days');
    const c = await runCli(['doctor', '--activity-fail-days', 'soon'], { env: home.env });
    expect(c.code).toBe(2);
  });
});
