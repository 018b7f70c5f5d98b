import { it } from 'vitest';
import { Engine } from '../../src/lib/campaign/engine.js';
import { Ledger } from '../../src/lib/campaign/ledger.js';
import { Pacer, PairLimiter } from '../../src/lib/campaign/pacer.js';
import { GraphApiError } from '../../src/lib/graph/errors.js';
import { Store } from '../../src/lib/store/index.js';
import { SimClock } from './sim-clock.js';
it('dbg', async () => {
  const clock = new SimClock();
  const store = Store.open(':memory:');
  const ledger = new Ledger(store.db);
  const c = ledger.create({ id: 'c1', template: 't', language: 'en', phoneNumberId: '1', wabaId: '2', csvPath: '/x', csvSize: 0, csvMtime: 0, csvSha256: '', options: { map: [], phoneColumn: 'p', defaultCountry: null, exclude: null, slots: [] }, templateSnapshot: {} as never }, clock.now());
  ledger.ingestBatch(c.cid, Array.from({length: 60}, (_, i) => i + 1).map((i) => ({ row: i, line: i, recipient: `4915100000${i}`, input: null, params: '[]', state: 'pending' as const, reason: null })), { offset: 0, line: 0, nextRow: 61, done: true }, clock.now());
  ledger.acquireLease(c.cid, { owner: 'me', host: 'h', pid: 1 }, clock.now(), 30000, () => true);
  const t0 = clock.now(); const k = new Map<number, number>();
  const e = new Engine({ ledger, cid: c.cid, clock, signal: new AbortController().signal, pacer: new Pacer(100, t0), pair: new PairLimiter(), window: 8, leaseOwner: 'me', ingestDone: () => true,
    transport: { send: async (row) => { const n = (k.get(row.row) ?? 0) + 1; k.set(row.row, n); console.log('send', row.row, n, clock.now() - t0); await clock.sleep(100); return row.row === 20 ? { kind: 'error', error: new GraphApiError({ status: 401, body: { code: 190, message: 'x', type: 'OAuthException' } }) } : { kind: 'accepted', wamid: 'w', messageStatus: null }; } } });
  const r = await clock.run(e.run());
  console.log(r, ledger.counts(c.cid), clock.now() - t0);
});
