/**
 * Worker thread that writes the sending loop's group commits (see writer.ts): each COMMIT, with its fsync of the
 * WAL (`synchronous = FULL`), happens here; the loop sends a batch's requests only after this thread answered
 * that the batch is committed.
 */
import type { StoreLocation } from '../store/location.js';
import { openDatabase } from '../store/store.js';
import { serveWorker, type WorkerPort } from '../worker-process.js';
import { Ledger } from './ledger.js';
import { type PackedBatch, unpackBatch } from './writer.js';

// a thread, or on PostgreSQL (libpq needs a main thread of its own) a child process
serveWorker((port: WorkerPort, { location, cid }: { location: StoreLocation; cid: number }) => {
  const db = openDatabase(location);
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = FULL');
  // It updates rows in ledger order: a small page cache is enough. SQLite's default 2 MB one, refilled as the other
  // connections write, fragmented this thread's malloc arena to ~20 MB over a long campaign.
  db.pragma('cache_size = -512');
  db.pragma('wal_autocheckpoint = 0'); // checkpoints run in the checkpointer thread
  const ledger = new Ledger(db);
  type Request = { id: number; batch: PackedBatch; now: number };
  // Commits that arrive while one is being written (its fsync) wait here, then share ONE transaction: the group
  // commit adapts to the disk. Each still gets its own answer, only after the transaction is durable.
  let queued: Request[] = [];
  const writeQueued = () => {
    const requests = queued;
    queued = [];
    if (requests.length === 0) return;
    try {
      const oks = ledger.commitAll(
        cid,
        requests.map((r) => ({ batch: unpackBatch(r.batch), now: r.now })),
      );
      for (let i = 0; i < requests.length; i++) port.postMessage({ id: requests[i]!.id, ok: oks[i] });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      for (const r of requests) port.postMessage({ id: r.id, error: message });
    }
  };
  port.on('message', (m: Request | 'stop') => {
    if (m === 'stop') {
      writeQueued();
      db.close();
      port.postMessage({ id: -1, ok: true });
      port.close();
      return;
    }
    // the messages already received are all delivered before the immediate runs
    if (queued.length === 0) setImmediate(writeQueued);
    queued.push(m);
  });
});
