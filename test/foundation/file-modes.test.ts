import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/lib/store/store.js';
import { runCli, tempHome } from '../helpers/cli.js';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('the database and its -wal/-shm files are readable by their owner only', () => {
  let home: ReturnType<typeof tempHome>;
  let umask: number;
  beforeEach(() => {
    home = tempHome();
    // the usual umask, under which SQLite alone creates 0644 files
    umask = process.umask(0o022);
  });
  afterEach(() => {
    process.umask(umask);
    home.cleanup();
  });

  it('creates the database, -wal and -shm 0600, in a new 0700 directory', () => {
    const path = join(home.home, 'new', 'dir', 'wacx.db');
    const store = Store.open(path);
    try {
      store.db.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
      for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(mode(file)).toBe(0o600);
      expect(mode(join(home.home, 'new'))).toBe(0o700);
      expect(mode(join(home.home, 'new', 'dir'))).toBe(0o700);
    } finally {
      store.close();
    }
  });

  it('narrows the modes of files an older version left wider', () => {
    const path = join(home.home, 'old.db');
    const older = new Database(path);
    older.pragma('journal_mode = WAL');
    older.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
    expect(mode(path)).toBe(0o644);
    expect(mode(`${path}-wal`)).toBe(0o644);
    const store = Store.open(path);
    try {
      for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(mode(file)).toBe(0o600);
    } finally {
      store.close();
      older.close();
    }
  });

  it('commands create the profile database 0600, also under WACX_DB', async () => {
    const r = await runCli(['campaigns', 'list'], { env: home.env });
    expect(r.code).toBe(0);
    const profileDb = join(home.home, '.config', 'wacx', 'profiles', 'default', 'wacx.db');
    expect(mode(profileDb)).toBe(0o600);

    const db = join(home.home, 'elsewhere', 'ledger.db');
    const viaEnv = await runCli(['campaigns', 'list'], { env: { ...home.env, WACX_DB: db } });
    expect(viaEnv.code).toBe(0);
    expect(mode(db)).toBe(0o600);
    expect(mode(join(home.home, 'elsewhere'))).toBe(0o700);
  });
});

describe('WACX_DB that cannot be a database is a usage error naming WACX_DB (exit 2)', () => {
  let home: ReturnType<typeof tempHome>;
  beforeEach(() => {
    home = tempHome();
  });
  afterEach(() => home.cleanup());
  const list = (db: string) => runCli(['campaigns', 'list'], { env: { ...home.env, WACX_DB: db } });

  it('a directory', async () => {
    const dir = join(home.home, 'a-dir');
    mkdirSync(dir);
    const r = await list(dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`WACX_DB: Cannot open the database ${dir}: it is a directory.`);
    expect(r.stderr).toContain('Point WACX_DB at a wacx database file');
  });

  it('a CSV file, left as it was', async () => {
    const csv = join(home.home, 'contacts.csv');
    writeFileSync(csv, 'phone,name\n+15550100001,Ana\n', { mode: 0o644 });
    const r = await list(csv);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`WACX_DB: Cannot open the database ${csv}: it is not a database`);
    expect(readFileSync(csv, 'utf8')).toBe('phone,name\n+15550100001,Ana\n');
    expect(mode(csv)).toBe(0o644);
  });

  it('under a file, and under /proc (answered at once, not retried forever)', async () => {
    const underFile = await list('/etc/passwd/wacx.db');
    expect(underFile.code).toBe(2);
    expect(underFile.stderr).toContain(
      'WACX_DB: Cannot open the database /etc/passwd/wacx.db: a part of the path is not a directory.',
    );
    const proc = await list('/proc/wacx-test/wacx.db');
    expect(proc.code).toBe(2);
    expect(proc.stderr).toContain(
      'WACX_DB: Cannot open the database /proc/wacx-test/wacx.db: no such file or directory.',
    );
  });
});
