import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { Graph } from '../../src/lib/graph/graph.js';
import { parseGraphTime } from '../../src/lib/graph/time.js';
import { historyStatus } from '../../src/lib/history/queries.js';
import { listSyncRequests, requestSync, SyncRefusedError } from '../../src/lib/history/sync-requests.js';
import type { Store } from '../../src/lib/store/store.js';
import { describeBackends } from '../helpers/backends.js';
import { type FakeGraph, graphTime, startFakeGraph } from './fake-graph.js';

const HOUR = 3_600_000;

describeBackends('requestSync: once-only and 24-hour guards', (b) => {
  let fake: FakeGraph;
  let graph: Graph;
  let store: Store;
  let clock: FakeClock;
  const PN = '5000000000000001';
  beforeAll(async () => {
    fake = await startFakeGraph();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.calls.length = 0;
    fake.answer = {};
    fake.onboarded.clear();
    clock = new FakeClock(Date.UTC(2026, 0, 10, 12, 0, 0));
    graph = Graph.create({
      baseUrl: fake.url,
      apiVersion: 'v25.0',
      token: 'T',
      clock,
      retry: { maxAttempts: 1 },
    });
    store = b.open();
  });
  const ctx = () => ({ graph, db: store.db, clock });
  const posts = () => fake.calls.filter((c) => c.method === 'POST');

  it('parses Graph times', () => {
    expect(parseGraphTime('2023-08-22T19:05:53+0000')).toBe(Date.UTC(2023, 7, 22, 19, 5, 53));
    expect(parseGraphTime('nope')).toBeUndefined();
  });

  it('requests each type once, records request ids, refuses a second call locally (2593107)', async () => {
    fake.onboarded.set(PN, graphTime(clock.now() - 2 * HOUR));
    const c = await requestSync(ctx(), PN, 'smb_app_state_sync');
    expect(c).toEqual({ requestId: 'req-1', requestedAt: clock.now() });
    const h = await requestSync(ctx(), PN, 'history');
    expect(h.requestId).toBe('req-2');
    expect(posts().map((p) => p.body)).toEqual([
      { messaging_product: 'whatsapp', sync_type: 'smb_app_state_sync' },
      { messaging_product: 'whatsapp', sync_type: 'history' },
    ]);
    const err = await requestSync(ctx(), PN, 'history').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SyncRefusedError);
    expect((err as SyncRefusedError).code).toBe(2593107);
    expect((err as SyncRefusedError).message).toMatch(/already requested.*req-2/);
    expect((err as SyncRefusedError).hint).toMatch(/onboard/);
    expect(posts()).toHaveLength(2); // the API was not called again
    expect(listSyncRequests(store.db, PN).map((r) => [r.syncType, r.outcome, r.requestId])).toEqual([
      ['smb_app_state_sync', 'accepted', 'req-1'],
      ['history', 'accepted', 'req-2'],
    ]);
    const s = historyStatus(store.db, PN);
    expect(s.history).toMatchObject({ state: 'requested', requestId: 'req-2' });
    expect(s.windowEndsAt).toBe(clock.now() - 2 * HOUR + 24 * HOUR);
  });

  it('refuses after the 24-hour window from last_onboarded_time (2593108), without calling the API', async () => {
    fake.onboarded.set(PN, graphTime(clock.now() - 25 * HOUR));
    const err = await requestSync(ctx(), PN, 'history').catch((e: unknown) => e);
    expect((err as SyncRefusedError).code).toBe(2593108);
    expect((err as Error).message).toMatch(/24-hour sync window closed 1 h 0 min ago/);
    expect(posts()).toHaveLength(0);
  });

  it('uses onboardedAt when given (onboarding), and a new onboarding allows the syncs again', async () => {
    const first = clock.now();
    await requestSync(ctx(), PN, 'history', { onboardedAt: first });
    clock.advance(30 * HOUR);
    await expect(requestSync(ctx(), PN, 'history')).rejects.toMatchObject({ code: 2593107 });
    await expect(requestSync(ctx(), PN, 'smb_app_state_sync')).rejects.toMatchObject({ code: 2593108 });
    // offboarded and onboarded again: a new window and a new "once"
    await requestSync(ctx(), PN, 'history', { onboardedAt: clock.now() });
    expect(posts()).toHaveLength(2);
  });

  it('explains 2593107 / 2593108 when the API answers them, and records the refusal', async () => {
    fake.answer = { code: 2593107 };
    const e1 = await requestSync(ctx(), PN, 'smb_app_state_sync').catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(SyncRefusedError);
    expect((e1 as Error).message).toMatch(/already requested.*2593107/);
    fake.answer = { code: 2593108 };
    const e2 = await requestSync(ctx(), PN, 'history').catch((e: unknown) => e);
    expect((e2 as Error).message).toMatch(/24-hour window.*2593108/);
    expect((e2 as SyncRefusedError).hint).toMatch(/onboard/);
    expect(listSyncRequests(store.db, PN).map((r) => [r.outcome, r.errorCode])).toEqual([
      ['refused', 2593107],
      ['refused', 2593108],
    ]);
    const s = historyStatus(store.db, PN);
    expect(s.history.state).toBe('failed');
    expect(s.contacts.state).toBe('failed');
  });
});
