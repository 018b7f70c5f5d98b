import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/lib/store/migrations.js';
import { Store } from '../../src/lib/store/store.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { freshPostgresUrl } from '../helpers/postgres.js';
import { bsuidInbound, PABLO } from '../webhooks/bsuid-fixtures.js';
import { contactSync, echo, historyChunk, inboundText, statusPayload } from '../webhooks/fixtures.js';

const LATEST = Math.max(...MIGRATIONS.map((m) => m.id));

let home: ReturnType<typeof tempHome>;
let sqlitePath: string;
beforeEach(() => {
  home = tempHome();
  sqlitePath = join(home.home, 'wacx.db');
});
afterEach(() => home.cleanup());

/** Webhooks of every kind into the SQLite store (events, messages, statuses, echoes, history, identities, audit). */
async function fillSqlite(count: number): Promise<void> {
  const feed = join(home.home, 'feed.ndjson');
  const payloads: unknown[] = [
    echo('wamid.echo.1', '4915112345678', 'from the App'),
    contactSync('add', '4915112345679', 'Ana'),
    historyChunk(1, 1, 100, [
      { id: '4915112345678', messages: [{ id: 'wamid.h.1', from: '4915112345678', body: 'hi' }] },
    ]),
    bsuidInbound('wamid.bsuid.1', PABLO, 'hello from a BSUID'),
  ];
  for (let i = 0; i < count; i++) {
    payloads.push(inboundText(`wamid.in.${i}`, `49151${String(i).padStart(8, '0')}`, `text ${i}`));
    payloads.push(
      statusPayload(`wamid.out.${i}`, 'delivered', { recipient: `49151${String(i).padStart(8, '0')}` }),
    );
  }
  writeFileSync(feed, payloads.map((p) => JSON.stringify(p)).join('\n'));
  const r = await runCli(['webhooks', 'ingest', feed], { env: { ...home.env, WACX_DB: sqlitePath } });
  expect(r.code, r.stderr).toBe(0);
}

const json = (stdout: string) => JSON.parse(stdout) as Record<string, unknown>;

