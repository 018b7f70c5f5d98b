import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/lib/store/store.js';
import { MAX_ITEMS_PER_ARRAY, parsePayload } from '../../src/lib/webhooks/parse.js';
import { ingestPayload } from '../../src/lib/webhooks/storage.js';
import { describeBackends } from '../helpers/backends.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { freePort, retryUntil } from '../helpers/net.js';
import { APP_SECRET, accountUpdate, envelope, PN, sign, statusPayload } from './fixtures.js';
import { post } from './load-client.js';

/** Deliver 1 of #15: every authentic body is acknowledged and stored raw, whatever it holds. */

function store(db: Store, body: string) {
  return ingestPayload(db.db, body, { signature: sign(body), appSecret: APP_SECRET });
}

function problemsOf(db: Store): { kind: string; problems: string | null; occurred_at: number | null }[] {
  return db.db.prepare('SELECT kind, problems, occurred_at FROM webhook_events ORDER BY id').all() as {
    kind: string;
    problems: string | null;
    occurred_at: number | null;
  }[];
}

function rawCount(db: Store): number {
  return (db.db.prepare('SELECT COUNT(*) AS n FROM webhook_payloads').get() as { n: number }).n;
}

describeBackends('out-of-range times are parse problems, not throws', (b) => {
  let db: Store;
  beforeEach(() => {
    db = b.open();
  });
  afterEach(() => db.close());

  it('a status timestamp of "99999999999999" is stored with a problem and no time', () => {
    const body = JSON.stringify(statusPayload('wamid.t1', 'delivered', { timestamp: 99999999999999 }));
    const r = store(db, body);
    expect(r.outcome).toBe('stored');
    expect(r.events[0]?.problems).toEqual([expect.stringMatching(/timestamp.*out of range/)]);
    expect(r.events[0]?.occurredAt).toBeNull();
    expect(problemsOf(db)[0]).toMatchObject({ kind: 'status', occurred_at: null });
    expect(JSON.parse(problemsOf(db)[0]?.problems ?? '[]')).toHaveLength(1);
    expect(rawCount(db)).toBe(1);
  });

  it('entry.time 1e308, a numeric 1e13 and an echo timestamp "-99999999999999" too', () => {
    const update = accountUpdate({ event: 'PARTNER_ADDED' }, 1e308);
    const numeric = statusPayload('wamid.t2', 'read');
    const st = (numeric.entry as { changes: { value: { statuses: Record<string, unknown>[] } }[] }[])[0]!
      .changes[0]!.value.statuses[0]!;
    st.timestamp = 1e13;
    const echo = envelope('smb_message_echoes', {
      metadata: { phone_number_id: PN },
      message_echoes: [{ id: 'wamid.e', to: '1650', timestamp: '-99999999999999', type: 'text', text: {} }],
    });
    for (const p of [update, numeric, echo]) {
      const r = store(db, JSON.stringify(p));
      expect(r.outcome).toBe('stored');
      expect(r.events[0]?.problems.length).toBeGreaterThan(0);
      for (const e of r.events) {
        if (e.occurredAt !== null) expect(Number.isNaN(new Date(e.occurredAt).getTime())).toBe(false);
      }
    }
    expect(problemsOf(db).every((e) => e.problems !== null)).toBe(true);
  });

  it('a history chunk whose messages all have bad times keeps 20 problems and a count of the rest', () => {
    const messages = Array.from({ length: 50 }, (_, i) => ({
      from: '1650',
      id: `wamid.h${i}`,
      timestamp: '99999999999999',
      type: 'text',
      text: { body: 'x' },
    }));
    const payload = envelope('history', {
      metadata: { phone_number_id: PN },
      history: [
        { metadata: { phase: 0, chunk_order: 1, progress: 10 }, threads: [{ id: '1650', messages }] },
      ],
    });
    const r = store(db, JSON.stringify(payload));
    expect(r.events[0]?.kind).toBe('history_chunk');
    expect(r.events[0]?.problems).toHaveLength(21);
    expect(r.events[0]?.problems[20]).toBe('and 30 more problems');
    const rows = db.db.prepare('SELECT COUNT(*) AS n FROM history_messages WHERE timestamp IS NULL').get();
    expect(rows).toEqual({ n: 50 });
  });

  it('a well-formed event has no problems', () => {
    const r = store(db, JSON.stringify(statusPayload('wamid.ok', 'sent')));
    expect(r.events[0]?.problems).toEqual([]);
    expect(problemsOf(db)[0]?.problems).toBeNull();
  });
});

