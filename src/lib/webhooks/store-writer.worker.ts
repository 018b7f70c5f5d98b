/**
 * Worker thread of the webhook receiver's store (see store-writer.ts): its own connection to the database file
 * verifies, parses and stores each batch of bodies in one transaction, commits (fsync under synchronous = FULL)
 * and posts the results back, while the main thread keeps reading and answering requests.
 */
import { threadId as ownThreadId, parentPort, workerData } from 'node:worker_threads';
import { type Db, openDatabase } from '../store/store.js';
import { writeBatch } from './batch.js';
import type { ToWriter, WriterConfig, WriterReply } from './store-writer.js';

/**
 * The writer's end of the channel: the parent thread's port, or, on PostgreSQL (libpq needs a main thread of its
 * own), the IPC channel of a child process, whose first message is the configuration.
 */
interface WriterPort {
  postMessage(m: WriterReply): void;
  on(event: 'message', fn: (m: ToWriter) => void): void;
  close(): void;
}

function childProcessPort(): WriterPort {
  // the receiver went away (even SIGKILL closes the channel): what was not answered was never acknowledged
  process.on('disconnect', () => process.exit(0));
  return {
    postMessage: (m) => process.send?.(m),
    on: (_event, fn) => process.on('message', (m) => fn(m as ToWriter)),
    close: () => process.disconnect(),
  };
}

if (parentPort) serve(parentPort, workerData as WriterConfig);
else if (process.send)
  process.once('message', (m: { type: 'config'; config: WriterConfig }) =>
    serve(childProcessPort(), m.config),
  );

function serve(port: WriterPort, config: WriterConfig): void {
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
