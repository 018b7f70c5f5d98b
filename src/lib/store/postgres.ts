import { createRequire } from 'node:module';
import { isMainThread } from 'node:worker_threads';
import { UsageError } from '../errors.js';
import type { AnyFunction, Database, RunResult, Statement, Transaction } from './database.js';
import { type PostgresStatement, toPostgres, toPostgresDdl } from './postgres-dialect.js';

/** libpq's synchronous client (the `libpq` package), as far as wacx uses it. */
interface PQ {
  connectSync(conninfo: string): void;
  exec(text: string): void;
  execParams(text: string, params: (string | null)[]): void;
  prepare(name: string, text: string, nParams: number): void;
  execPrepared(name: string, params: (string | null)[]): void;
  resultStatus(): string;
  resultErrorMessage(): string;
  resultErrorFields(): { sqlState?: string; messagePrimary?: string } | undefined;
  errorMessage(): string;
  ntuples(): number;
  nfields(): number;
  fname(column: number): string;
  ftype(column: number): number;
  getvalue(row: number, column: number): string;
  getisnull(row: number, column: number): boolean;
  cmdTuples(): string;
  finish(): void;
}

/**
 * Every transaction takes this transaction-scoped advisory lock first: wacx's transactions were written for
 * SQLite's one writer at a time (read the audit chain's tail then append; read a lease then take it; read the
 * applied migrations then apply), and the lock gives every process on one PostgreSQL database that same order.
 * Statements outside a transaction, and reads through `iterate`, run concurrently.
 */
export const WRITE_LOCK = 0x77616378; // "wacx"

const FETCH_ROWS = 1000;

export class PostgresError extends Error {
  readonly code: string;
  readonly sqlState: string | undefined;
  constructor(message: string, sqlState: string | undefined) {
    super(message);
    this.name = 'PostgresError';
    this.sqlState = sqlState;
    this.code = `PG_${sqlState ?? 'ERROR'}`;
  }
}

/**
 * libpq's client closes its socket watcher (a handle inside the client object) on a later turn of the main event
 * loop; a client collected before that turn would leave the loop a freed handle. Closed clients are kept here.
 */
const closedClients: PQ[] = [];

let libpq: (new () => PQ) | undefined;
function loadLibpq(): new () => PQ {
  if (libpq) return libpq;
  try {
    libpq = createRequire(import.meta.url)('libpq') as new () => PQ;
    return libpq;
  } catch (error) {
    throw new UsageError('PostgreSQL support needs the libpq module, which did not install here.', {
      hint: "Install PostgreSQL's client headers (Debian: apt-get install libpq-dev), then run `npm rebuild libpq` where wacx is installed.",
      cause: error,
    });
  }
}

/** Text parameters as PostgreSQL reads them; booleans as SQLite stores them (1/0). */
function param(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (value instanceof Uint8Array) return `\\x${Buffer.from(value).toString('hex')}`;
  throw new TypeError(`Cannot bind a ${typeof value} to a SQL parameter.`);
}

function isNamedParams(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array)
  );
}

const NUMBER_TYPES = new Set([20, 21, 23, 26, 700, 701, 1700]);
const BOOL = 16;
const BYTEA = 17;

/** Column values as better-sqlite3 gives them: numbers for every numeric type, 1/0 for booleans. */
function value(pq: PQ, row: number, column: number, type: number): unknown {
  if (pq.getisnull(row, column)) return null;
  const text = pq.getvalue(row, column);
  if (NUMBER_TYPES.has(type)) return Number(text);
  if (type === BOOL) return text === 't' ? 1 : 0;
  if (type === BYTEA) return Buffer.from(text.slice(2), 'hex');
  return text;
}

