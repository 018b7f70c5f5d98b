/**
 * Worker thread that writes the sending loop's group commits (see writer.ts): each COMMIT, with its fsync of the
 * WAL (`synchronous = FULL`), happens here; the loop sends a batch's requests only after this thread answered
 * that the batch is committed. Between commits, at most every `checkpointEveryMs`, it checkpoints the WAL.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { type CommitBatch, Ledger } from './ledger.js';

const port = parentPort;
if (port) {
  const { dbPath, cid, checkpointEveryMs } = workerData as {
    dbPath: string;
    cid: number;
    checkpointEveryMs: number;
  };
  const db = new Database(dbPath);
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = FULL');
  db.pragma('wal_autocheckpoint = 0');
  const ledger = new Ledger(db);
  let lastCheckpoint = Date.now();
  let checkpointQueued = false;
  const checkpoint = () => {
    checkpointQueued = false;
    lastCheckpoint = Date.now();
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // busy or closing: next time
    }
  };
  /** After the commits already queued (setImmediate runs once the pending messages are handled). */
  const checkpointSoon = () => {
    if (checkpointQueued || Date.now() - lastCheckpoint < checkpointEveryMs) return;
    checkpointQueued = true;
    setImmediate(checkpoint);
  };
  const idle = setInterval(checkpointSoon, checkpointEveryMs);
  port.on('message', (m: { id: number; batch: CommitBatch; now: number } | 'stop') => {
    if (m === 'stop') {
      clearInterval(idle);
      checkpoint();
      db.close();
      port.postMessage({ id: -1, ok: true });
      port.close();
      return;
    }
    try {
      port.postMessage({ id: m.id, ok: ledger.commit(cid, m.batch, m.now) });
    } catch (error) {
      port.postMessage({ id: m.id, error: error instanceof Error ? error.message : String(error) });
    }
    checkpointSoon();
  });
}
