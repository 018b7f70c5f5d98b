import { startWorkerThread } from '../heap.js';
import type { StoreLocation } from '../store/location.js';
import { type Db, locationOf } from '../store/store.js';
import { workerFile } from '../worker-file.js';
import { startWorkerProcess, type WorkerProcess } from '../worker-process.js';
import { type BatchOptions, type WriteItem, type WriteResult, writeBatch } from './batch.js';
import type { RejectReason } from './rejections.js';

/**
 * The webhook receiver's store writer: group commit off the main thread. Each item (a received body, or a
 * refusal to count) is queued; a worker thread with its own connection to the database file writes everything
 * queued in ONE transaction, commits (under synchronous = FULL, an fsync) and sends back one result per item.
 * While it commits, the main thread keeps reading requests and queues the next batch: a batch is everything that
 * arrived during the previous commit. A result is given only after the commit that holds it, so an answer sent
 * on it (a 200) means on disk.
 *
 * An in-memory database cannot be opened by another connection: its items are written on the main thread, in
 * one transaction per turn of the event loop (`threadId` null in the stats), as they are when asked for
 * (`thread: false`, the benchmark's yardstick).
 */

/** Settings of the receiver's connection that the writer's own connection takes over (they are per connection). */
export interface WriterPragmas {
  busyTimeout: number;
  synchronous: number;
  foreignKeys: number;
  walAutocheckpoint: number;
}

export interface WriterConfig extends BatchOptions {
  location: StoreLocation;
  pragmas: WriterPragmas;
}

/**
 * A batch as posted to the thread (copied: a structured clone costs less than a transfer for bodies of a few KB,
 * measured). A body arrives as a Uint8Array; give each body a buffer of its own, exactly its size, since a clone
 * copies the whole buffer under a view.
 */
export type WireItem =
  | { kind: 'body'; raw: Uint8Array; signature: string | null; receivedAt: number }
  | { kind: 'rejection'; reason: RejectReason; at: number };

export type ToWriter = { type: 'batch'; id: number; items: WireItem[] } | { type: 'stop' };

export type WriterReply =
  | { type: 'ready'; threadId: number; synchronous: number }
  | { type: 'failed'; message: string }
  | { type: 'done'; id: number; results: WriteResult[]; commits: number }
  | { type: 'stopped' };

export interface StoreWriterStats {
  /** The writer thread's id (worker_threads threadId); null when the store is written on the main thread. */
  threadId: number | null;
  /** Batches written (each one transaction unless it had to be split). */
  batches: number;
  /** Transactions committed. */
  commits: number;
  /** The most items one batch held. */
  largestBatch: number;
  /** Writer threads started (more than 1 only if one ended unexpectedly and was replaced). */
  threadsStarted: number;
  /** Whether a writer thread is running now. */
  running: boolean;
  /** The `synchronous` setting the writing connection commits with (2: FULL, each commit fsync'ed). */
  synchronous: number | null;
}

export interface StoreWriter {
  readonly stats: StoreWriterStats;
  /** Queues an item; resolves with its result once the transaction holding it committed (null: not stored). */
  write(item: WriteItem): Promise<WriteResult>;
  /** Writes what is queued, then ends the thread (its connection closed). */
  close(): Promise<void>;
}

interface Pending {
  item: WriteItem;
  resolve: (r: WriteResult) => void;
}

function newStats(): StoreWriterStats {
  return {
    threadId: null,
    batches: 0,
    commits: 0,
    largestBatch: 0,
    threadsStarted: 0,
    running: false,
    synchronous: null,
  };
}

/**
 * Starts the writer for `db`: a thread for a database file (unless `thread` is false); rejects when the thread's
 * connection cannot be opened.
 */
export async function startStoreWriter(
  db: Db,
  options: BatchOptions,
  { thread = true }: { thread?: boolean } = {},
): Promise<StoreWriter> {
  const location = locationOf(db);
  if (!location || !thread) return mainThreadWriter(db, options);
  const pragma = (name: string) => Number(db.pragma(name, { simple: true }));
  const config: WriterConfig = {
    ...options,
    location,
    pragmas: {
      busyTimeout: pragma('busy_timeout'),
      synchronous: pragma('synchronous'),
      foreignKeys: pragma('foreign_keys'),
      walAutocheckpoint: pragma('wal_autocheckpoint'),
    },
  };
  // libpq needs a main thread of its own (see store/postgres.ts): on PostgreSQL the writer is a child process
  const writer = new ThreadWriter(
    workerFile(import.meta.url, 'store-writer'),
    config,
    location.backend === 'postgres',
  );
  await writer.start();
  return writer;
}

/** The writer thread, or child process: what the receiver needs of either. */
type WriterChannel = WorkerProcess;

class ThreadWriter implements StoreWriter {
  readonly stats = newStats();
  private worker: WriterChannel | null = null;
  private spawning: Promise<void> | null = null;
  private closed = false;
  private queue: Pending[] = [];
  private inflight: Pending[] | null = null;
  private scheduled = false;
  private nextId = 1;
  private stopping = false;
  private drained: (() => void) | null = null;

  constructor(
    private readonly file: string,
    private readonly config: WriterConfig,
    private readonly childProcess = false,
  ) {}

