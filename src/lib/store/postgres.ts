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
  enterPipelineMode(): boolean;
  exitPipelineMode(): boolean;
  pipelineSync(): boolean;
  sendQueryParams(text: string, params: (string | null)[]): boolean;
  sendPrepare(name: string, text: string, nParams: number): boolean;
  sendQueryPrepared(name: string, params: (string | null)[]): boolean;
  getResult(): boolean;
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
  pipelineModeSupported(): boolean;
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

/** What `run()` answers: the row count once the statement's result is in (reading it sends what is queued). */
class PipelinedRun implements RunResult {
  count: number | undefined;
  constructor(
    private readonly db: PostgresDatabase,
    private readonly epoch: number,
  ) {}

  get changes(): number {
    if (this.count === undefined) this.db.flush();
    return this.count ?? 0;
  }

  get lastInsertRowid(): number {
    if (this.db.statementsRun !== this.epoch) throw new Error('Read lastInsertRowid right after run().');
    return this.db.lastInsertId();
  }
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

  /** Inside a transaction the statement is only queued: it goes with the next read, savepoint release or commit. */
  run(...args: unknown[]): RunResult {
    const db = this.db;
    const result = new PipelinedRun(db, db.statementsRun + 1);
    db.send(this.sql.text, this.params(args), (pq) => {
      result.count = Number(pq.cmdTuples()) || 0;
    });
    if (!db.inTransaction) db.flush();
    return result;
  }

  get(...args: unknown[]): unknown {
    return this.rows(args)[0];
  }

  all(...args: unknown[]): unknown[] {
    return this.rows(args);
  }

  private rows(args: unknown[]): unknown[] {
    let rows: unknown[] = [];
    this.db.send(this.sql.text, this.params(args), (pq) => {
      rows = rowsOf(pq, this.plucked, this.sql.aliases);
    });
    this.db.flush();
    return rows;
  }

  /** The first row, read when the function is called: inside a transaction, the statement waits in the queue. */
  getLater(args: unknown[]): () => unknown {
    const db = this.db;
    let answered = false;
    let row: unknown;
    db.send(this.sql.text, this.params(args), (pq) => {
      row = rowsOf(pq, this.plucked, this.sql.aliases)[0];
      answered = true;
    });
    if (!db.inTransaction) db.flush();
    return () => {
      if (!answered) db.flush();
      if (!answered)
        throw new Error('This statement was not run: an earlier statement of its transaction failed.');
      return row;
    };
  }

  iterate(...args: unknown[]): IterableIterator<unknown> {
    return this.db.cursor(this.sql.text, this.params(args), this.plucked, this.sql.aliases);
  }
}

/** A statement sent in pipeline mode whose result has not been read yet. */
interface Queued {
  sql: string;
  /** Called with the statement's result, when it succeeded. */
  read?: (pq: PQ) => void;
  /** The name a statement is being prepared under: forgotten if the preparation fails. */
  preparing?: string;
}

/**
 * A PostgreSQL database behind the same synchronous interface as SQLite (one connection, libpq's blocking calls):
 * the domains' queries, transactions and the worker threads that own a connection work unchanged.
 *
 * Statements go through libpq's pipeline mode: inside a transaction, writes whose results nobody reads yet are
 * queued and sent together with the next statement that must wait for its answer (a read, a savepoint's release,
 * the commit), so that a transaction of ten writes costs one round trip to the server instead of ten. An error in
 * a queued statement is thrown by the call that sends the queue, still inside the same transaction or savepoint.
 */
export class PostgresDatabase implements Database {
  readonly backend = 'postgres' as const;
  readonly connection: PQ;
  /** Counts statements, so that a stale lastInsertRowid is refused rather than wrong. */
  statementsRun = 0;
  /** Counts the times wacx waited for the server's answer. */
  roundTrips = 0;
  private depth = 0;
  private cursors = 0;
  private connected = true;
  private queue: Queued[] = [];
  private readonly prepared = new Map<string, string>();
  private readonly statements = new Map<string, PostgresStatement>();

