import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startWorkerThread } from '../heap.js';
import type { Db } from './sqlite.js';

/**
 * WAL checkpoints off the sending loop. SQLite checkpoints automatically inside a COMMIT once the WAL reaches
 * 1,000 pages, copying pages into the database file and fsyncing it: tens of milliseconds during which the
 * sending loop (synchronous better-sqlite3 on the main thread) would stand still. While a campaign sends, the
 * ledger connection's automatic checkpoints are off and a worker thread runs passive checkpoints every
 * `everyMs` instead. When the compiled worker is not available (TypeScript sources), nothing changes.
 */
export async function startCheckpointer(db: Db, dbPath: string, everyMs = 500): Promise<() => Promise<void>> {
  const file = fileURLToPath(new URL('./checkpointer.worker.js', import.meta.url));
  if (!existsSync(file) || dbPath === ':memory:') return async () => {};
  const worker = startWorkerThread(file, {
    workerData: { dbPath, everyMs },
    resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 2 },
  });
  worker.on('error', () => {});
  db.pragma('wal_autocheckpoint = 0');
  return async () => {
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
}
