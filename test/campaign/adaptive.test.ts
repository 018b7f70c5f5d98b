/**
 * The engine against a model of the API's throughput limiter (fixed one-second windows, like the sandbox and Meta's
 * per-second count), with the simulated clock: the limit enforced below the target, lifted, and a storm of 130429.
 * The figures of the real thing (the CLI against the sandbox, wall clock) are in bench/send-throttle.bench.mjs.
 */
import { expect, it } from 'vitest';
import { Engine, type EngineNotice, type SendResult } from '../../src/lib/campaign/engine.js';
import { Ledger, type PendingRow } from '../../src/lib/campaign/ledger.js';
import { Pacer, PairLimiter } from '../../src/lib/campaign/pacer.js';
import { GraphApiError } from '../../src/lib/graph/errors.js';
import type { Store } from '../../src/lib/store/store.js';
import { describeBackends } from '../helpers/backends.js';
import { addCampaign, ingestPending } from './helpers.js';
import { SimClock } from './sim-clock.js';

const throttle = () =>
  new GraphApiError({
    status: 400,
    body: { code: 130429, message: '(#130429) Rate limit hit', type: 'OAuthException' },
  });

interface Answer {
  at: number;
  ok: boolean;
}

/**
 * A run of `rows` rows at `target` msg/s against an API whose limit is `limit(now)` msg/s (0 = a storm), with its
 * ledger in `store`.
 */
async function simulate(
  store: Store,
  target: number,
  rows: number,
  limit: (t: number) => number,
  latency = 15,
) {
  const clock = new SimClock();
  const t0 = clock.now();
  const ledger = new Ledger(store.db);
  const cid = addCampaign(ledger, t0);
  ingestPending(ledger, cid, rows, t0);
  ledger.acquireLease(cid, { owner: 'me', host: 'h', pid: 1 }, t0, 30_000, () => true);
  const answers: Answer[] = [];
  const notices: EngineNotice[] = [];
  let windowSecond = -1;
  let windowCount = 0;
  const transport = {
    send: async (row: PendingRow): Promise<SendResult> => {
      await clock.sleep(latency / 3); // on its way
      const now = clock.now();
      const second = Math.floor((now - t0) / 1000);
      if (second !== windowSecond) {
        windowSecond = second;
        windowCount = 0;
      }
      const l = limit(now - t0);
      const ok = windowCount < l;
      if (ok) windowCount++;
      answers.push({ at: now - t0, ok });
      await clock.sleep((latency * 2) / 3);
      return ok
        ? { kind: 'accepted', wamid: `wamid.${row.row}`, messageStatus: 'accepted' }
        : { kind: 'error', error: throttle() };
    },
  };
  const pacer = new Pacer(target, t0);
  const engine = new Engine({
    ledger,
    cid,
    // whole milliseconds, as Date.now() reads them: the ledger's time columns are integers (BIGINT on PostgreSQL)
    clock: { now: () => Math.floor(clock.now()), sleep: (ms, signal) => clock.sleep(ms, signal) },
    signal: new AbortController().signal,
    transport,
    pacer,
    pair: new PairLimiter(),
    window: 64,
    leaseOwner: 'me',
    ingestDone: () => true,
    onNotice: (n) => notices.push(n),
  });
  const result = await clock.run(engine.run());
  const count = (from: number, to: number, ok?: boolean) =>
    answers.filter((a) => a.at >= from && a.at < to && (ok === undefined || a.ok === ok)).length;
  return { result, answers, notices, counts: ledger.counts(cid), count, pacer };
}

describeBackends('adaptive throughput (simulated API, fake clock)', ({ backend, open }) => {
  // SQLite in memory, as fast as the engine; PostgreSQL (a round trip per commit) at one rate of each kind
  const ledgerStore = () => open(backend === 'sqlite' ? { backend, path: ':memory:' } : undefined);
  for (const advertised of backend === 'sqlite' ? [20, 80, 1000] : [20]) {
    it(`at ${advertised} msg/s against a limit of half that: finds it, wastes little, and returns when it lifts`, async () => {
      const enforced = advertised / 2;
      const liftAt = 60_000;
      const rows = Math.round(enforced * 60 + advertised * 40);
      const s = await simulate(ledgerStore(), advertised, rows, (t) => (t < liftAt ? enforced : advertised));
      expect(s.result.stop).toBeNull();
      expect(s.counts.sent).toBe(rows);
      const first = s.answers.find((a) => !a.ok)!.at;
      // from 15 s after the first 130429 until the lift
      const from = first + 15_000;
      const accepted = s.count(from, liftAt, true);
      const refused = s.count(from, liftAt, false);
      const rate = (accepted * 1000) / (liftAt - from);
      console.log(
        `${advertised}: first 130429 at ${first} ms; after +15 s ${rate.toFixed(2)} msg/s (${((rate / enforced) * 100).toFixed(1)} % of ${enforced}), refused ${refused}/${accepted + refused} (${((refused / (accepted + refused)) * 100).toFixed(2)} %)`,
      );
      expect(rate).toBeGreaterThanOrEqual(enforced * 0.9);
      expect(refused / (accepted + refused)).toBeLessThanOrEqual(0.02);
      // back to ≥ 95 % of the advertised rate within 30 s of the lift
      let back: number | null = null;
      for (let t = liftAt; t < liftAt + 40_000 && back === null; t += 1000)
        if (s.count(t, t + 1000, true) >= advertised * 0.95) back = t - liftAt;
      console.log(`${advertised}: back at ≥ 95 % ${back} ms after the lift`);
      expect(back).not.toBeNull();
      expect(back!).toBeLessThanOrEqual(30_000);
      // people are told why the rate is below the target
      const told = s.notices.filter((n) => n.type === 'throughput');
      const limited = told.filter((n) => n.refusedAbove !== null && typeof n.allowed === 'number').at(-1);
      expect(limited?.allowed).toBeGreaterThanOrEqual(enforced * 0.9);
      expect(limited?.allowed).toBeLessThanOrEqual(enforced * 1.05);
      expect(limited?.target).toBe(advertised);
      // … and when the target is reached again
      expect(told.at(-1)).toMatchObject({ rate: advertised, allowed: advertised, refusedAbove: null });
    });
  }

  for (const target of backend === 'sqlite' ? [20, 200, 1000] : [20]) {
    it(`at ${target} msg/s through a 10 s storm: ≤ 10 % within 2 s, back at ≥ 95 % within 10 s after it`, async () => {
      const stormFrom = 10_000;
      const stormTo = 20_000;
      const rows = target * 35;
      const s = await simulate(ledgerStore(), target, rows, (t) =>
        t >= stormFrom && t < stormTo ? 0 : target,
      );
      expect(s.counts.sent).toBe(rows);
      const perSecond: number[] = [];
      for (let t = stormFrom + 2000; t < stormTo; t += 1000) perSecond.push(s.count(t, t + 1000));
      console.log(`${target} storm attempts/s from +2 s: ${perSecond.join(' ')}`);
      expect(Math.max(...perSecond)).toBeLessThanOrEqual(target * 0.1);
      let back: number | null = null;
      for (let t = stormTo; t < stormTo + 15_000 && back === null; t += 1000)
        if (s.count(t, t + 1000, true) >= target * 0.95) back = t + 1000 - stormTo;
      console.log(`${target}: back at ≥ 95 % within ${back} ms after the storm`);
      expect(back).not.toBeNull();
      expect(back!).toBeLessThanOrEqual(10_000);
    });
  }
});
