import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { threadId } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/lib/store/store.js';
import {
  type RequestOutcome,
  startWebhookServer,
  type WebhookServer,
  type WebhookServerOptions,
} from '../../src/lib/webhooks/server.js';
import { MAX_BODY_BYTES, type StoredEvent } from '../../src/lib/webhooks/storage.js';
import { workerFile } from '../../src/lib/worker-file.js';
import { APP_SECRET, sign } from './fixtures.js';
import { post, signedStatus } from './load-client.js';

/**
 * The receiver's store writer thread: group commit off the main thread, and every guarantee of the receiver kept
 * (a 200 only after the commit of that body, 500 when the commit fails, a clean close, rejections counted,
 * each event stored once).
 */

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A raw HTTP/1.1 POST whose body is sent in two parts; `finish()` sends the rest. */
async function halfPost(port: number, body: string, signature: string) {
  const socket: Socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let answer = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    answer += d;
  });
  socket.on('error', () => {});
  const closed = once(socket, 'close');
  const half = Math.floor(body.length / 2);
  socket.write(
    `POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hub-Signature-256: ${signature}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`,
  );
  return {
    socket,
    finish: () => socket.write(body.slice(half)),
    answer: () => answer,
    closed,
  };
}

describe('webhook receiver: the store writer thread', () => {
  let dir: string;
  let store: Store;
  let servers: WebhookServer[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wacx-wh-writer-'));
    store = Store.open(join(dir, 'wacx.db'));
    servers = [];
  });
  afterEach(async () => {
    for (const s of servers) await s.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const start = async (extra: Partial<WebhookServerOptions> = {}) => {
    const s = await startWebhookServer({ db: store.db, appSecret: APP_SECRET, ...extra });
    servers.push(s);
    return s;
  };
  const count = (sql: string) => (store.db.prepare(sql).get() as { n: number }).n;

  it('commits in a worker thread, also when the receiver runs from its TypeScript source', async () => {
    const s = await start();
    // this module is src/lib/webhooks/server.ts; the thread is the compiled worker under dist/
    expect(
      workerFile(
        pathToFileURL(join(import.meta.dirname, '../../src/lib/webhooks/server.ts')).href,
        'store-writer',
      ),
    ).toBe(join(import.meta.dirname, '../../dist/lib/webhooks/store-writer.worker.js'));
    expect(s.stats.store.running).toBe(true);
    expect(s.stats.store.threadId).toBeGreaterThan(0);
    expect(s.stats.store.threadId).not.toBe(threadId);
    expect(s.stats.store.threadsStarted).toBe(1);
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => {
        const { body, signature } = signedStatus(`wamid.thread.${i}`);
        return post(s.url, body, { 'x-hub-signature-256': signature }, agent);
      }),
    );
    agent.destroy();
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(count('SELECT COUNT(*) AS n FROM message_statuses')).toBe(60);
    expect(s.stats.stored).toBe(60);
    expect(s.stats.store.commits).toBeGreaterThanOrEqual(1);
    // group commit: 60 concurrent bodies took fewer transactions than bodies (batches of what arrived together)
    expect(s.stats.store.batches).toBeLessThanOrEqual(60);
    expect(s.stats.store.largestBatch).toBeGreaterThanOrEqual(1);
    // the thread's own connection commits with synchronous = FULL (2), as the receiver's does
    expect(s.stats.store.synchronous).toBe(2);
  });

  it('answers 200 only after the commit: when the commit fails the answer is 500 and nothing is kept', async () => {
    // A deferred foreign key is checked at COMMIT: a status for wamid.fail.* makes the commit holding it fail.
    store.db.exec(`
      CREATE TABLE t_parent (id INTEGER PRIMARY KEY);
      CREATE TABLE t_child (pid INTEGER REFERENCES t_parent (id) DEFERRABLE INITIALLY DEFERRED);
      CREATE TRIGGER t_fail_commit AFTER INSERT ON message_statuses WHEN NEW.wamid LIKE 'wamid.fail.%'
      BEGIN INSERT INTO t_child (pid) VALUES (424242); END;
    `);
    const outcomes: RequestOutcome[] = [];
    const seenAtAnswer: number[] = [];
    const s = await start({
      onRequest: (o) => {
        outcomes.push(o);
        // what the store holds at the moment the answer is written
        seenAtAnswer.push(count('SELECT COUNT(*) AS n FROM message_statuses'));
      },
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 12 });
    // good and failing bodies together, so that they share batches: the failing ones must not take the others down
    const wamids = Array.from({ length: 24 }, (_, i) =>
      i % 3 === 0 ? `wamid.fail.${i}` : `wamid.good.${i}`,
    );
    const answers = await Promise.all(
      wamids.map((w) => {
        const { body, signature } = signedStatus(w);
        return post(s.url, body, { 'x-hub-signature-256': signature }, agent).then(
          (r) => [w, r.status] as const,
        );
      }),
    );
    for (const [w, status] of answers)
      expect([w, status]).toEqual([w, w.startsWith('wamid.fail.') ? 500 : 200]);
    const stored = (store.db.prepare('SELECT wamid FROM message_statuses').all() as { wamid: string }[]).map(
      (r) => r.wamid,
    );
    expect(stored.sort()).toEqual(wamids.filter((w) => w.startsWith('wamid.good.')).sort());
    expect(count('SELECT COUNT(*) AS n FROM t_child')).toBe(0);
    expect(count("SELECT COUNT(*) AS n FROM webhook_events WHERE dedupe_key LIKE '%wamid.fail.%'")).toBe(0);
    // every 200 was written when its event was already committed
    outcomes.forEach((o, i) => {
      if (o.status === 200) expect(seenAtAnswer[i]).toBeGreaterThanOrEqual(1);
    });
    expect(outcomes.filter((o) => o.status === 500).map((o) => o.outcome)).toEqual(Array(8).fill('rejected'));
    expect(s.stats.rejected).toBe(8);
    expect(s.stats.stored).toBe(16);
    // the store recovers: Meta's retry of a failed one is stored once the commit can succeed
    store.db.exec('DROP TRIGGER t_fail_commit');
    const { body, signature } = signedStatus('wamid.fail.0');
    expect((await post(s.url, body, { 'x-hub-signature-256': signature }, agent)).status).toBe(200);
    agent.destroy();
    expect(count("SELECT COUNT(*) AS n FROM message_statuses WHERE wamid = 'wamid.fail.0'")).toBe(1);
  });

  it('a store that cannot commit at all (locked by another writer) answers 500, acknowledging nothing', async () => {
    store.db.pragma('busy_timeout = 100'); // the thread's connection takes the receiver's settings
    const s = await start();
    const locker = Store.open(join(dir, 'wacx.db'));
    locker.db.exec('BEGIN IMMEDIATE');
    try {
      const { body, signature } = signedStatus('wamid.locked');
      const r = await post(s.url, body, { 'x-hub-signature-256': signature });
      expect(r.status).toBe(500);
    } finally {
      locker.db.exec('ROLLBACK');
      locker.close();
    }
    expect(count('SELECT COUNT(*) AS n FROM webhook_events')).toBe(0);
    expect(s.stats.stored).toBe(0);
    const { body, signature } = signedStatus('wamid.locked');
    expect((await post(s.url, body, { 'x-hub-signature-256': signature })).status).toBe(200);
    expect(count('SELECT COUNT(*) AS n FROM message_statuses')).toBe(1);
  });

  it('close() with requests in flight: every complete body is stored and answered, within the grace period, then the thread ends', async () => {
    const graceMs = 1500;
    const events: StoredEvent[] = [];
    const s = await start({ shutdownGraceMs: graceMs, onEvent: (e) => events.push(e) });
    const clients = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const { body, signature } = signedStatus(`wamid.closing.${i}`);
        return halfPost(s.port, body, signature);
      }),
    );
    // a stalled upload that never completes: cut at the end of the grace period, never stored
    const stalled = await halfPost(
      s.port,
      signedStatus('wamid.stalled').body,
      signedStatus('wamid.stalled').signature,
    );
    await until(() => s.stats.requests === 21);
    const t0 = Date.now();
    const closing = s.close().then(() => Date.now() - t0);
    // the rest of each body arrives after close() was called
    await new Promise((r) => setTimeout(r, 50));
    for (const c of clients) c.finish();
    await Promise.all(clients.map((c) => c.closed));
    for (const c of clients) {
      expect(c.answer()).toMatch(/^HTTP\/1\.1 200 /);
      expect(c.answer()).toMatch(/\r\nConnection: close\r\n/i);
    }
    const took = await closing;
    await stalled.closed;
    expect(stalled.answer()).toBe('');
    expect(took).toBeLessThan(graceMs + 1000);
    expect(s.stats.store.running).toBe(false);
    expect(s.stats.stored).toBe(20);
    const stored = (store.db.prepare('SELECT wamid FROM message_statuses').all() as { wamid: string }[]).map(
      (r) => r.wamid,
    );
    expect(stored.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `wamid.closing.${i}`).sort());
    expect(events.map((e) => e.kind)).toEqual(Array(20).fill('status'));
  });

  it('concurrent redeliveries, also to two receivers on one database: each event stored exactly once', async () => {
    const seen: StoredEvent[] = [];
    const a = await start({ onEvent: (e) => seen.push(e) });
    const b = await start({ onEvent: (e) => seen.push(e) });
    expect(a.stats.store.threadId).not.toBe(b.stats.store.threadId);
    const agent = new Agent({ keepAlive: true, maxSockets: 24 });
    const payloads = Array.from({ length: 40 }, (_, i) => signedStatus(`wamid.redelivered.${i}`));
    // each payload 3 times to each receiver, interleaved
    const deliveries = [0, 1, 2].flatMap(() =>
      payloads.flatMap(({ body, signature }) =>
        [a, b].map((s) => post(s.url, body, { 'x-hub-signature-256': signature }, agent)),
      ),
    );
    const answers = await Promise.all(deliveries);
    agent.destroy();
    expect(answers.filter((r) => r.status !== 200)).toEqual([]);
    expect(count('SELECT COUNT(*) AS n FROM webhook_events')).toBe(40);
    expect(count('SELECT COUNT(DISTINCT wamid) AS n FROM message_statuses')).toBe(40);
    expect(count('SELECT COUNT(*) AS n FROM message_statuses')).toBe(40);
    expect(count('SELECT COUNT(*) AS n FROM webhook_payloads')).toBe(40);
    expect(seen).toHaveLength(40);
    expect(new Set(seen.map((e) => e.key)).size).toBe(40);
    expect(a.stats.stored + b.stats.stored).toBe(40);
    expect(a.stats.duplicates + b.stats.duplicates).toBe(240 - 40);
    expect(a.stats.events + b.stats.events).toBe(40);
  });

  it('counts every refusal (unsigned, malformed, forged, too large) before answering it', async () => {
    const s = await start({ maxBytes: 4096 });
    const counts = () =>
      Object.fromEntries(
        (
          store.db.prepare('SELECT reason, count FROM webhook_rejection_counts').all() as {
            reason: string;
            count: number;
          }[]
        ).map((r) => [r.reason, r.count]),
      );
    const { body } = signedStatus('wamid.refused');
    expect((await post(s.url, body)).status).toBe(401);
    expect(counts()).toEqual({ missing_signature: 1 });
    expect((await post(s.url, body, { 'x-hub-signature-256': 'md5=00' })).status).toBe(401);
    expect((await post(s.url, body, { 'x-hub-signature-256': sign(body, 'forged') })).status).toBe(401);
    const big = 'x'.repeat(5000);
    const tooLarge = await post(s.url, big, { 'x-hub-signature-256': sign(big) }).catch((e: Error) => e);
    expect(tooLarge instanceof Error ? tooLarge.message : tooLarge.status).toBe(413);
    expect(counts()).toEqual({
      missing_signature: 1,
      malformed_signature: 1,
      bad_signature: 1,
      too_large: 1,
    });
    expect(s.stats.rejected).toBe(4);
    expect(count('SELECT COUNT(*) AS n FROM webhook_events')).toBe(0);
  });

  it('storeInThread: false (the benchmark yardstick) commits on the main thread, with the same answers', async () => {
    const s = await start({ storeInThread: false });
    expect(s.stats.store.threadId).toBeNull();
    expect(s.stats.store.synchronous).toBe(2);
    const { body, signature } = signedStatus('wamid.main-thread');
    expect((await post(s.url, body, { 'x-hub-signature-256': signature })).status).toBe(200);
    expect((await post(s.url, body, { 'x-hub-signature-256': signature })).status).toBe(200);
    expect((await post(s.url, body)).status).toBe(401);
    expect(count('SELECT COUNT(*) AS n FROM message_statuses')).toBe(1);
    expect([s.stats.stored, s.stats.duplicates, s.stats.rejected]).toEqual([1, 1, 1]);
  });

  it('an in-memory database is written on the main thread, with the same answers', async () => {
    const mem = Store.open(':memory:');
    const s = await startWebhookServer({ db: mem.db, appSecret: APP_SECRET });
    try {
      expect(s.stats.store.threadId).toBeNull();
      const { body, signature } = signedStatus('wamid.memory');
      expect((await post(s.url, body, { 'x-hub-signature-256': signature })).status).toBe(200);
      expect((mem.db.prepare('SELECT COUNT(*) AS n FROM message_statuses').get() as { n: number }).n).toBe(1);
      expect(s.stats.store.commits).toBe(1);
    } finally {
      await s.close();
      mem.close();
    }
  });

  it('accepts and parses a history chunk near the 3 MB limit in the thread', async () => {
    const s = await start();
    const messages = Array.from({ length: 2000 }, (_, i) => ({
      from: '16505551234',
      id: `wamid.big.${i}`,
      timestamp: String(1739230955 + i),
      type: 'text',
      text: { body: `${i} ${'h'.repeat(1400)}` },
    }));
    const body = JSON.stringify({
      object: 'whatsapp_business_account',
      entry: [
        {
          id: '1',
          changes: [
            {
              field: 'history',
              value: {
                messaging_product: 'whatsapp',
                metadata: { phone_number_id: '5' },
                history: [
                  {
                    metadata: { phase: 0, chunk_order: 1, progress: 10 },
                    threads: [{ id: '16505551234', messages }],
                  },
                ],
              },
            },
          ],
        },
      ],
    });
    expect(body.length).toBeGreaterThan(2.8 * 1024 * 1024);
    expect(body.length).toBeLessThanOrEqual(MAX_BODY_BYTES);
    expect((await post(s.url, body, { 'x-hub-signature-256': sign(body) })).status).toBe(200);
    expect(count('SELECT messages AS n FROM history_chunks')).toBe(2000);
    expect(count('SELECT COUNT(*) AS n FROM history_messages')).toBe(2000);
  });
});

describe('workerFile: where a worker thread is loaded from', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wacx-worker-file-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const touch = (path: string) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(path, '');
  };

  it('the compiled worker next to the module first, else its twin under dist/, else an error', () => {
    const moduleUrl = pathToFileURL(join(dir, 'src/lib/x/thing.ts')).href;
    expect(() => workerFile(moduleUrl, 'thing')).toThrow(
      /thing\.worker\.js is missing.*installation is incomplete/,
    );
    touch(join(dir, 'dist/lib/x/thing.worker.js'));
    expect(workerFile(moduleUrl, 'thing')).toBe(join(dir, 'dist/lib/x/thing.worker.js'));
    touch(join(dir, 'src/lib/x/thing.worker.js'));
    expect(workerFile(moduleUrl, 'thing')).toBe(join(dir, 'src/lib/x/thing.worker.js'));
    // a built module (dist/…/thing.js) uses the worker beside it
    expect(workerFile(pathToFileURL(join(dir, 'dist/lib/x/thing.js')).href, 'thing')).toBe(
      join(dir, 'dist/lib/x/thing.worker.js'),
    );
  });
});
