import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
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

  static open(path: string, options: { migrations?: readonly Migration[]; readonly?: boolean } = {}): Store {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const db = new Database(path, { readonly: options.readonly ?? false });
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
    }
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    const store = new Store(path, db);
    if (!options.readonly) store.migrate(options.migrations ?? MIGRATIONS);
    return store;
  }

  /** Applies pending migrations in id order, each in its own transaction. */
  migrate(migrations: readonly Migration[]): number[] {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)',
    );
    const done = new Set(
      (this.db.prepare('SELECT id FROM schema_migrations').all() as { id: number }[]).map((r) => r.id),
    );
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.id - b.id)) {
      if (done.has(m.id)) continue;
      this.db.transaction(() => {
        if (typeof m.up === 'string') this.db.exec(m.up);
        else m.up(this.db);
        this.db
          .prepare('INSERT INTO schema_migrations (id, name, applied_at) VALUES (?, ?, ?)')
          .run(m.id, m.name, new Date().toISOString());
      })();
      applied.push(m.id);
    }
    return applied;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
