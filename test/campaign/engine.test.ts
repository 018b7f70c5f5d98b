import { describe, expect, it } from 'vitest';
import { Engine, type SendResult } from '../../src/lib/campaign/engine.js';
import type { PendingRow } from '../../src/lib/campaign/ledger.js';
import { Pacer, PairLimiter } from '../../src/lib/campaign/pacer.js';
import { defaultWindow, MAX_SEND_CONNECTIONS } from '../../src/lib/campaign/rate.js';
import { GraphApiError, UnknownOutcomeError } from '../../src/lib/graph/errors.js';
import { ingestPending, memoryCampaign, phone } from './helpers.js';
import { SimClock } from './sim-clock.js';

const apiError = (code: number, status = 400, type: string | null = 'OAuthException') =>
  new GraphApiError({ status, body: { code, message: `(#${code}) error`, ...(type ? { type } : {}) } });

interface Sent {
  row: number;
  at: number;
  stateAtSend: string;
  inFlightAtSend: number;
}

function setup(n: number) {
  const clock = new SimClock();
  const { store, ledger, cid } = memoryCampaign(clock.now());
  ingestPending(ledger, cid, n, clock.now());
  ledger.acquireLease(cid, { owner: 'me', host: 'h', pid: 1 }, clock.now(), 30_000, () => true);
  const state = store.db.prepare('SELECT state FROM campaign_rows WHERE cid = ? AND row = ?').pluck();
  const inFlight = store.db
    .prepare("SELECT COUNT(*) FROM campaign_rows WHERE cid = ? AND state = 'in_flight'")
    .pluck();
  const sent: Sent[] = [];
  let outstanding = 0;
  let maxOutstanding = 0;
  /** A transport answering after `latency` ms with what `answer` says. */
  const transport = (
    answer: (row: PendingRow, attempt: number, now: number) => SendResult | Error,
    latency = 20,
  ) => {
    const attempts = new Map<number, number>();
    return {
      send: async (row: PendingRow): Promise<SendResult> => {
        outstanding++;
        maxOutstanding = Math.max(maxOutstanding, outstanding);
        sent.push({
          row: row.row,
          at: clock.now(),
          stateAtSend: state.get(cid, row.row) as string,
          inFlightAtSend: inFlight.get(cid) as number,
        });
        const k = (attempts.get(row.row) ?? 0) + 1;
        attempts.set(row.row, k);
        const a = answer(row, k, clock.now());
        await clock.sleep(latency);
        outstanding--;
        return a instanceof Error ? { kind: 'error', error: a } : a;
      },
    };
  };
  const ok = (row: PendingRow): SendResult => ({
    kind: 'accepted',
    wamid: `wamid.${row.row}`,
    messageStatus: 'accepted',
  });
  const counts = () => ledger.counts(cid);
  const engine = (
    opts: Partial<ConstructorParameters<typeof Engine>[0]> &
      Pick<ConstructorParameters<typeof Engine>[0], 'transport'>,
  ) =>
    new Engine({
      ledger,
      cid: cid,
      clock,
      signal: new AbortController().signal,
      pacer: new Pacer(opts.pacer ? opts.pacer.target : 50, clock.now()),
      pair: new PairLimiter(),
      window: 16,
      leaseOwner: 'me',
      ingestDone: () => true,
      ...opts,
    });
  return {
    clock,
    store,
    ledger,
    cid: cid,
    sent,
    transport,
    ok,
    counts,
    engine,
    maxOutstanding: () => maxOutstanding,
    state,
  };
}