  constructor(readonly url: string) {
    // libpq's client registers its socket with the main thread's event loop, whichever thread it runs in
    if (!isMainThread) throw new Error('PostgreSQL connections are opened on the main thread only.');
    const PQ = loadLibpq();
    this.connection = new PQ();
    if (!this.connection.pipelineModeSupported())
      throw new UsageError(
        'PostgreSQL support needs libpq 14 or later (its pipeline mode); this libpq module was built against an older one.',
        {
          hint: "Install a newer libpq's headers (Debian: apt-get install libpq-dev), then run `npm rebuild libpq` where wacx is installed.",
        },
      );
    this.connection.connectSync(url);
    this.exec(
      "SET client_min_messages = warning; SET TIME ZONE 'UTC'; SET plan_cache_mode = force_custom_plan",
    );
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

  /**
   * Queues a statement as a server-side prepared statement (parsed and planned once), or, without `params`, as a
   * single plain statement; `read` gets its result when the queue is sent.
   */
  send(text: string, params: (string | null)[] | null, read?: (pq: PQ) => void): void {
    const pq = this.connection;
    if (this.queue.length === 0 && !pq.enterPipelineMode()) this.fail(text);
    this.statementsRun++;
    if (params === null) {
      if (!pq.sendQueryParams(text, [])) this.fail(text);
      this.queue.push({ sql: text, read });
      return;
    }
    let name = this.prepared.get(text);
    if (name === undefined) {
      name = `wacx_${this.prepared.size + 1}`;
      if (!pq.sendPrepare(name, text, params.length)) this.fail(text);
      this.prepared.set(text, name);
      this.queue.push({ sql: text, preparing: text });
    }
    if (!pq.sendQueryPrepared(name, params)) this.fail(text);
    this.queue.push({ sql: text, read });
  }

  /** Sends the queued statements and reads every answer; throws the first statement's error, if one failed. */
  flush(): void {
    if (this.queue.length === 0) return;
    const pq = this.connection;
    const queue = this.queue;
    this.queue = [];
    this.roundTrips++;
    if (!pq.pipelineSync()) this.fail(queue[0]?.sql ?? '');
    let failure: PostgresError | undefined;
    for (const entry of queue) {
      if (!pq.getResult()) this.fail(entry.sql);
      const status = pq.resultStatus();
      if (status === 'PGRES_COMMAND_OK' || status === 'PGRES_TUPLES_OK') entry.read?.(pq);
      else {
        if (entry.preparing !== undefined) this.prepared.delete(entry.preparing);
        if (status !== 'PGRES_PIPELINE_ABORTED') failure ??= this.error(entry.sql, status);
      }
      pq.getResult(); // the end of this statement's results
    }
    pq.getResult(); // the sync point
    pq.exitPipelineMode();
    if (failure) throw failure;
  }

  /** Sends the queued statements and ignores their answers: the transaction they belong to is being rolled back. */
  private discard(): void {
    if (!this.connected) this.queue = [];
    try {
      this.flush();
    } catch {
      // the error that rolls the transaction back is the one to report
    }
  }

  exec(sql: string): void {
    this.flush();
    this.statementsRun++;
    this.roundTrips++;
    this.connection.exec(toPostgresDdl(sql));
    this.check(sql);
  }

  private check(sql: string): void {
    const status = this.connection.resultStatus();
    if (status === 'PGRES_COMMAND_OK' || status === 'PGRES_TUPLES_OK' || status === 'PGRES_EMPTY_QUERY')
      return;
    throw this.error(sql, status);
  }

  private error(sql: string, status: string): PostgresError {
    const fields = this.connection.resultErrorFields();
    const message = (this.connection.resultErrorMessage() || this.connection.errorMessage()).trim();
    const error = new PostgresError(message || `PostgreSQL answered ${status}`, fields?.sqlState);
    Object.defineProperty(error, 'sql', { value: sql, enumerable: false });
    return error;
  }

  /** The connection failed (it is gone, or libpq refused to send). */
  private fail(sql: string): never {
    const error = new PostgresError(
      this.connection.errorMessage().trim() || 'PostgreSQL connection failed',
      '08006',
    );
    Object.defineProperty(error, 'sql', { value: sql, enumerable: false });
    throw error;
  }

  lastInsertId(): number {
    let id = 0;
    this.send('SELECT lastval()', null, (pq) => {
      id = Number(pq.getvalue(0, 0));
    });
    this.flush();
    return id;
  }

  transaction<F extends AnyFunction>(fn: F): Transaction<F> {
    const run = (...args: Parameters<F>): ReturnType<F> => this.inOneTransaction(() => fn(...args));
    return Object.assign(run, { immediate: run, deferred: run, exclusive: run }) as unknown as Transaction<F>;
  }

  private inOneTransaction<T>(fn: () => T): T {
    const savepoint = this.depth > 0 || this.cursors > 0 ? `wacx_sp${this.depth}` : null;
    if (savepoint) this.send(`SAVEPOINT ${savepoint}`, null);
    else {
      this.send('BEGIN', null);
      this.send(`SELECT pg_advisory_xact_lock(${WRITE_LOCK})`, null);
    }
    this.depth++;
    try {
      const result = fn();
      if (result instanceof Promise) throw new TypeError('Transaction function cannot return a promise');
      this.send(savepoint ? `RELEASE SAVEPOINT ${savepoint}` : 'COMMIT', null);
      this.flush();
      this.depth--;
      return result;
    } catch (error) {
      this.discard();
      this.depth--;
      if (this.connected) {
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
      this.flush();
      this.statementsRun++;
      this.roundTrips++;
      this.connection.execParams(`DECLARE ${name} NO SCROLL CURSOR FOR ${text}`, params);
      this.check(text);
      open = true;
      for (;;) {
        this.flush();
        this.statementsRun++;
        this.roundTrips++;
        this.connection.exec(`FETCH ${FETCH_ROWS} FROM ${name}`);
        this.check(text);
        const rows = rowsOf(this.connection, pluck, aliases);
        if (rows.length === 0) break;
        yield* rows;
      }
    } finally {
      this.cursors--;
      if (own) {
        this.discard();
        if (this.connected) this.connection.exec('COMMIT');
      } else if (open && this.connected) {
        this.flush(); // writes made while iterating belong to the enclosing transaction
        this.connection.exec(`CLOSE ${name}`);
      }
    }
  }

  /**
   * SQLite's tuning knobs mean nothing here, except `synchronous`: whether a commit waits for the disk. SQLite's
   * NORMAL (or OFF) is PostgreSQL's `synchronous_commit = off` (a crash of the server may lose the last commits,
   * never corrupts, and a later synchronous commit makes every earlier one durable too); FULL is `on`.
   */
  pragma(source: string): undefined {
    const synchronous = /^\s*synchronous\s*=\s*(\w+)\s*$/i.exec(source)?.[1]?.toUpperCase();
    if (synchronous === 'OFF' || synchronous === 'NORMAL' || synchronous === '0' || synchronous === '1')
      this.exec('SET synchronous_commit = off');
    else if (synchronous === 'FULL' || synchronous === 'EXTRA' || synchronous === '2' || synchronous === '3')
      this.exec('SET synchronous_commit = on');
    return undefined;
  }

  close(): void {
    if (!this.connected) return;
    this.connected = false;
    this.connection.finish();
    closedClients.push(this.connection);
  }
}
