import { existsSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { backendOf } from './database.js';
import { describeLocation, type StoreLocation } from './location.js';
import { MIGRATIONS } from './migrations.js';
import { type Db, type Migration, Store } from './store.js';

export interface StoreStatus {
  backend: 'sqlite' | 'postgres';
  location: string;
  /** False for a SQLite file not created yet (it is created, and migrated, by the first command that writes). */
  exists: boolean;
  /** The highest migration applied; 0 for none. */
  version: number;
  applied: number;
  pending: { id: number; name: string }[];
  /** Migrations applied that this wacx does not know: the store was migrated by a newer version. */
  unknown: number[];
}

const describeMigration = (m: Migration) => ({ id: m.id, name: m.name });

/**
 * What a store holds of the schema, without creating or migrating it. `shown` is the location as configured
 * (without a password kept apart as a secret).
 */
export function storeStatus(
  location: StoreLocation,
  origin?: string,
  shown = describeLocation(location),
): StoreStatus {
  const base = { backend: location.backend, location: shown };
  if (location.backend === 'sqlite' && location.path !== ':memory:' && !existsSync(location.path))
    return {
      ...base,
      exists: false,
      version: 0,
      applied: 0,
      pending: MIGRATIONS.map(describeMigration),
      unknown: [],
    };
  const store = Store.open(location, { migrations: [], origin });
  try {
    const applied = store.applied();
    const known = new Set(MIGRATIONS.map((m) => m.id));
    return {
      ...base,
      exists: true,
      version: applied.at(-1) ?? 0,
      applied: applied.length,
      pending: store.pending().map(describeMigration),
      unknown: applied.filter((id) => !known.has(id)),
    };
  } finally {
    store.close();
  }
}

/** Applies the pending migrations (one process at a time: see Store.migrate); returns the ids applied. */
export function migrateStore(
  location: StoreLocation,
  origin?: string,
): { applied: Migration[]; version: number } {
  const store = Store.open(location, { migrations: [], origin });
  try {
    const ids = new Set(store.migrate());
    return { applied: MIGRATIONS.filter((m) => ids.has(m.id)), version: store.applied().at(-1) ?? 0 };
  } finally {
    store.close();
  }
}

export interface TableCount {
  table: string;
  source: number;
  target: number;
}

interface Column {
  name: string;
  /** The single-column INTEGER PRIMARY KEY (an identity on PostgreSQL, whose sequence must follow the copy). */
  rowid: boolean;
}

interface TableShape {
  table: string;
  columns: Column[];
  /** Columns referring to the same table: copied as NULL first, then set once every row is there. */
  selfReferences: string[];
  references: string[];
}

function sqliteTables(db: Db): TableShape[] {
  const names = db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name != 'schema_migrations' ORDER BY name",
    )
    .pluck()
    .all() as string[];
  return names.map((table) => {
    const info = db.prepare('SELECT name, type, pk FROM pragma_table_info(?)').all(table) as {
      name: string;
      type: string;
      pk: number;
    }[];
    const keys = info.filter((c) => c.pk > 0);
    const fks = db
      .prepare('SELECT "table" AS target, "from" AS col FROM pragma_foreign_key_list(?)')
      .all(table) as {
      target: string;
      col: string;
    }[];
    return {
      table,
      columns: info.map((c) => ({
        name: c.name,
        rowid: keys.length === 1 && c.pk === 1 && c.type.toUpperCase() === 'INTEGER',
      })),
      selfReferences: fks.filter((f) => f.target === table).map((f) => f.col),
      references: [...new Set(fks.filter((f) => f.target !== table).map((f) => f.target))],
    };
  });
}

/** Tables in an order where every table comes after the tables it refers to. */
function dependencyOrder(tables: TableShape[]): TableShape[] {
  const byName = new Map(tables.map((t) => [t.table, t]));
  const done = new Set<string>();
  const out: TableShape[] = [];
  const visit = (t: TableShape, path: Set<string>) => {
    if (done.has(t.table) || path.has(t.table)) return;
    path.add(t.table);
    for (const r of t.references) {
      const target = byName.get(r);
      if (target) visit(target, path);
    }
    done.add(t.table);
    out.push(t);
  };
  for (const t of tables) visit(t, new Set());
  return out;
}

const count = (db: Db, table: string) =>
  Number(db.prepare(`SELECT COUNT(*) FROM "${table}"`).pluck().get() ?? 0);

