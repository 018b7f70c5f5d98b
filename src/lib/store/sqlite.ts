import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { lazyModule } from '../lazy.js';

/**
 * Runs `fn` again while SQLite answers SQLITE_BUSY, for up to 5 s. The busy timeout covers most waits, but SQLite
 * answers BUSY at once where waiting could deadlock (switching a new file to WAL while another process opens it,
 * a WAL recovery in progress): several processes opening one new database at the same moment meet exactly that.
 */
function whileBusy<T>(fn: () => T): T {
  const deadline = Date.now() + 5000;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      return fn();
    } catch (error) {
      const code = (error as { code?: string }).code ?? '';
      if (!code.startsWith('SQLITE_BUSY') || Date.now() > deadline) throw error;
      Atomics.wait(pause, 0, 0, wait);
    }
  }
}

/** The native SQLite module loads with the first database, not with every module that names the store. */
const sqlite = lazyModule<typeof Database>('better-sqlite3');

import { UsageError } from '../errors.js';
import { createPrivateFile, fsReason, makeDirectory, restrictToOwner } from '../files.js';
import { MIGRATIONS } from './migrations.js';

export type Db = Database.Database;

export interface Migration {
  /** Unique and increasing; each domain owns a range (see ./migrations.ts). */
  id: number;
  name: string;
  up: string | ((db: Db) => void);
}

/**
 * The embedded SQLite database of one profile (WAL: one writer, many concurrent readers).
 * Domains keep their queries in their own modules and take the `db` from here.
 */
export class Store {
  readonly db: Db;
  readonly path: string;

  private constructor(path: string, db: Db) {
    this.path = path;
    this.db = db;
  }

  /**
   * Opens (creating when missing) and migrates the database. The file, and the -wal and -shm files SQLite creates
   * beside it with the database's own mode, are readable by their owner only. `origin` names where the path came
   * from (e.g. `WACX_DB`) for error messages.
   */
  static open(
    path: string,
    options: { migrations?: readonly Migration[]; readonly?: boolean; origin?: string } = {},
  ): Store {
    const readonly = options.readonly ?? false;
    const onDisk = path !== ':memory:';
    let db: Db | undefined;
    try {
      if (onDisk) {
        if (statSync(path, { throwIfNoEntry: false })?.isDirectory())
          throw Object.assign(new Error(), { code: 'EISDIR' });
        if (!readonly) {
          makeDirectory(dirname(path));
          createPrivateFile(path);
        }
      }
      db = new (sqlite())(path, { readonly });
      // First: switching a new file to WAL takes a lock that another process opening it at the same moment may
      // hold; without a busy timeout that is an immediate "database is locked".
      db.pragma('busy_timeout = 5000');
      if (!readonly) {
        // FULL: each COMMIT returns only once the WAL is fsync'ed, so what a caller acknowledged (a webhook's 200,
        // a ledger entry) survives power loss or an OS crash; the webhook receiver groups concurrent requests into
        // one commit so that this costs one fsync per batch, not per request.
        const conn = db;
        whileBusy(() => conn.pragma('journal_mode = WAL'));
        db.pragma('synchronous = FULL');
      }
      db.pragma('foreign_keys = ON');
    } catch (error) {
      db?.close();
      throw openError(error, path, options.origin);
    }
    // Files made by an older wacx, or by SQLite under a wider umask.
    if (onDisk && !readonly) for (const file of [path, `${path}-wal`, `${path}-shm`]) restrictToOwner(file);
    const store = new Store(path, db);
    if (!readonly) whileBusy(() => store.migrate(options.migrations ?? MIGRATIONS));
    return store;
  }

  /**
   * Applies pending migrations in id order, all in one immediate transaction (BEGIN IMMEDIATE: the write lock is
   * taken before the applied list is read, and the list is read again under it), so that any number of processes
   * may open a new database at once: one applies them, the others wait (busy_timeout) and find them applied.
   * A database that is up to date is only read.
   */
  migrate(migrations: readonly Migration[]): number[] {
    const sorted = [...migrations].sort((a, b) => a.id - b.id);
    const pending = (): Migration[] => {
      const table = this.db
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
        .get();
      if (!table) return sorted;
      const done = new Set(
        (this.db.prepare('SELECT id FROM schema_migrations').all() as { id: number }[]).map((r) => r.id),
      );
      return sorted.filter((m) => !done.has(m.id));
    };
    if (pending().length === 0) return [];
    return this.db
      .transaction((): number[] => {
        this.db.exec(
          'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
        );
        const applied: number[] = [];
        for (const m of pending()) {
          if (typeof m.up === 'string') this.db.exec(m.up);
          else m.up(this.db);
          this.db
            .prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)')
            .run(m.id, m.name, new Date().toISOString());
          applied.push(m.id);
        }
        return applied;
      })
      .immediate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Why a database could not be opened, naming the place it came from; SQLite and system errors in words. */
function openError(error: unknown, path: string, origin: string | undefined): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return error;
  const reasons: Record<string, string> = {
    SQLITE_NOTADB: 'it is not a database (SQLite: file is not a database)',
    SQLITE_CORRUPT: 'the database is damaged (SQLite: database disk image is malformed)',
    SQLITE_CANTOPEN: 'SQLite cannot open it (a missing directory, or no permission)',
  };
  const reason = reasons[code] ?? (code.startsWith('SQLITE_READONLY') ? 'it is read-only' : undefined);
  if (!reason && code.startsWith('SQLITE_')) return error;
  const fix = origin
    ? `Point ${origin} at a wacx database file (it is created when missing), or unset it.`
    : 'Check the path and its permissions.';
  return new UsageError(`Cannot open the database ${path}: ${reason ?? fsReason(error)}.`, {
    location: origin,
    hint: fix,
    cause: error,
  });
}
