import { expect, it } from 'vitest';
import { mutate, rng } from '../../bench/fixtures/webhook-mutators.mjs';
import { ingestPayload } from '../../src/lib/webhooks/storage.js';
import { describeBackends } from '../helpers/backends.js';
import {
  APP_SECRET,
  accountUpdate,
  contactSync,
  echo,
  historyChunk,
  inboundText,
  sign,
  statusPayload,
} from './fixtures.js';

/**
 * Seeded fuzz of the store's request path (Deliver 1 of #15): authentic payloads with one or more values replaced by
 * absurd ones (times out of range, huge and negative numbers, wrong types, deep nesting, long arrays). Every one
 * must be stored (or recognised as a redelivery), answered 200, and never throw; forged copies store nothing.
 * The mutators are shared with the fuzz bench over HTTP (bench/webhooks-fuzz.bench.mjs).
 */

function seeds(i: number): Record<string, unknown> {
  switch (i % 7) {
    case 0:
      return statusPayload(`wamid.f${i}`, 'delivered', { callback: `c${i}` });
    case 1:
      return inboundText(`wamid.f${i}`, '16505551234', 'STOP');
    case 2:
      return echo(`wamid.f${i}`, '16505551234', 'hello');
    case 3:
      return historyChunk(1, i, 10, [{ id: 't', messages: [{ id: `wamid.f${i}`, from: '1650' }] }]);
    case 4:
      return contactSync('add', '16505551234', 'Ana');
    case 5:
      return accountUpdate({ event: 'PARTNER_REMOVED', waba_info: { waba_id: '1' } }, 1739212624 + i);
    default:
      return statusPayload(`wamid.f${i}`, 'failed', { errorCode: 131026 });
  }
}

describeBackends('fuzz: mutated authentic payloads are always stored and answered 200', (b) => {
  // the parser's cases are the same on both engines; on PostgreSQL (a round trip per statement) the first 500
  const cases = b.backend === 'sqlite' ? 3000 : 500;
  it(`${cases} seeded cases: no throw, 200, raw kept, redelivery recognised, forgeries store nothing`, () => {
    const r = rng(15);
    const store = b.open();
    const count = (t: string) =>
      (store.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
    let payloads = 0;
    for (let i = 0; i < cases; i++) {
      const payload = mutate(seeds(i), r);
      const body = JSON.stringify(payload);
      const forged = ingestPayload(store.db, body, {
        signature: sign(body, 'forged'),
        appSecret: APP_SECRET,
      });
      expect(forged.httpStatus).toBe(401);
      const first = ingestPayload(store.db, body, { signature: sign(body), appSecret: APP_SECRET });
      expect(first.httpStatus, body.slice(0, 300)).toBe(200);
      if (first.outcome === 'stored') payloads++;
      for (const e of first.events) {
        if (e.occurredAt !== null) expect(Number.isNaN(new Date(e.occurredAt).getTime())).toBe(false);
      }
      const again = ingestPayload(store.db, body, { signature: sign(body), appSecret: APP_SECRET });
      expect(again).toMatchObject({ outcome: 'duplicate', httpStatus: 200, events: [] });
    }
    expect(count('webhook_payloads')).toBe(payloads);
    expect(payloads).toBeGreaterThan((cases * 2) / 3);
    expect(count('webhook_rejection_counts')).toBe(1);
    store.close();
    // a few seconds alone; more on a loaded machine (no timing is asserted)
  }, 120_000);
});
