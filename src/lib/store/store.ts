import { UsageError } from '../errors.js';
import { type Database, tableExists } from './database.js';
import { describeLocation, type StoreLocation } from './location.js';
import { MIGRATIONS } from './migrations.js';
import { PostgresDatabase } from './postgres.js';
import { openSqlite, whileBusy } from './sqlite.js';

export type Db = Database;

export interface Migration {
  /** Unique and increasing; each domain owns a range (see ./migrations.ts). */
  id: number;
  name: string;
  /** SQLite's DDL (PostgreSQL reads it too, with its types: see toPostgresDdl), or a step in code. */
  up: string | ((db: Db) => void);
  /** PostgreSQL's own DDL where SQLite's will not do (a data migration a new PostgreSQL store never needs). */
  postgres?: string;
}

export interface OpenOptions {
  migrations?: readonly Migration[];
  readonly?: boolean;
  /** Where the location came from (`--database`, `WACX_DATABASE_URL`, `WACX_DB`), for messages. */
  origin?: string;
}

/**
 * The state of one profile: an embedded SQLite database (WAL: one writer, many concurrent readers), or a
 * PostgreSQL database a team shares. Domains keep their queries in their own modules and take the `db` from here.
 */
export class Store {
  readonly db: Db;
  readonly location: StoreLocation;

  private constructor(location: StoreLocation, db: Db) {
    this.location = location;
    this.db = db;
  }

  /** The SQLite file's path; '' for PostgreSQL (no file). */
  get path(): string {
    return this.location.backend === 'sqlite' ? this.location.path : '';
  }

  get backend(): 'sqlite' | 'postgres' {
    return this.location.backend;
  }

  /** Opens (creating a SQLite file when missing) and migrates. A plain string is a SQLite path. */
  static open(where: string | StoreLocation, options: OpenOptions = {}): Store {
    const location: StoreLocation = typeof where === 'string' ? { backend: 'sqlite', path: where } : where;
    const store = new Store(location, openDatabase(location, options));
    if (!options.readonly) {
      try {
        store.migrate(options.migrations ?? MIGRATIONS);
      } catch (error) {
        store.close();
        throw error;
      }
    }
    return store;
  }

  /** Migration ids applied, in order. */
  applied(): number[] {
    if (!tableExists(this.db, 'schema_migrations')) return [];
    return this.db.prepare('SELECT id FROM schema_migrations ORDER BY id').pluck().all() as number[];
  }

  /** The migrations not applied yet, in id order. */
  pending(migrations: readonly Migration[] = MIGRATIONS): Migration[] {
    const done = new Set(this.applied());
    return [...migrations].sort((a, b) => a.id - b.id).filter((m) => !done.has(m.id));
  }

  /**
   * Applies pending migrations in id order, all in one transaction that takes the write lock first (SQLite: BEGIN
   * IMMEDIATE; PostgreSQL: the advisory lock every wacx transaction takes) and reads the applied list again under
   * it, so that any number of processes may open a new database at once: one applies them, the others wait and
   * find them applied. A database that is up to date is only read.
   */
  migrate(migrations: readonly Migration[] = MIGRATIONS): number[] {
    if (this.pending(migrations).length === 0) return [];
    const postgres = this.backend === 'postgres';
    const apply = (): number[] => {
      this.db.exec(
        'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
      );
      const applied: number[] = [];
      for (const m of this.pending(migrations)) {
        if (postgres && m.postgres !== undefined) this.db.exec(m.postgres);
        else if (typeof m.up === 'string') this.db.exec(m.up);
        else m.up(this.db);
        this.db
          .prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)')
          .run(m.id, m.name, new Date().toISOString());
        applied.push(m.id);
      }
      return applied;
    };
    return this.backend === 'sqlite'
      ? whileBusy(() => this.db.transaction(apply).immediate())
      : this.db.transaction(apply).immediate();
  }

  /** How the store may be named in output: the file, or the URL without its password. */
  describe(): string {
    return describeLocation(this.location);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Each backend loads its native module (better-sqlite3, libpq) with its first database. */
export function openDatabase(location: StoreLocation, options: OpenOptions = {}): Db {
  if (location.backend === 'sqlite') {
    return openSqlite(location.path, options);
  }
  if (options.readonly) throw new Error('A read-only PostgreSQL store is not supported.');
  try {
    return new PostgresDatabase(location.url);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const reason = ((error as Error).message || 'no answer').trim().split('\n')[0];
    throw new UsageError(`Cannot connect to the database ${describeLocation(location)}: ${reason}`, {
      location: options.origin,
      hint: 'Check the host, port, database name, user and password (and sslmode), and that the server is up.',
      cause: error,
    });
  }
}

/** Where an open database lives, for a worker thread to open its own connection; null for an in-memory one. */
export function locationOf(db: Db): StoreLocation | null {
  if (db instanceof PostgresDatabase) return { backend: 'postgres', url: db.url };
  const sqlite = db as unknown as { name: string; memory: boolean };
  return sqlite.memory ? null : { backend: 'sqlite', path: sqlite.name };
}
