import { type ThreadKind, WorkerThreads } from '../threads.js';
import { type Db, locationOf } from './store.js';

export interface CheckpointerOptions {
  /** Checkpoints in a worker thread (a missing compiled worker is then an error); null: SQLite's own, in COMMITs. */
  threads?: WorkerThreads | null;
  everyMs?: number;
}

export const CHECKPOINTER_THREAD: ThreadKind = {
  moduleUrl: import.meta.url,
  name: 'checkpointer',
  resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
};

/** Stops the checkpointer; `threadId` is its thread's (null when SQLite checkpoints by itself). */
export type StopCheckpointer = (() => Promise<void>) & { readonly threadId: number | null };

/**
 * WAL checkpoints off the sending loop. SQLite checkpoints automatically inside a COMMIT once the WAL reaches
 * 1,000 pages, copying pages into the database file and fsyncing it: tens of milliseconds during which the
 * sending loop (synchronous better-sqlite3 on the main thread) would stand still. While a campaign sends, the
 * ledger connection's automatic checkpoints are off and a worker thread runs passive checkpoints every
 * `everyMs` instead. Without `threads` (and for an in-memory database), nothing changes.
 */
export async function startCheckpointer(
  db: Db,
  options: CheckpointerOptions = {},
): Promise<StopCheckpointer> {
  const { threads = new WorkerThreads(), everyMs = 500 } = options;
  const location = locationOf(db);
  // PostgreSQL checkpoints by itself, off every client's path
  if (!threads || location?.backend !== 'sqlite') return Object.assign(async () => {}, { threadId: null });
  const worker = threads.start(CHECKPOINTER_THREAD, { dbPath: location.path, everyMs });
  worker.on('error', () => {});
  db.pragma('wal_autocheckpoint = 0');
  const stop = async () => {
    db.pragma('wal_autocheckpoint = 1000');
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      worker.once('message', done);
      worker.once('exit', done);
      worker.postMessage('stop');
      setTimeout(done, 2000).unref();
    });
    await worker.terminate();
  };
  return Object.assign(stop, { threadId: worker.threadId });
}
