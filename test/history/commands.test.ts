import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import type { StoreLocation } from '../../src/lib/store/location.js';
import { Store } from '../../src/lib/store/store.js';
import { ingestPayload } from '../../src/lib/webhooks/storage.js';
import { describeBackends, storeEnv } from '../helpers/backends.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { APP_SECRET, contactSync, historyChunk, historyDeclined, PN, sign } from '../webhooks/fixtures.js';
import { type FakeGraph, graphTime, startFakeGraph } from './fake-graph.js';

const HOUR = 3_600_000;

describeBackends('wacx history sync / status', (b) => {
  let fake: FakeGraph;
  let home: ReturnType<typeof tempHome>;
  let env: NodeJS.ProcessEnv;
  let dbPath: StoreLocation;
  beforeAll(async () => {
    fake = await startFakeGraph();
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    home = tempHome();
    dbPath = b.location();
    fake.calls.length = 0;
    fake.answer = {};
    fake.onboarded.set(PN, graphTime(Date.now() - 3 * HOUR));
    env = {
      ...home.env,
      ...storeEnv(dbPath),
      WACX_GRAPH_URL: fake.url,
      WACX_TOKEN: 'EAATESTTOKEN000000000000000000',
      WACX_PHONE_NUMBER_ID: PN,
    };
  });
  afterEach(() => home.cleanup());

  const deliver = (payload: unknown) => {
    const store = Store.open(dbPath);
    const body = JSON.stringify(payload);
    ingestPayload(store.db, body, { signature: sign(body), appSecret: APP_SECRET });
    store.close();
  };

  it('sync: contacts first then history; a second run is refused locally with the reason (exit 1)', async () => {
    const r = await runCli(['history', 'sync'], { env });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/Contact sync requested \(request id req-\d+\)[\s\S]*History sync requested/);
    expect(r.stderr).toContain('wacx history status --watch');
    expect(
      fake.calls.filter((c) => c.method === 'POST').map((c) => (c.body as { sync_type: string }).sync_type),
    ).toEqual(['smb_app_state_sync', 'history']);
    const again = await runCli(['history', 'sync', '--history', '--json'], { env });
    expect(again.code).toBe(1);
    const out = JSON.parse(again.stdout) as {
      results: { sync_type: string; outcome: string; error: { code: number } }[];
    };
    expect(out.results).toEqual([
      expect.objectContaining({
        sync_type: 'history',
        outcome: 'refused',
        error: expect.objectContaining({ code: 2593107 }),
      }),
    ]);
    expect(fake.calls.filter((c) => c.method === 'POST')).toHaveLength(2);

    const status = await runCli(['history', 'status'], { env });
    expect(status.code).toBe(8);
    expect(status.stdout).toMatch(/requested\s+\d{4}-.*request id req-/);
    expect(status.stdout).toMatch(/sync window: 20 h \d+ min left/);
  });

  it('sync: explains 2593108 from the API and outside the window locally', async () => {
    fake.onboarded.set(PN, graphTime(Date.now() - 30 * HOUR));
    const r = await runCli(['history', 'sync', '--contacts'], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/24-hour sync window closed 6 h \d+ min ago/);
    expect(r.stderr).toMatch(/onboard/);
    expect(fake.calls.filter((c) => c.method === 'POST')).toHaveLength(0);
    fake.onboarded.set(PN, null);
    fake.answer = { code: 2593108 };
    // a fresh store (no onboarding time recorded): only the API can tell
    const r2 = await runCli(['history', 'sync', '--contacts'], {
      env: { ...env, ...storeEnv(b.location()) },
    });
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/outside the 24-hour window after onboarding \(2593108\)/);
  });

  it('sync: needs a phone number id and a token', async () => {
    const { WACX_PHONE_NUMBER_ID: _, ...noPn } = env;
    const r = await runCli(['history', 'sync'], { env: noPn });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('--phone-number-id');
    const { WACX_TOKEN: __, ...noToken } = env;
    expect((await runCli(['history', 'sync'], { env: noToken })).code).toBe(4);
  });

  it('status: exit 1 when nothing requested, 8 in progress, 0 complete; JSON keys always present', async () => {
    const none = await runCli(['history', 'status', '--json'], { env });
    expect(none.code).toBe(1);
    const j = JSON.parse(none.stdout);
    expect(j).toMatchObject({
      state: 'not_requested',
      exit_code: 1,
      onboarded_at: null,
      window_left_seconds: null,
    });
    expect(j.history.declined).toBeNull();
    expect(Object.keys(j.contacts).sort()).toEqual(
      [
        'added',
        'contacts',
        'last_event_at',
        'removed',
        'request_error',
        'request_id',
        'requested_at',
        'state',
      ].sort(),
    );
    deliver(contactSync('add', '16505550001', 'Ana'));
    deliver(historyChunk(0, 2, 100, [{ id: '16505550001', messages: [{ id: 'w2', from: '16505550001' }] }]));
    const mid = await runCli(['history', 'status'], { env });
    expect(mid.code).toBe(8);
    expect(mid.stdout).toContain('missing     chunk 1');
    expect(mid.stdout).toContain('1 added, 0 removed');
    deliver(historyChunk(0, 1, 50, [{ id: '16505550001', messages: [{ id: 'w1', from: '15550783881' }] }]));
    const done = await runCli(['history', 'status'], { env });
    expect(done.code).toBe(0);
    expect(done.stdout).toMatch(/state\s+complete — 100%/);
    expect(done.stdout).toMatch(
      /phase 0\s+day 0–1 before onboarding\s+2 chunks, 2 threads, 2 messages, progress 100%/,
    );
  });

  it('status: declined exits 1 and says what it means', async () => {
    deliver(historyDeclined());
    const r = await runCli(['history', 'status'], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('declined    2593109');
    expect(r.stdout).toContain('past messages will not be imported');
  });

  it('status --watch: plain lines without a TTY until done', async () => {
    deliver(historyChunk(0, 1, 30, [{ id: '1', messages: [{ id: 'a', from: '1' }] }]));
    const clock = new FakeClock(Date.now(), false);
    const watching = runCli(['history', 'status', '--watch', '--interval', '0.05'], { env, clock });
    await clock.sleeping();
    deliver(historyChunk(1, 2, 70, [{ id: '2', messages: [{ id: 'b', from: '2' }] }]));
    clock.advance(50);
    await clock.sleeping();
    deliver(historyChunk(2, 3, 100, [{ id: '3', messages: [{ id: 'c', from: '3' }] }]));
    clock.advance(50);
    const r = await watching;
    expect(r.code).toBe(0);
    expect(clock.sleeps).toEqual([50, 50]);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3); // one line per look, each one a change
    expect(lines[1]).toMatch(/history in progress 70%/);
    expect(lines[0]).toMatch(/history in progress 30%/);
    expect(lines.at(-1)).toMatch(/history complete 100%: 3 chunks, 3 messages/);
    expect(r.stdout).not.toContain('\x1b[');
  });

  it('status --watch: redraws on a TTY, NDJSON with --json, Ctrl+C exits 130', async () => {
    deliver(historyChunk(0, 1, 30, [{ id: '1', messages: [{ id: 'a', from: '1' }] }]));
    const ttyEnv = { ...env, CI: '' };
    const c1 = new AbortController();
    const ttyClock = new FakeClock(Date.now(), false);
    const tty = runCli(['history', 'status', '--watch', '--interval', '0.05'], {
      env: ttyEnv,
      tty: true,
      signal: c1.signal,
      clock: ttyClock,
    });
    await ttyClock.sleeping();
    ttyClock.advance(50);
    await ttyClock.sleeping();
    c1.abort();
    const t = await tty;
    expect(t.code).toBe(130);
    expect(t.stdout).toContain('\x1b[');
    expect(t.stdout.match(/History import/g)?.length).toBeGreaterThan(1);

    const c2 = new AbortController();
    const jsonClock = new FakeClock(Date.now(), false);
    const json = runCli(['history', 'status', '--watch', '--interval', '0.05', '--json'], {
      env,
      signal: c2.signal,
      clock: jsonClock,
    });
    await jsonClock.sleeping();
    jsonClock.advance(50);
    await jsonClock.sleeping();
    deliver(historyChunk(0, 2, 60, [{ id: '1', messages: [{ id: 'b', from: '1' }] }]));
    jsonClock.advance(50);
    await jsonClock.sleeping();
    c2.abort();
    const j = await json;
    expect(j.code).toBe(130);
    const objs = j.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { history: { progress: number } });
    expect(objs.map((o) => o.history.progress)).toEqual([30, 60]); // one line per change
  });

  it('status --watch --timeout: stops waiting when the time is up and exits 8 while still in progress', async () => {
    deliver(historyChunk(0, 1, 30, [{ id: '1', messages: [{ id: 'a', from: '1' }] }]));
    const clock = new FakeClock(Date.now());
    const started = clock.now();
    const r = await runCli(['history', 'status', '--watch', '--interval', '7', '--timeout', '1m'], {
      env,
      clock,
    });
    expect(r.code, r.stderr).toBe(8);
    expect(clock.now() - started).toBe(60_000);
    // every wait is the interval, the last one only what is left of the timeout
    expect(clock.sleeps).toEqual([...Array(8).fill(7000), 4000]);
    expect(r.stdout.trim().split('\n')).toHaveLength(1); // one line per change, and nothing changed
    expect(r.stderr).toContain(
      'Stopped watching after 1m (--timeout): the history import is not complete yet (in_progress).',
    );

    const json = await runCli(['history', 'status', '--watch', '--timeout', '10s', '--json'], {
      env,
      clock: new FakeClock(Date.now()),
    });
    expect(json.code).toBe(8);
    expect(JSON.parse(json.stdout.trim().split('\n').at(-1)!)).toMatchObject({
      state: 'in_progress',
      exit_code: 8,
    });
  });

  it('status --watch --timeout: a complete import exits 0 before the timeout', async () => {
    deliver(historyChunk(0, 1, 100, [{ id: '1', messages: [{ id: 'a', from: '1' }] }]));
    const clock = new FakeClock(Date.now());
    const r = await runCli(['history', 'status', '--watch', '--timeout', '1h'], { env, clock });
    expect(r.code, r.stderr).toBe(0);
    expect(clock.sleeps).toEqual([]);
  });

  it('status: rejects a bad --timeout, and --timeout without --watch', async () => {
    const bad = await runCli(['history', 'status', '--watch', '--timeout', 'soon'], { env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--timeout: expected a duration, got "soon"/);
    const alone = await runCli(['history', 'status', '--timeout', '5m'], { env });
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain('✗ --timeout only applies with --watch.');
  });

  it('status: rejects a bad --interval', async () => {
    const r = await runCli(['history', 'status', '--interval', '0'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--interval');
  });
});