function rowsOf(pq: PQ, pluck: boolean, aliases: ReadonlyMap<string, string> | null = null): unknown[] {
  const count = pq.ntuples();
  const fields = pq.nfields();
  const types = Array.from({ length: fields }, (_, c) => pq.ftype(c));
  if (pluck) return Array.from({ length: count }, (_, r) => value(pq, r, 0, types[0] as number));
  const names = Array.from({ length: fields }, (_, c) => {
    const name = pq.fname(c);
    return aliases?.get(name) ?? name;
  });
  const rows = new Array(count);
  for (let r = 0; r < count; r++) {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < fields; c++) row[names[c] as string] = value(pq, r, c, types[c] as number);
    rows[r] = row;
  }
  return rows;
}

class PostgresStatementHandle implements Statement {
  private plucked = false;
  constructor(
    private readonly db: PostgresDatabase,
    private readonly sql: PostgresStatement,
  ) {}

  pluck(toggle = true): this {
    this.plucked = toggle;
    return this;
  }

  private params(args: unknown[]): (string | null)[] {
    if (this.sql.names) {
      const named = args[0];
      if (args.length !== 1 || !isNamedParams(named))
        throw new TypeError('This statement takes named parameters.');
      return this.sql.names.map((n) => {
        if (!(n in named)) throw new RangeError(`Missing named parameter "${n}"`);
        return param(named[n]);
      });
    }
    const flat = args.flat();
    if (flat.length !== this.sql.positional)
      throw new RangeError(`Expected ${this.sql.positional} parameters, got ${flat.length}`);
    return flat.map(param);
  }

  run(...args: unknown[]): RunResult {
    const pq = this.db.execute(this.sql.text, this.params(args));
    const changes = Number(pq.cmdTuples()) || 0;
    const db = this.db;
    const epoch = db.statementsRun;
    return {
      changes,
      get lastInsertRowid(): number {
        if (db.statementsRun !== epoch) throw new Error('Read lastInsertRowid right after run().');
        return db.lastInsertId();
      },
    };
  }

  get(...args: unknown[]): unknown {
    this.db.execute(this.sql.text, this.params(args));
    return rowsOf(this.db.connection, this.plucked, this.sql.aliases)[0];
  }

  all(...args: unknown[]): unknown[] {
    this.db.execute(this.sql.text, this.params(args));
    return rowsOf(this.db.connection, this.plucked, this.sql.aliases);
  }

  iterate(...args: unknown[]): IterableIterator<unknown> {
    return this.db.cursor(this.sql.text, this.params(args), this.plucked, this.sql.aliases);
  }
}

/**
 * A PostgreSQL database behind the same synchronous interface as SQLite (one connection, libpq's blocking calls):
 * the domains' queries, transactions and the worker threads that own a connection work unchanged.
 */
export class PostgresDatabase implements Database {
  readonly backend = 'postgres' as const;
  readonly connection: PQ;
  /** Counts statements, so that a stale lastInsertRowid is refused rather than wrong. */
  statementsRun = 0;
  private depth = 0;
  private cursors = 0;
  private connected = true;
  private readonly prepared = new Map<string, string>();
  private readonly statements = new Map<string, PostgresStatement>();

  constructor(readonly url: string) {
    // libpq's client registers its socket with the main thread's event loop, whichever thread it runs in
    if (!isMainThread) throw new Error('PostgreSQL connections are opened on the main thread only.');
    const PQ = loadLibpq();
    this.connection = new PQ();
    this.connection.connectSync(url);
    this.exec("SET client_min_messages = warning; SET TIME ZONE 'UTC'");
  }

  get open(): boolean {
    return this.connected;
  }

  get inTransaction(): boolean {
    return this.depth > 0 || this.cursors > 0;
  }

  prepare(sql: string): Statement {
    let translated = this.statements.get(sql);
    if (!translated) {
      translated = toPostgres(sql);
      this.statements.set(sql, translated);
    }
    return new PostgresStatementHandle(this, translated);
  }

