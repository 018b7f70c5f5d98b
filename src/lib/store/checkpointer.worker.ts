/**
 * Worker thread that checkpoints the ledger's WAL while a campaign sends (see checkpointer.ts): the copy of WAL
 * pages into the database file and its fsync happen here, never inside a commit of the sending loop.
 */
import Database from 'better-sqlite3';
import { serveWorker, type WorkerPort } from '../worker-process.js';

serveWorker((port: WorkerPort, { dbPath, everyMs }: { dbPath: string; everyMs: number }) => {
  const db = new Database(dbPath);
  db.pragma('busy_timeout = 5000');
  const timer = setInterval(() => {
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // busy or closing: next time
    }
  }, everyMs);
  port.on('message', (m) => {
    if (m !== 'stop') return;
    clearInterval(timer);
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch {
      // best effort
    }
    db.close();
    port.postMessage('stopped');
    port.close();
  });
});
