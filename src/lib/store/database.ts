/**
 * The one database interface every domain writes its queries against: the synchronous statement API of
 * better-sqlite3 (prepare → run/get/all/iterate, transactions as functions), which the embedded SQLite backend is,
 * and which the PostgreSQL backend (./postgres.ts) implements over libpq.
 *
 * Queries are written once, in the SQL both engines understand: `?` or `@name` parameters, `INSERT … ON CONFLICT`,
 * `RETURNING`, COALESCE. The PostgreSQL backend rewrites the few SQLite spellings that remain (`?` → `$n`,
 * `INSERT OR IGNORE`, two-argument MAX/MIN) and its schema carries `instr` and `json_extract` as functions.
 */
export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

export interface Statement {
  run(...params: unknown[]): RunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  /** Rows as their first column's value. */
  pluck(toggle?: boolean): this;
}

// biome-ignore lint/suspicious/noExplicitAny: the transaction wraps any function, as better-sqlite3's does
export type AnyFunction = (...args: any[]) => any;

type ArgumentTypes<F extends AnyFunction> = F extends (...args: infer A) => unknown ? A : never;

export interface Transaction<F extends AnyFunction> {
  (...params: ArgumentTypes<F>): ReturnType<F>;
  /** Takes the write lock before the first read, so that what is read is still true when written. */
  immediate(...params: ArgumentTypes<F>): ReturnType<F>;
}

export interface Database {
  readonly open: boolean;
  readonly inTransaction: boolean;
  prepare(sql: string): Statement;
  exec(sql: string): void;
  transaction<F extends AnyFunction>(fn: F): Transaction<F>;
  /** SQLite's tuning knobs; the PostgreSQL backend has none of them and ignores them. */
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): void;
}

export type Backend = 'sqlite' | 'postgres';

/** Which engine a database is; the PostgreSQL backend says so, better-sqlite3 has no such property. */
export function backendOf(db: Database): Backend {
  return (db as { backend?: Backend }).backend === 'postgres' ? 'postgres' : 'sqlite';
}

/** Whether a table exists; each engine keeps its catalogue apart (sqlite_master, to_regclass), so no common query. */
export function tableExists(db: Database, name: string): boolean {
  return backendOf(db) === 'postgres'
    ? db.prepare('SELECT to_regclass(?) IS NOT NULL AS found').pluck().get(name) === 1
    : db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

/** Whether an error says a table or column is missing (a store migrated by an older wacx), on either engine. */
export function isMissingSchema(error: unknown): boolean {
  const sqlState = (error as { sqlState?: string }).sqlState;
  return sqlState === '42P01' || sqlState === '42703' || /no such (table|column)/.test(String(error));
}

/**
 * Runs a statement that answers one row (an INSERT … RETURNING) and gives a function that returns that row. SQLite
 * runs it at once; PostgreSQL, inside a transaction, queues it with the next round trip, so that a batch can send
 * many such statements before it needs the first answer.
 */
export function getLater(statement: Statement, params: unknown[]): () => unknown {
  const later = (statement as { getLater?: (params: unknown[]) => () => unknown }).getLater;
  if (later) return later.call(statement, params);
  const row = statement.get(...params);
  return () => row;
}
