import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/lib/store/store.js';
import { SEED } from '../../src/sandbox/seed.js';
import { orderSendArgs, phone, writeOrdersCsv } from '../campaign/helpers.js';
import { runCli } from '../helpers/cli.js';
import { freshPostgresUrl } from '../helpers/postgres.js';
import {
  type Balancer,
  type Replica,
  replicaEnv,
  startBalancer,
  startReplica,
  statusIds,
} from '../helpers/replicas.mjs';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';

/**
 * Receiver replicas (#19): three `wacx webhooks serve` processes on one PostgreSQL database behind a round-robin
 * balancer; the sandbox delivers to the balancer, with duplicate deliveries and its retries. Runs the built CLI
 * (`npm test` builds first; run `npm run build` before running this file alone).
 */

const EVENTS = 3000;
const KILL_AFTER = 1000;

async function until(cond: () => boolean, what: string, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not reached in ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('webhooks serve replicas on one PostgreSQL store', () => {
  let url: string;
  let sb: TestSandbox;
  let replicas: Replica[];
  let balancer: Balancer;
  let store: Store;
  let env: NodeJS.ProcessEnv;
  const statusCount = () => store.db.prepare('SELECT count(*) FROM message_statuses').pluck().get() as number;

  beforeAll(async () => {
    url = freshPostgresUrl();
    // migrate once before the replicas start (they would also agree among themselves: see test/store)
    store = Store.open({ backend: 'postgres', url });
    env = replicaEnv(url, { appSecret: SEED.app.secret, verifyToken: SEED.verifyToken });
    replicas = await Promise.all([0, 1, 2].map(() => startReplica(env)));
    balancer = await startBalancer(replicas.map((r) => r.url));
    sb = await startTestSandbox({ webhookUrl: balancer.url });
    await sb.control('webhooks/config', {
      concurrency: 12,
      duplicate_rate: 0.2,
      retry_base_ms: 20,
      max_attempts: 10,
    });
  }, 60_000);

  afterAll(async () => {
    for (const r of replicas ?? []) if (r.child.exitCode === null) r.child.kill('SIGTERM');
    await Promise.all((replicas ?? []).map((r) => r.exited));
    await balancer?.close();
    await sb?.close();
    store?.close();
  });

  it('each event stored exactly once; a replica SIGKILLed mid-run loses no acknowledged event', async () => {
    const ids = Array.from({ length: EVENTS }, (_, i) => `wamid.replica.${i}`);
    const emit = async (id: string, i: number) =>
      sb.control('emit', {
        field: 'messages',
        value: {
          statuses: [
            { id, status: 'delivered', timestamp: String(1_750_000_000 + i), recipient_id: phone(i % 500) },
          ],
        },
      });
    let emitted = 0;
    const emitter = (async () => {
      for (let i = 0; i < ids.length; i += 50) {
        await Promise.all(ids.slice(i, i + 50).map((id, j) => emit(id, i + j)));
        emitted = i + 50;
      }
    })();
    const acknowledgedBy = (i: number) => (balancer.acknowledged[i] ?? []).length;
    await until(() => acknowledgedBy(0) + acknowledgedBy(1) + acknowledgedBy(2) >= KILL_AFTER, 'deliveries');
    const victim = replicas[0]!;
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    const killedAcknowledged = [...(balancer.acknowledged[0] ?? [])].flatMap(statusIds);
    await emitter;
    expect(emitted).toBeGreaterThanOrEqual(EVENTS);
    await sb.flush();
    await until(() => statusCount() >= EVENTS, 'every event in the store');

    const rows = store.db
      .prepare('SELECT wamid, count(*) AS n FROM message_statuses GROUP BY wamid')
      .all() as { wamid: string; n: number }[];
    expect(rows.filter((r) => r.n !== 1)).toEqual([]);
    expect(rows.map((r) => r.wamid).sort()).toEqual([...ids].sort());
    expect(
      store.db.prepare("SELECT count(*) FROM webhook_events WHERE field = 'messages'").pluck().get(),
    ).toBe(EVENTS);
    // what the killed replica answered 200 to was committed before the answer
    const stored = new Set(rows.map((r) => r.wamid));
    expect(killedAcknowledged.length).toBeGreaterThan(0);
    expect(killedAcknowledged.filter((id) => !stored.has(id))).toEqual([]);
    // the deliveries were spread over the replicas, some delivered twice, some retried after the kill
    for (const i of [0, 1, 2]) expect(acknowledgedBy(i)).toBeGreaterThan(0);
    const records = (await sb.control('webhooks?field=messages')) as { duplicate_of: string | null }[];
    expect(records.filter((r) => r.duplicate_of !== null).length).toBeGreaterThan(0);
    const bodies = balancer.acknowledged.flat().flatMap(statusIds);
    expect(bodies.length).toBeGreaterThan(EVENTS);
    // the survivors stop cleanly and report the events they stored
    for (const r of replicas.slice(1)) r.child.kill('SIGTERM');
    for (const r of replicas.slice(1)) expect((await r.exited).code).toBe(0);
    const reported = replicas
      .slice(1)
      .map((r) => r.lines.find((l) => l.type === 'stopped')?.events as number)
      .reduce((a, b) => a + b, 0);
    expect(reported).toBeLessThanOrEqual(EVENTS);
    expect(reported).toBeGreaterThan(0);
  }, 120_000);

  it('a STOP received by a replica is honoured by a campaign started in another process a moment later', async () => {
    // the replicas of the test before were stopped: a new one takes every place behind the balancer
    const fresh = await startReplica(env);
    replicas.push(fresh);
    balancer.targets.fill(fresh.url);
    await sb.control(`numbers/${SEED.phoneNumbers.coex.id}`, { mps: 1000, pair_limit: false });
    await sb.control('emit', {
      field: 'messages',
      value: { messages: [{ from: phone(2), type: 'text', text: { body: 'STOP' } }] },
    });
    await sb.flush();
    const csv = writeOrdersCsv(sb.home, 4, 'replica-orders.csv');
    const r = await runCli([...orderSendArgs(csv), '--json'], { env: sb.env({ WACX_DATABASE_URL: url }) });
    expect(r.code, r.stderr).toBe(0);
    const sent = ((await sb.control('messages?template=order_update')) as { to: string }[]).map((m) => m.to);
    expect(sent.sort()).toEqual([phone(0), phone(1), phone(3)].sort());
    const skipped = store.db
      .prepare("SELECT recipient, reason FROM campaign_rows WHERE state = 'skipped'")
      .all() as { recipient: string; reason: string }[];
    expect(skipped).toHaveLength(1);
    expect(skipped[0]?.reason).toMatch(/^opted_out/);
  }, 60_000);
});