  async start(): Promise<void> {
    this.worker = await this.spawn();
  }

  private spawn(): Promise<WriterChannel> {
    return new Promise<WriterChannel>((resolve, reject) => {
      const worker: WriterChannel = this.childProcess
        ? startWorkerProcess(this.file, this.config)
        : (startWorkerThread(this.file, { workerData: this.config }) as unknown as WriterChannel);
      // (only our own listeners come off: a Worker keeps internal ones)
      const detach = () => {
        worker.off('error', failed);
        worker.off('exit', exited);
        worker.off('message', first);
      };
      const failed = (error: Error) => {
        detach();
        worker.on('error', () => {});
        void worker.terminate();
        reject(error);
      };
      const exited = (code: number) =>
        failed(new Error(`the store writer ended before it was ready (exit ${code})`));
      const first = (m: WriterReply) => {
        if (m.type !== 'ready') {
          failed(new Error(m.type === 'failed' ? m.message : `unexpected ${m.type}`));
          return;
        }
        detach();
        this.stats.threadId = m.threadId;
        this.stats.synchronous = m.synchronous;
        this.stats.threadsStarted++;
        this.stats.running = true;
        worker.on('message', (r: WriterReply) => this.onReply(r));
        worker.on('error', () => this.onEnd(worker));
        worker.on('exit', () => this.onEnd(worker));
        resolve(worker);
      };
      worker.on('error', failed);
      worker.on('exit', exited);
      worker.on('message', first);
    });
  }

  write(item: WriteItem): Promise<WriteResult> {
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.queue.push({ item, resolve });
      if (this.inflight === null && !this.scheduled) {
        // bodies complete in this turn of the event loop go together
        this.scheduled = true;
        setImmediate(() => {
          this.scheduled = false;
          this.pump();
        });
      }
    });
  }

  /** Sends everything queued as one batch, unless one is being written (then it goes when that one is done). */
  private pump(): void {
    if (this.inflight !== null || this.queue.length === 0) {
      if (this.inflight === null && this.queue.length === 0) this.drained?.();
      return;
    }
    const worker = this.worker;
    if (worker === null) {
      // the thread ended unexpectedly: a new one takes over
      this.spawning ??= this.spawn().then(
        (w) => {
          this.spawning = null;
          this.worker = w;
          this.pump();
        },
        () => {
          // the store cannot be opened now: what waits is answered as not stored (500, Meta retries)
          this.spawning = null;
          for (const p of this.queue.splice(0)) p.resolve(null);
          this.drained?.();
        },
      );
      return;
    }
    const batch = this.queue;
    this.queue = [];
    this.inflight = batch;
    const message: ToWriter = { type: 'batch', id: this.nextId++, items: batch.map((p) => p.item) };
    worker.postMessage(message);
  }

  private onReply(m: WriterReply): void {
    if (m.type !== 'done') return;
    const batch = this.inflight ?? [];
    this.inflight = null;
    this.stats.batches++;
    this.stats.commits += m.commits;
    if (batch.length > this.stats.largestBatch) this.stats.largestBatch = batch.length;
    // the next batch (what arrived during this commit) goes first, then this one is answered
    this.pump();
    batch.forEach((p, i) => {
      p.resolve(m.results[i] ?? null);
    });
  }

  /** The thread ended: expected once stopped; otherwise what it was writing is answered as not stored. */
  private onEnd(worker: WriterChannel): void {
    if (this.worker !== worker) return;
    this.worker = null;
    this.stats.running = false;
    if (this.stopping) return;
    const batch = this.inflight ?? [];
    this.inflight = null;
    for (const p of batch) p.resolve(null);
    this.pump();
  }

  async close(): Promise<void> {
    this.closed = true;
    // first everything queued or being written (each answered once committed)
    if (this.inflight !== null || this.queue.length > 0 || this.spawning !== null) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        if (this.inflight === null && !this.scheduled) this.pump();
      });
      this.drained = null;
    }
    this.stopping = true;
    const worker = this.worker;
    if (worker === null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void worker.terminate(), 2000);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.postMessage({ type: 'stop' } satisfies ToWriter);
    });
    this.worker = null;
    this.stats.running = false;
  }
}

/** An in-memory database: the same group commit, on the main thread, one transaction per turn of the event loop. */
function mainThreadWriter(db: Db, options: BatchOptions): StoreWriter {
  const stats = newStats();
  stats.synchronous = Number(db.pragma('synchronous', { simple: true }));
  let queue: Pending[] = [];
  const flush = () => {
    const batch = queue;
    queue = [];
    if (batch.length === 0) return;
    const report = writeBatch(
      db,
      batch.map((p) => p.item),
      options,
    );
    stats.batches++;
    stats.commits += report.commits;
    if (batch.length > stats.largestBatch) stats.largestBatch = batch.length;
    batch.forEach((p, i) => {
      p.resolve(report.results[i] ?? null);
    });
  };
  return {
    stats,
    write(item) {
      return new Promise((resolve) => {
        queue.push({ item, resolve });
        if (queue.length === 1) setImmediate(flush);
      });
    },
    async close() {
      flush();
    },
  };
}
