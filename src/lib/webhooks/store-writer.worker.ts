/**
 * Worker thread of the webhook receiver's store (see store-writer.ts): its own connection to the database file
 * verifies, parses and stores each batch of bodies in one transaction, commits (fsync under synchronous = FULL)
 * and posts the results back, while the main thread keeps reading and answering requests.
 */
import { threadId as ownThreadId, parentPort } from 'node:worker_threads';
import { type Db, openDatabase } from '../store/store.js';
import { serveWorker, type WorkerPort } from '../worker-process.js';
import { writeBatch } from './batch.js';
import type { ToWriter, WriterConfig, WriterReply } from './store-writer.js';

// a thread, or on PostgreSQL (libpq needs a main thread of its own) a child process
serveWorker(serve);

function serve(port: WorkerPort, config: WriterConfig): void {
  const post = (m: WriterReply) => port.postMessage(m);
  let db: Db | undefined;
  try {
    db = openDatabase(config.location);
    // the same settings as the receiver's own connection (they are per connection): the busy timeout first
    db.pragma(`busy_timeout = ${config.pragmas.busyTimeout}`);
    db.pragma(`synchronous = ${config.pragmas.synchronous}`);
    db.pragma(`foreign_keys = ${config.pragmas.foreignKeys}`);
    db.pragma(`wal_autocheckpoint = ${config.pragmas.walAutocheckpoint}`);
    post({
      type: 'ready',
      threadId: parentPort ? ownThreadId : process.pid,
      synchronous: Number(db.pragma('synchronous', { simple: true })),
    });
  } catch (error) {
    db?.close();
    post({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    port.close();
    db = undefined;
  }
  const conn = db;
  if (conn) {
    const options = { appSecret: config.appSecret, maxBytes: config.maxBytes };
    port.on('message', (m: ToWriter) => {
      if (m.type === 'stop') {
        conn.close();
        post({ type: 'stopped' });
        port.close();
        return;
      }
      const items = m.items.map((i) =>
        i.kind === 'body' ? { ...i, raw: Buffer.from(i.raw.buffer, i.raw.byteOffset, i.raw.byteLength) } : i,
      );
      const report = writeBatch(conn, items, options);
      post({ type: 'done', id: m.id, results: report.results, commits: report.commits });
    });
  }
}
