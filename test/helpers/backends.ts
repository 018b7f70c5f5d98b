import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe } from 'vitest';
import { type Database, tableExists } from '../../src/lib/store/database.js';
import type { StoreLocation } from '../../src/lib/store/location.js';
import { type OpenOptions, openDatabase, Store } from '../../src/lib/store/store.js';
import { BACKENDS, freshLocation, type TestBackend } from './postgres.js';

export interface BackendCase {
  backend: TestBackend;
  /** A new, empty store location: a file in a temporary directory, or a new PostgreSQL database. */
  location(): StoreLocation;
  /** Opens a store at `location` (a new one when omitted); closed after the test. */
  open(location?: StoreLocation, options?: OpenOptions): Store;
}

/** The CLI's environment variable that points a run at `location` (WACX_DB or WACX_DATABASE_URL). */
export function storeEnv(location: StoreLocation): Record<string, string> {
  return location.backend === 'sqlite' ? { WACX_DB: location.path } : { WACX_DATABASE_URL: location.url };
}

/**
 * What a command left in the store at `location`, read on a connection of its own (read-only for SQLite, nothing
 * migrated): `read(db)`, or `absent` when the command never created `table` (no SQLite file, or a PostgreSQL
 * database without it), e.g. because it stopped before it opened the store.
 */
export function readStore<T>(
  location: StoreLocation,
  table: string,
  read: (db: Database) => T,
  absent: T,
): T {
  if (location.backend === 'sqlite' && !existsSync(location.path)) return absent;
  const db = openDatabase(location, { readonly: location.backend === 'sqlite' });
  try {
    return tableExists(db, table) ? read(db) : absent;
  } finally {
    db.close();
  }
}

/**
 * Declares `body`'s tests once per backend (`describe.each(BACKENDS)`), each store-level case on a store of its own:
 * the same assertions hold on the embedded SQLite file and on PostgreSQL.
 */
export function describeBackends(title: string, body: (b: BackendCase) => void): void {
  describe.each(BACKENDS)(`${title} (%s)`, (backend) => {
    const dir = mkdtempSync(join(tmpdir(), `wacx-${backend}-`));
    let opened: Store[] = [];
    let files = 0;
    const location = (): StoreLocation => freshLocation(backend, join(dir, `store-${++files}.db`));
    afterEach(() => {
      for (const store of opened) store.close();
      opened = [];
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    body({
      backend,
      location,
      open(at = location(), options) {
        const store = Store.open(at, options);
        opened.push(store);
        return store;
      },
    });
  });
}