  /** Runs a statement with its parameters as a server-side prepared statement (parsed and planned once). */
  execute(text: string, params: (string | null)[]): PQ {
    const pq = this.connection;
    this.statementsRun++;
    let name = this.prepared.get(text);
    if (name === undefined) {
      name = `wacx_${this.prepared.size + 1}`;
      pq.prepare(name, text, params.length);
      this.check(text);
      this.prepared.set(text, name);
    }
    pq.execPrepared(name, params);
    this.check(text);
    return pq;
  }

  exec(sql: string): void {
    this.statementsRun++;
    this.connection.exec(toPostgresDdl(sql));
    this.check(sql);
  }

  private check(sql: string): void {
    const status = this.connection.resultStatus();
    if (status === 'PGRES_COMMAND_OK' || status === 'PGRES_TUPLES_OK' || status === 'PGRES_EMPTY_QUERY')
      return;
    const fields = this.connection.resultErrorFields();
    const message = (this.connection.resultErrorMessage() || this.connection.errorMessage()).trim();
    const error = new PostgresError(message || `PostgreSQL answered ${status}`, fields?.sqlState);
    Object.defineProperty(error, 'sql', { value: sql, enumerable: false });
    throw error;
  }

  lastInsertId(): number {
    this.connection.exec('SELECT lastval()');
    this.check('SELECT lastval()');
    return Number(this.connection.getvalue(0, 0));
  }

  transaction<F extends AnyFunction>(fn: F): Transaction<F> {
    const run = (...args: Parameters<F>): ReturnType<F> => this.inOneTransaction(() => fn(...args));
    return Object.assign(run, { immediate: run, deferred: run, exclusive: run }) as unknown as Transaction<F>;
  }

  private inOneTransaction<T>(fn: () => T): T {
    const savepoint = this.depth > 0 || this.cursors > 0 ? `wacx_sp${this.depth}` : null;
    this.exec(savepoint ? `SAVEPOINT ${savepoint}` : `BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK})`);
    this.depth++;
    try {
      const result = fn();
      if (result instanceof Promise) throw new TypeError('Transaction function cannot return a promise');
      this.depth--;
      this.exec(savepoint ? `RELEASE SAVEPOINT ${savepoint}` : 'COMMIT');
      return result;
    } catch (error) {
      if (this.depth > 0 && this.connected) {
        this.depth--;
        try {
          this.exec(
            savepoint ? `ROLLBACK TO SAVEPOINT ${savepoint}; RELEASE SAVEPOINT ${savepoint}` : 'ROLLBACK',
          );
        } catch {
          // the first error is the one to report
        }
      }
      throw error;
    }
  }

  /**
   * Rows in batches through a cursor, so that iterating a million rows holds a thousand. Outside a transaction the
   * cursor has a read-only one of its own (no lock: readers never wait for writers).
   */
  *cursor(
    text: string,
    params: (string | null)[],
    pluck: boolean,
    aliases: ReadonlyMap<string, string> | null = null,
  ): IterableIterator<unknown> {
    const own = !this.inTransaction;
    const name = `wacx_cursor${this.cursors}`;
    if (own) this.exec('BEGIN READ ONLY');
    this.cursors++;
    let open = false;
    try {
      this.statementsRun++;
      this.connection.execParams(`DECLARE ${name} NO SCROLL CURSOR FOR ${text}`, params);
      this.check(text);
      open = true;
      for (;;) {
        this.statementsRun++;
        this.connection.exec(`FETCH ${FETCH_ROWS} FROM ${name}`);
        this.check(text);
        const rows = rowsOf(this.connection, pluck, aliases);
        if (rows.length === 0) break;
        yield* rows;
      }
    } finally {
      this.cursors--;
      if (this.connected) {
        if (own) this.connection.exec('COMMIT');
        else if (open) this.connection.exec(`CLOSE ${name}`);
      }
    }
  }

  pragma(): undefined {
    return undefined;
  }

  close(): void {
    if (!this.connected) return;
    this.connected = false;
    this.connection.finish();
    closedClients.push(this.connection);
  }
}
