// Receiver replicas on one PostgreSQL store (#19): three built `wacx webhooks serve` processes behind a
// round-robin balancer, a PostgreSQL server of its own with fsync on (a 200 means on disk), and the sandbox
// delivering 10,000 status events to the balancer with duplicate deliveries and its retries; one replica is
// SIGKILLed a third of the way in. Targets: every event stored exactly once, no event that the killed replica
// acknowledged is missing, and the figures (events/s until all are stored, deliveries, retries) printed. The events/s
// figure is bound by the sandbox's control API (one request per event); the receiver's own rate is measured by
// bench/webhooks.bench.mjs.
//   node bench/webhooks-replicas.bench.mjs [events=10000] [duplicate_rate=0.2]
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startPostgres } from '../scripts/postgres-server.mjs';
import { replicaEnv, startBalancer, startReplica, statusIds } from '../test/helpers/replicas.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = (path) => import(pathToFileURL(join(root, 'dist', path)).href);
const { startSandbox } = await dist('sandbox/server.js');
const { SEED } = await dist('sandbox/seed.js');
const { PostgresDatabase } = await dist('lib/store/postgres.js');
const { Store } = await dist('lib/store/store.js');

const EVENTS = Number(process.argv[2] ?? 10_000);
const DUPLICATE_RATE = Number(process.argv[3] ?? 0.2);
const REPLICAS = 3;
const BATCH = 100;

const server = await startPostgres({ fsync: true });
const cleanup = [];
let failed = false;
const check = (ok, what) => {
  process.stdout.write(`${ok ? 'ok  ' : 'FAIL'} ${what}\n`);
  if (!ok) failed = true;
};

try {
  const admin = new PostgresDatabase(server.url);
  admin.exec('CREATE DATABASE wacx_replicas');
  admin.close();
  const url = server.url.replace(/\/postgres$/, '/wacx_replicas');
  const store = Store.open({ backend: 'postgres', url });
  cleanup.push(() => store.close());
  const env = replicaEnv(url, { appSecret: SEED.app.secret, verifyToken: SEED.verifyToken });
  const replicas = await Promise.all(Array.from({ length: REPLICAS }, () => startReplica(env)));
  cleanup.push(async () => {
    for (const r of replicas) if (r.child.exitCode === null) r.child.kill('SIGTERM');
    await Promise.all(replicas.map((r) => r.exited));
  });
  const balancer = await startBalancer(replicas.map((r) => r.url));
  cleanup.push(() => balancer.close());
  const sandbox = await startSandbox({ webhookUrl: balancer.url, quiet: true });
  cleanup.push(() => sandbox.close());
  const control = async (path, body) => {
    const res = await fetch(`${sandbox.url}/__sandbox/${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`sandbox ${path}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };
  await control('webhooks/config', {
    concurrency: 24,
    duplicate_rate: DUPLICATE_RATE,
    retry_base_ms: 50,
    max_attempts: 10,
  });

  const stored = () => store.db.prepare('SELECT count(*) FROM message_statuses').pluck().get();
  const acknowledged = () => balancer.acknowledged.reduce((n, a) => n + a.length, 0);
  const started = performance.now();
  let killedAt = null;
  for (let i = 0; i < EVENTS; i += BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(BATCH, EVENTS - i) }, (_, j) =>
        control('emit', {
          field: 'messages',
          value: {
            statuses: [
              {
                id: `wamid.replicas.${i + j}`,
                status: 'delivered',
                timestamp: String(1_750_000_000 + i + j),
                recipient_id: `1650555${String((i + j) % 10_000).padStart(4, '0')}`,
              },
            ],
          },
        }),
      ),
    );
    if (killedAt === null && acknowledged() >= EVENTS / 3) {
      replicas[0].child.kill('SIGKILL');
      await replicas[0].exited;
      killedAt = acknowledged();
    }
  }
  await sandbox.flush();
  const deadline = Date.now() + 120_000;
  while (stored() < EVENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const seconds = (performance.now() - started) / 1000;

  const duplicates = store.db
    .prepare(
      'SELECT count(*) FROM (SELECT wamid FROM message_statuses GROUP BY wamid HAVING count(*) > 1) AS d',
    )
    .pluck()
    .get();
  const ids = new Set(store.db.prepare('SELECT wamid FROM message_statuses').pluck().all());
  const killedAcknowledged = balancer.acknowledged[0].flatMap(statusIds);
  const lost = killedAcknowledged.filter((id) => !ids.has(id));
  const records = await control('webhooks?field=messages');
  const copies = records.filter((r) => r.duplicate_of !== null).length;
  const retried = records.filter((r) => r.attempts > 1).length;

  process.stdout.write(
    `${EVENTS} events, ${acknowledged()} deliveries answered 200 (${copies} duplicate deliveries, ${retried} retried),` +
      ` per replica ${balancer.acknowledged.map((a) => a.length).join(' / ')}; replica 0 SIGKILLed after ${killedAt}\n` +
      `${(EVENTS / seconds).toFixed(0)} events/s stored (${seconds.toFixed(1)} s), PostgreSQL with fsync on\n`,
  );
  check(ids.size === EVENTS && stored() === EVENTS, `every event stored (${ids.size} of ${EVENTS})`);
  check(duplicates === 0, `each event stored once (${duplicates} stored twice)`);
  check(
    killedAt !== null && killedAcknowledged.length > 0,
    'a replica was SIGKILLed after acknowledging events',
  );
  check(
    lost.length === 0,
    `no event acknowledged by the killed replica lost (${lost.length} of ${killedAcknowledged.length})`,
  );
} catch (error) {
  process.stdout.write(`FAIL ${error.stack ?? error}\n`);
  failed = true;
} finally {
  for (const step of cleanup.reverse()) await step();
  server.stop();
}
process.exitCode = failed ? 1 : 0;
