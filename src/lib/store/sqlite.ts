import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import { UsageError } from '../errors.js';
import { createPrivateFile, fsReason, makeDirectory, restrictToOwner } from '../files.js';
import { lazyModule } from '../lazy.js';
import type { Database } from './database.js';

/**
 * Runs `fn` again while SQLite answers SQLITE_BUSY, for up to 5 s. The busy timeout covers most waits, but SQLite
 * answers BUSY at once where waiting could deadlock (switching a new file to WAL while another process opens it,
 * a WAL recovery in progress): several processes opening one new database at the same moment meet exactly that.
 */
export function whileBusy<T>(fn: () => T): T {
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
const sqlite = lazyModule<typeof BetterSqlite3>('better-sqlite3');

/**
 * Opens (creating when missing) an embedded SQLite database in WAL mode. The file, and the -wal and -shm files
 * SQLite creates beside it with the database's own mode, are readable by their owner only. `origin` names where the
 * path came from (e.g. `WACX_DB`) for error messages.
 */
export function openSqlite(path: string, options: { readonly?: boolean; origin?: string } = {}): Database {
  const readonly = options.readonly ?? false;
  const onDisk = path !== ':memory:';
  let db: BetterSqlite3.Database | undefined;
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
  return db as unknown as Database;
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