describeBackends('extreme nesting and huge arrays', (b) => {
  let db: Store;
  beforeEach(() => {
    db = b.open();
  });
  afterEach(() => db.close());

  it('JSON nested 5,000 (and 100,000) levels deep is stored raw with a problem', () => {
    for (const depth of [5_000, 100_000]) {
      const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const body = `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"statuses":[${deep}]}}]}]}`;
      const r = store(db, body);
      expect(r.httpStatus).toBe(200);
      expect(r.outcome).toBe('stored');
      expect(r.events.some((e) => e.problems.length > 0)).toBe(true);
      // a redelivery is recognised
      expect(store(db, body).outcome).toBe('duplicate');
    }
    expect(rawCount(db)).toBe(2);
  });

  it('a deep unknown field is stored raw too', () => {
    const depth = 20_000;
    const body = `{"object":"x","entry":[{"id":"1","changes":[{"field":"new_field","value":${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}}]}]}`;
    const r = store(db, body);
    expect(r.outcome).toBe('stored');
    expect(rawCount(db)).toBe(1);
  });

  it(`parses at most ${MAX_ITEMS_PER_ARRAY} items per array; the rest stays raw with a problem`, () => {
    expect(MAX_ITEMS_PER_ARRAY).toBe(10_000);
    const payload = statusPayload('wamid.first', 'sent');
    const statuses = (payload.entry as { changes: { value: { statuses: unknown[] } }[] }[])[0]!.changes[0]!
      .value.statuses;
    for (let i = 0; i < 250_000; i++) statuses.push(0);
    const events = parsePayload(payload);
    expect(events.length).toBeLessThanOrEqual(MAX_ITEMS_PER_ARRAY + 1);
    const over = events.find((e) => e.problems.some((p) => /beyond the first 10000/.test(p)));
    expect(over?.kind).toBe('unparsed');
    expect(over?.problems[0]).toMatch(/240001 statuses beyond the first 10000/);
    const r = store(db, JSON.stringify(payload));
    expect(r.outcome).toBe('stored');
    expect(r.events[0]).toMatchObject({ kind: 'status', key: expect.stringContaining('wamid.first') });
  });
});

describe('webhooks serve survives authentic bodies with absurd content', () => {
  let home: ReturnType<typeof tempHome>;
  beforeEach(() => {
    home = tempHome();
  });
  afterEach(() => home.cleanup());

  it('answers 200 to absurd timestamps, prints them safely, and keeps running', async () => {
    const db = join(home.home, 'wacx.db');
    const controller = new AbortController();
    const env = { ...home.env, WACX_DB: db, WACX_APP_SECRET: APP_SECRET };
    const port = await freePort();
    const running = runCli(['webhooks', 'serve', '--port', String(port), '--json'], {
      env,
      signal: controller.signal,
    });
    const u = `http://127.0.0.1:${port}/webhook`;
    await retryUntil(() => fetch(u));
    const bodies = [
      JSON.stringify(statusPayload('wamid.big', 'delivered', { timestamp: 99999999999999 })),
      JSON.stringify(accountUpdate({ event: 'PARTNER_ADDED' }, 1e308)),
      JSON.stringify(statusPayload('wamid.fine', 'delivered')),
    ];
    for (const b of bodies) expect((await post(u, b, { 'x-hub-signature-256': sign(b) })).status).toBe(200);
    controller.abort();
    const r = await running;
    expect(r.code).toBe(0);
    const events = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((o) => o.type === 'event');
    expect(events).toHaveLength(3);
    expect(events[0]).toMatchObject({ occurred_at: null, problems: [expect.stringMatching(/out of range/)] });
    expect(events[2]).toMatchObject({ problems: [] });
    expect(r.stderr).toMatch(/problem: .*out of range/);
  });
});