/** Rows per table in the source and the target, in copy order. */
export function copyCounts(source: Store, target: Store): TableCount[] {
  return dependencyOrder(sqliteTables(source.db)).map((t) => ({
    table: t.table,
    source: count(source.db, t.table),
    target: count(target.db, t.table),
  }));
}

/**
 * Copies every row of a SQLite store into a PostgreSQL one migrated to the same version, keeping ids (and so the
 * audit chain's hashes and every reference). Idempotent: a row already there (same key) is left as it is, so a copy
 * stopped half-way is finished by running it again. Identity sequences follow the copied ids.
 */
export function copyStore(
  source: Store,
  target: Store,
  onTable: (done: TableCount) => void = () => {},
): TableCount[] {
  if (source.backend !== 'sqlite') throw new UsageError('The source of a copy is a SQLite store.');
  if (backendOf(target.db) !== 'postgres')
    throw new UsageError('The target of a copy is a PostgreSQL store.');
  const known = new Set(MIGRATIONS.map((m) => m.id));
  const newer = source.applied().filter((id) => !known.has(id));
  if (newer.length > 0)
    throw new UsageError(
      `The source store has migrations this wacx does not know (${newer.join(', ')}): it was used by a newer wacx.`,
      { hint: 'Run the copy with the newest wacx that used the store.' },
    );
  source.migrate();
  const result: TableCount[] = [];
  for (const shape of dependencyOrder(sqliteTables(source.db))) {
    copyTable(source.db, target.db, shape);
    const done = {
      table: shape.table,
      source: count(source.db, shape.table),
      target: count(target.db, shape.table),
    };
    result.push(done);
    onTable(done);
  }
  return result;
}

/** PostgreSQL's limit is 65,535 parameters per statement; a few hundred rows per INSERT is already the fast part. */
const ROWS_PER_INSERT = 500;

function copyTable(source: Db, target: Db, shape: TableShape): void {
  const targetColumns = new Set(
    target
      .prepare(
        'SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?',
      )
      .pluck()
      .all(shape.table) as string[],
  );
  if (targetColumns.size === 0)
    throw new Error(`The target has no table ${shape.table}: it is not migrated to the source's version.`);
  const columns = shape.columns.filter((c) => targetColumns.has(c.name));
  const names = columns.map((c) => `"${c.name}"`).join(', ');
  const self = new Set(shape.selfReferences);
  const perInsert = Math.max(1, Math.min(ROWS_PER_INSERT, Math.floor(60_000 / columns.length)));
  const tuple = `(${columns.map(() => '?').join(', ')})`;
  const insertSql = (rows: number) =>
    `INSERT INTO "${shape.table}" (${names}) VALUES ${Array(rows).fill(tuple).join(', ')} ON CONFLICT DO NOTHING`;
  const full = target.prepare(insertSql(perInsert));
  const write = target.transaction((rows: Record<string, unknown>[]) => {
    const values = rows.flatMap((r) => columns.map((c) => (self.has(c.name) ? null : r[c.name])));
    (rows.length === perInsert ? full : target.prepare(insertSql(rows.length))).run(values);
  });
  let batch: Record<string, unknown>[] = [];
  for (const row of source.prepare(`SELECT ${names} FROM "${shape.table}"`).iterate() as Iterable<
    Record<string, unknown>
  >) {
    batch.push(row);
    if (batch.length === perInsert) {
      write(batch);
      batch = [];
    }
  }
  if (batch.length > 0) write(batch);

  const key = columns.find((c) => c.rowid)?.name;
  if (key && self.size > 0) {
    const linked = [...self].map((c) => `"${c}"`);
    const rows = source
      .prepare(
        `SELECT "${key}" AS k, ${linked.join(', ')} FROM "${shape.table}" WHERE ${linked.map((c) => `${c} IS NOT NULL`).join(' OR ')}`,
      )
      .all() as Record<string, unknown>[];
    const update = target.prepare(
      `UPDATE "${shape.table}" SET ${linked.map((c) => `${c} = ?`).join(', ')} WHERE "${key}" = ?`,
    );
    target.transaction(() => {
      for (const r of rows)
        update.run(
          [...self].map((c) => r[c]),
          r.k,
        );
    })();
  }
  if (key)
    target
      .prepare(
        `SELECT setval(pg_get_serial_sequence('"${shape.table}"', '${key}'), GREATEST(COALESCE(MAX("${key}"), 0), 1), MAX("${key}") IS NOT NULL) FROM "${shape.table}"`,
      )
      .get();
}