function perSecondMax(times: number[]): number {
  const t = [...times].sort((a, b) => a - b);
  let max = 0;
  let j = 0;
  for (let i = 0; i < t.length; i++) {
    while (t[i]! - t[j]! >= 1000) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

describe('Engine', () => {
  it('commits each row as in flight before its request leaves, sends every row once, and group-commits', async () => {
    const s = setup(3000);
    const e = s.engine({ transport: s.transport(s.ok), pacer: new Pacer(1000, s.clock.now()), window: 64 });
    const r = await s.clock.run(e.run());
    expect(r.stop).toBeNull();
    expect(s.sent).toHaveLength(3000);
    expect(new Set(s.sent.map((x) => x.row)).size).toBe(3000);
    expect(s.sent.every((x) => x.stateAtSend === 'in_flight')).toBe(true);
    expect(s.counts().sent).toBe(3000);
    // one transaction per batch of ~10 ms (intents + the outcomes that came back), not two per message
    expect(r.commits).toBeLessThan(3000 / 5);
  });

  it('with a writer thread, a request leaves only once its commit is confirmed', async () => {
    const s = setup(2000);
    const confirmed = new Set<number>();
    let maxPending = 0;
    let pending = 0;
    const committer = {
      commit: async (batch: Parameters<typeof s.ledger.commit>[1], now: number) => {
        pending++;
        maxPending = Math.max(maxPending, pending);
        await s.clock.sleep(4); // the fsync, in another thread
        const ok = s.ledger.commit(s.cid, batch, now);
        for (const row of batch.intents) confirmed.add(row);
        pending--;
        return ok;
      },
      close: async () => {},
    };
    let early = 0;
    const transport = s.transport(s.ok);
    const e = s.engine({
      transport: {
        send: (row) => {
          if (!confirmed.has(row.row)) early++;
          return transport.send(row);
        },
      },
      pacer: new Pacer(1000, s.clock.now()),
      window: 64,
      committer,
    });
    const r = await s.clock.run(e.run());
    expect(early).toBe(0);
    expect(s.sent.every((x) => x.stateAtSend === 'in_flight')).toBe(true);
    expect(s.counts().sent).toBe(2000);
    expect(maxPending).toBeGreaterThanOrEqual(1);
    // still paced: the commit latency does not slow the rate down (after the 200 ms slow start)
    const times = s.sent.map((x) => x.at).filter((t) => t >= s.sent[0]!.at + 300);
    const mean = ((times.length - 1) * 1000) / (times.at(-1)! - times[0]!);
    expect(mean).toBeGreaterThan(990);
    expect(perSecondMax(times)).toBeLessThanOrEqual(1000);
    expect(r.commits).toBeLessThan(2000 / 5);
    // the loop sleeps until the next thing is due (before: ~100 rounds per message, waking for a plan it refused)
    expect(r.loops).toBeLessThan(2000 * 3);
  });

  it('pacing off with a writer thread: the next batch waits in the client while one is on the wire, no connection idles for a commit', async () => {
    /** The connections' busy share once the run is under way, for a window, against a Pool of `connections`. */
    const busyShare = async (window: number, connections: number) => {
      const s = setup(6000);
      const committer = {
        commit: async (batch: Parameters<typeof s.ledger.commit>[1], now: number) => {
          await s.clock.sleep(2); // the fsync, in the writer thread
          return s.ledger.commit(s.cid, batch, now);
        },
        close: async () => {},
      };
      // undici's Pool: at most `connections` requests on the wire (5 ms each), the others queue in order
      let onWire = 0;
      const queue: (() => void)[] = [];
      let busySince = 0;
      let busyMs = 0;
      let measuring = false;
      const track = (delta: number) => {
        const now = s.clock.now();
        if (measuring) busyMs += (onWire / connections) * (now - busySince);
        busySince = now;
        onWire += delta;
      };
      let requests = 0;
      const transport = {
        send: async (row: PendingRow): Promise<SendResult> => {
          requests++;
          if (onWire >= connections) await new Promise<void>((go) => queue.push(go));
          track(1);
          await s.clock.sleep(5);
          track(-1);
          queue.shift()?.();
          return s.ok(row);
        },
      };
      const started = s.clock.now();
      let from = 0;
      let to = 0;
      const e = s.engine({ transport, pacer: new Pacer(1_000_000, started), window, committer });
      const run = e.run();
      // from the 2,000th request to the 5,000th: the steady state, not the ramp or the tail
      const watch = (async () => {
        while (requests < 2000) await s.clock.sleep(1);
        track(0);
        measuring = true;
        from = s.clock.now();
        while (requests < 5000) await s.clock.sleep(1);
        track(0);
        measuring = false;
        to = s.clock.now();
      })();
      await s.clock.run(Promise.all([run, watch]));
      expect(s.counts().sent).toBe(6000);
      return busyMs / (to - from);
    };
    const window = defaultWindow(1_000_000);
    expect(window).toBe(2 * MAX_SEND_CONNECTIONS);
    const twice = await busyShare(window, MAX_SEND_CONNECTIONS);
    expect(twice).toBeGreaterThan(0.95);
    // as many as the connections (the window before): every commit left connections idle
    const once = await busyShare(MAX_SEND_CONNECTIONS, MAX_SEND_CONNECTIONS);
    expect(once).toBeLessThan(twice - 0.1);
  });

  it('at low rates puts the outcomes in the same commit as the next intent', async () => {
    const s = setup(200);
    const e = s.engine({ transport: s.transport(s.ok), pacer: new Pacer(20, s.clock.now()) });
    const r = await s.clock.run(e.run());
    expect(s.counts().sent).toBe(200);
    expect(r.commits).toBeLessThanOrEqual(200 + 10);
  });

  it('never has more rows in flight than the window', async () => {
    const s = setup(200);
    const e = s.engine({
      transport: s.transport(s.ok, 500),
      pacer: new Pacer(1000, s.clock.now()),
      window: 12,
    });
    await s.clock.run(e.run());
    expect(s.maxOutstanding()).toBeLessThanOrEqual(12);
    expect(Math.max(...s.sent.map((x) => x.inFlightAtSend))).toBeLessThanOrEqual(12);
    expect(s.counts().sent).toBe(200);
  });

  it('paces at the target with absolute deadlines: mean within 1 %, no second above the target', async () => {
    const s = setup(1500);
    const e = s.engine({ transport: s.transport(s.ok, 35), pacer: new Pacer(50, s.clock.now()), window: 32 });
    await s.clock.run(e.run());
    const times = s.sent.map((x) => x.at);
    const mean = ((times.length - 1) * 1000) / (times.at(-1)! - times[0]!);
    expect(Math.abs(mean - 50) / 50).toBeLessThan(0.01);
    expect(perSecondMax(times)).toBeLessThanOrEqual(50);
  });

  it('counts a cold first request (new connection, cold code at both ends) as arriving just before its answer', async () => {
    const s = setup(60);
    const arrivals: number[] = [];
    const transport = {
      send: async (row: PendingRow): Promise<SendResult> => {
        await s.clock.sleep(arrivals.length === 0 ? 30 : 1); // on its way to the API
        arrivals.push(s.clock.now());
        await s.clock.sleep(2);
        return s.ok(row);
      },
    };
    const e = s.engine({ transport, pacer: new Pacer(20, s.clock.now()), window: 4 });
    await s.clock.run(e.run());
    expect(arrivals).toHaveLength(60);
    expect(perSecondMax(arrivals)).toBeLessThanOrEqual(20);
  });

  it('on a 10 s storm of 130429 pauses everything and slows down, then returns to the target; nothing is lost or doubled', async () => {
    const s = setup(2000);
    const t0 = s.clock.now();
    const stormFrom = t0 + 5000;
    const stormTo = t0 + 15_000;
    const accepted: number[] = [];
    const e = s.engine({
      transport: s.transport((row, _k, now) => {
        if (now >= stormFrom && now < stormTo) return apiError(130429);
        accepted.push(now);
        return s.ok(row);
      }, 30),
      pacer: new Pacer(40, t0),
      window: 32,
    });
    const r = await s.clock.run(e.run());
    expect(r.stop).toBeNull();
    expect(s.counts().sent).toBe(2000);
    const accRows = s.sent.filter((x) => x.at < stormFrom || x.at >= stormTo).map((x) => x.row);
    expect(new Set(accRows).size).toBe(accRows.length); // accepted once each
    // during the storm the sender backs off: far fewer attempts than at full rate
    const inStorm = s.sent.filter((x) => x.at >= stormFrom && x.at < stormTo).length;
    expect(inStorm).toBeLessThan(40 * 10 * 0.25);
    // after the storm the rate comes back to the target within ~20 s
    const late = accepted.filter((t) => t >= stormTo + 20_000 && t < stormTo + 30_000);
    expect(late.length / 10).toBeGreaterThan(40 * 0.95);
    expect(perSecondMax(accepted)).toBeLessThanOrEqual(40);
  });

  it('on 131056 only that recipient waits (4^n s, at least 6 s); the others continue', async () => {
    const s = setup(100);
    const e = s.engine({
      transport: s.transport((row, k) => (row.row === 5 && k <= 3 ? apiError(131056) : s.ok(row))),
      pacer: new Pacer(20, s.clock.now()),
    });
    await s.clock.run(e.run());
    const five = s.sent.filter((x) => x.row === 5).map((x) => x.at);
    expect(five).toHaveLength(4);
    expect(five[1]! - five[0]!).toBeGreaterThanOrEqual(6000);
    expect(five[2]! - five[1]!).toBeGreaterThanOrEqual(6000);
    expect(five[3]! - five[2]!).toBeGreaterThanOrEqual(16_000);
    // row 6 did not wait for row 5
    expect(s.sent.find((x) => x.row === 6)!.at - five[0]!).toBeLessThan(200);
    expect(s.counts().sent).toBe(100);
  });

  it('remembers for the pair limit only departures a row may follow with another attempt (recipients are unique)', async () => {
    const s = setup(100);
    const pair = new PairLimiter();
    let pairSizeAfterRefusal = -1;
    const e = s.engine({
      transport: s.transport((row, k) => {
        // row 50 was refused 20 ms after it left; row 55 leaves 100 ms after it
        if (row.row === 55) pairSizeAfterRefusal = pair.size;
        return row.row === 50 && k === 1 ? apiError(131056) : s.ok(row);
      }),
      pacer: new Pacer(50, s.clock.now()),
      pair,
    });
    await s.clock.run(e.run());
    expect(s.counts().sent).toBe(100);
    // the attempt refused for the pair limit counts; the 100 accepted sends, all within 6 s, left nothing behind
    expect(pairSizeAfterRefusal).toBe(1);
    expect(pair.size).toBe(0);
  });

  for (const code of [190, 131048, 132015, 132016, 133010, 368, 131042, 131031]) {
    it(`stops on ${code}: no new request, in-flight ones finish, the row stays pending`, async () => {
      const s = setup(200);
      const e = s.engine({
        transport: s.transport(
          (row) => (row.row === 20 ? apiError(code, code === 190 ? 401 : 400) : s.ok(row)),
          100,
        ),
        pacer: new Pacer(100, s.clock.now()),
        window: 8,
      });
      const r = await s.clock.run(e.run());
      expect(r.stop?.code).toBe(code);
      const errorAt = s.sent.find((x) => x.row === 20)!.at + 100;
      expect(s.sent.filter((x) => x.at > errorAt)).toHaveLength(0);
      expect(s.state.get(s.cid, 20)).toBe('pending');
      const c = s.counts();
      expect(c.in_flight).toBe(0);
      expect(c.sent + c.pending).toBe(200);
      expect(c.sent).toBe(s.sent.length - 1);
    });
  }

  it('never retries an unknown outcome; a 5xx with a Graph error body is retried, a 502 without one is unknown', async () => {
    const s = setup(30);
    const e = s.engine({
      transport: s.transport((row, k) =>
        row.row === 3
          ? new UnknownOutcomeError('socket hang up')
          : row.row === 4 && k === 1
            ? apiError(2, 503)
            : row.row === 5
              ? apiError(0, 502, null)
              : s.ok(row),
      ),
    });
    await s.clock.run(e.run());
    expect(s.sent.filter((x) => x.row === 3)).toHaveLength(1);
    expect(s.sent.filter((x) => x.row === 4)).toHaveLength(2);
    expect(s.sent.filter((x) => x.row === 5)).toHaveLength(1);
    expect(s.state.get(s.cid, 3)).toBe('unknown');
    expect(s.state.get(s.cid, 4)).toBe('sent');
    expect(s.state.get(s.cid, 5)).toBe('unknown');
  });

  it('fails a row on a row-level error (e.g. 131026) and goes on', async () => {
    const s = setup(10);
    const e = s.engine({ transport: s.transport((row) => (row.row === 2 ? apiError(131026) : s.ok(row))) });
    const r = await s.clock.run(e.run());
    expect(r.stop).toBeNull();
    expect(s.counts()).toMatchObject({ sent: 9, failed: 1 });
  });

  it('on abort stops planning, lets in-flight requests finish, and puts planned rows back to pending', async () => {
    const s = setup(500);
    const ac = new AbortController();
    const e = s.engine({
      transport: s.transport(s.ok, 300),
      pacer: new Pacer(100, s.clock.now()),
      window: 64,
      signal: ac.signal,
    });
    const at = s.clock.now() + 1000;
    void s.clock.sleep(1000).then(() => ac.abort());
    const r = await s.clock.run(e.run());
    expect(r.cancelled).toBe(true);
    expect(s.sent.every((x) => x.at <= at)).toBe(true);
    const c = s.counts();
    expect(c.in_flight).toBe(0);
    expect(c.sent).toBe(s.sent.length);
    expect(c.sent + c.pending).toBe(500);
  });

  it('skips a recipient who opted out meanwhile, at dispatch time', async () => {
    const s = setup(10);
    const e = s.engine({
      transport: s.transport(s.ok),
      blocked: (r) => (r === phone(3) ? 'opted_out: STOP' : null),
    });
    await s.clock.run(e.run());
    expect(s.state.get(s.cid, 4)).toBe('skipped');
    expect(s.sent.map((x) => x.row)).not.toContain(4);
  });

  it('stops when the lease was taken over by another run', async () => {
    const s = setup(400);
    const e = s.engine({
      transport: s.transport(s.ok),
      pacer: new Pacer(50, s.clock.now()),
      heartbeatMs: 500,
    });
    void s.clock
      .sleep(2000)
      .then(() =>
        s.ledger.acquireLease(
          s.cid,
          { owner: 'other', host: 'h2', pid: 2 },
          s.clock.now() + 60_000,
          30_000,
          () => false,
        ),
      );
    const r = await s.clock.run(e.run());
    expect(r.leaseLost).toBe(true);
    expect(s.sent.length).toBeLessThan(200);
    expect(s.counts().in_flight).toBe(0);
  });
});