describe('wacx db', () => {
  it('status and migrate on PostgreSQL: version, pending list, and the password never shown', async () => {
    const url = freshPostgresUrl();
    const withPassword = url.replace('wacx@', 'wacx:hunter2-secret@');
    const env = { ...home.env, WACX_DATABASE_URL: withPassword };
    const before = await runCli(['db', 'status', '--json'], { env });
    expect(before.code).toBe(0);
    expect(json(before.stdout)).toMatchObject({ backend: 'postgres', exists: true, version: 0, applied: 0 });
    expect((json(before.stdout).pending as unknown[]).length).toBe(MIGRATIONS.length);
    const migrate = await runCli(['db', 'migrate', '--json'], { env });
    expect(migrate.code).toBe(0);
    expect(json(migrate.stdout).version).toBe(LATEST);
    const after = await runCli(['db', 'status'], { env });
    expect(after.stdout).toContain(`version ${LATEST}`);
    expect(after.stdout).toContain('Pending   none');
    for (const r of [before, migrate, after]) expect(r.stdout + r.stderr).not.toContain('hunter2');
    expect(after.stdout).toContain('postgres://wacx:***@');
  });

  it('status on a SQLite store that does not exist yet lists every migration and creates nothing', async () => {
    const r = await runCli(['db', 'status', '--json'], { env: { ...home.env, WACX_DB: sqlitePath } });
    expect(r.code).toBe(0);
    expect(json(r.stdout)).toMatchObject({ backend: 'sqlite', exists: false, version: 0 });
    const { existsSync } = await import('node:fs');
    expect(existsSync(sqlitePath)).toBe(false);
  });

  it('copy moves a SQLite store into PostgreSQL, verified by counts; again, it copies nothing twice', async () => {
    await fillSqlite(40);
    const url = freshPostgresUrl();
    const args = ['db', 'copy', '--from', sqlitePath, '--to', url, '--yes', '--json'];
    const first = await runCli(args, { env: home.env });
    expect(first.code, first.stderr).toBe(0);
    const report = json(first.stdout) as {
      verified: boolean;
      tables: Record<string, { source: number; target: number }>;
    };
    expect(report.verified).toBe(true);
    for (const [table, c] of Object.entries(report.tables)) expect(c.target, table).toBe(c.source);
    expect(report.tables.webhook_events?.source).toBeGreaterThan(80);
    expect(report.tables.audit_records?.source).toBeGreaterThan(0);
    expect(report.tables.identities?.source).toBeGreaterThan(40);

    const again = await runCli(args, { env: home.env });
    expect(again.code).toBe(0);
    const second = json(again.stdout) as typeof report;
    for (const [table, c] of Object.entries(second.tables)) expect(c.target, table).toBe(c.source);

    // the copy is a working store: the audit chain verifies, and new rows get new ids after the copied ones
    const pg = { ...home.env, WACX_DATABASE_URL: url };
    const verify = await runCli(['audit', 'verify'], { env: pg });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const feed = join(home.home, 'more.ndjson');
    writeFileSync(feed, JSON.stringify(inboundText('wamid.after.copy', '4915100000999', 'after the copy')));
    expect((await runCli(['webhooks', 'ingest', feed], { env: pg })).code).toBe(0);
    const store = Store.open({ backend: 'postgres', url });
    try {
      const count = store.db.prepare('SELECT COUNT(*) FROM webhook_events').pluck().get();
      expect(count).toBe((report.tables.webhook_events?.source ?? 0) + 1);
    } finally {
      store.close();
    }
  });

  it('copy without --yes off a terminal refuses (exit 2) and copies nothing', async () => {
    await fillSqlite(2);
    const url = freshPostgresUrl();
    const r = await runCli(['db', 'copy', '--from', sqlitePath, '--to', url], { env: home.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--yes');
    const store = Store.open({ backend: 'postgres', url });
    try {
      expect(store.db.prepare('SELECT COUNT(*) FROM webhook_events').pluck().get()).toBe(0);
    } finally {
      store.close();
    }
  });

  it('bad locations are usage errors naming the flag or variable', async () => {
    const toSqlite = await runCli(['db', 'copy', '--from', sqlitePath, '--to', 'sqlite:/tmp/x.db', '--yes'], {
      env: home.env,
    });
    expect(toSqlite.code).toBe(2);
    expect(toSqlite.stderr).toContain('--to');
    const mysql = await runCli(['db', 'status'], {
      env: { ...home.env, WACX_DATABASE_URL: 'mysql://db/wacx' },
    });
    expect(mysql.code).toBe(2);
    expect(mysql.stderr).toContain('WACX_DATABASE_URL');
    const flag = await runCli(
      ['db', 'status', '--database', 'postgres://wacx@127.0.0.1:1/none?sslmode=sometimes'],
      {
        env: home.env,
      },
    );
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--database');
    const down = await runCli(
      ['db', 'status', '--database', 'postgres://wacx:pw-not-shown@127.0.0.1:1/none'],
      {
        env: home.env,
      },
    );
    expect(down.code).toBe(2);
    expect(down.stderr).toContain('Cannot connect');
    expect(down.stderr).not.toContain('pw-not-shown');
  });
});

describe('the database setting', () => {
  it('a password kept apart is put into the URL that opens the store, unless the URL has its own', async () => {
    const { withPassword } = await import('../../src/lib/store/location.js');
    const bare = {
      backend: 'postgres' as const,
      url: 'postgres://wacx@db.internal:5432/wacx?sslmode=require',
    };
    expect(withPassword(bare, 'p@ss word')).toEqual({
      backend: 'postgres',
      url: 'postgres://wacx:p%40ss%20word@db.internal:5432/wacx?sslmode=require',
    });
    const own = { backend: 'postgres' as const, url: 'postgres://wacx:own@db.internal/wacx' };
    expect(withPassword(own, 'other')).toEqual(own);
  });

  it('config set database keeps the URL without its password, and the password as a secret that opens the store', async () => {
    const url = freshPostgresUrl();
    const withPassword = url.replace('wacx@', 'wacx:kept-apart-secret@');
    const set = await runCli(['config', 'set', 'database', withPassword, '--json'], { env: home.env });
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).not.toContain('kept-apart-secret');
    expect(json(set.stdout)).toMatchObject({ key: 'database', value: url, passwordStoredIn: 'file' });
    const { readFileSync, readdirSync } = await import('node:fs');
    const configDir = join(home.home, '.config');
    const files = readdirSync(configDir, { recursive: true, withFileTypes: true }).filter(
      (f) => f.isFile() && f.name.endsWith('.json'),
    );
    const stored = files.map((f) => readFileSync(join(f.parentPath, f.name), 'utf8')).join('\n');
    expect(stored).toContain('"databasePassword": "kept-apart-secret"');
    expect(stored).toContain(`"database": "${url}"`);
    const status = await runCli(['db', 'status', '--json'], { env: home.env });
    expect(status.code, status.stderr).toBe(0);
    expect(json(status.stdout)).toMatchObject({ backend: 'postgres', location: url, version: 0 });
    expect((await runCli(['db', 'migrate'], { env: home.env })).code).toBe(0);
    expect(json((await runCli(['db', 'status', '--json'], { env: home.env })).stdout).version).toBe(LATEST);
  });
});
