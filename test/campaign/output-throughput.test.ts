/** How a run tells people (and --json) that the API accepts less than the target, and why the sender is below it. */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { progressLine, SendOutput, throughputReason } from '../../src/cli/campaign-output.js';
import type { EngineNotice } from '../../src/lib/campaign/engine.js';
import type { Snapshot, Summary } from '../../src/lib/campaign/events.js';
import { emptyCounts } from '../../src/lib/campaign/ledger.js';
import { Io } from '../../src/lib/io/io.js';

afterEach(() => {
  vi.useRealTimers();
});

function io() {
  const stderr = new PassThrough();
  const stdout = new PassThrough();
  let err = '';
  let out = '';
  stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return {
    io: new Io({ stdin: new PassThrough(), stdout, stderr }, { env: { CI: 'true' } }),
    err: () => err,
    out: () => out,
  };
}

const snapshot = (): Snapshot => ({
  counts: { ...emptyCounts(), total: 1000, sent: 400, pending: 600 },
  outstanding: 2,
  rate: 10,
  targetRate: 20,
  ingesting: false,
});

const summary = (): Summary => ({
  campaign: 'c1',
  template: 'order_update',
  language: 'en_US',
  status: 'completed',
  exitCode: 0,
  counts: { ...emptyCounts(), total: 1000, sent: 1000 },
  failedByCode: [],
  skippedByReason: [],
  unknownRows: [],
  durationMs: 80_000,
  achievedRate: 12.5,
  targetRate: 20,
  requests: 1010,
  stop: null,
  report: null,
});

const limited: EngineNotice = {
  type: 'throughput',
  row: 0,
  code: 130429,
  title: 'Rate limit hit',
  rate: 10,
  target: 20,
  allowed: 10,
  refusedAbove: 10.4,
};

// rendering of engine notices and summaries only: nothing here opens a store, so one backend says it all
describe('throughput below the target, for people and for --json', () => {
  it('the progress line says what the API allowed and why the sender is below the target', () => {
    vi.useFakeTimers();
    const o = io();
    const out = new SendOutput(o.io, { json: false });
    out.startProgress(snapshot);
    out.notice(limited, 0);
    vi.advanceTimersByTime(10_000);
    expect(o.err()).toContain('· sending 10.0/s of 20/s: the API throttles above ~10/s (130429) ·');
    out.stopProgress();
    // a 'throughput' notice is not a warning line of its own
    expect(o.err().split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('a throttled notice warns (at most one line every 5 s), a storm is named as such', () => {
    const o = io();
    const out = new SendOutput(o.io, { json: false });
    out.notice({ ...limited, type: 'throttled', row: 7, waitMs: 300 }, 10_000);
    out.notice({ ...limited, type: 'throttled', row: 8, waitMs: 300 }, 11_000);
    const lines = o.err().split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('Throughput limit hit (130429 Rate limit hit): sending 10.0 msg/s of 20/s');
    expect(lines[0]).toContain('the API throttles above ~10/s (130429)');
    expect(lines[0]).toContain('(waiting 0.3 s)');
    out.notice({ ...limited, type: 'throttled', row: 9, rate: 2, storm: true, waitMs: 2000 }, 20_000);
    expect(o.err()).toContain('the API refuses every message at the moment (130429): backing off');
  });

  it('the summary says how much the API accepted; --json has it as `throttling` (null when never throttled)', async () => {
    const o = io();
    const out = new SendOutput(o.io, { json: false });
    out.notice(limited, 0);
    out.summary(summary());
    expect(o.out()).toContain(
      'Throughput: the API accepted about 10/s of the 20/s target (130429 Rate limit hit); the sender kept to what it accepts.',
    );
    // the limit lifted before the end
    const p = io();
    const back = new SendOutput(p.io, { json: true });
    back.notice(limited, 0);
    back.notice({ ...limited, rate: 20, allowed: 20, refusedAbove: null }, 30_000);
    back.summary(summary());
    await new Promise((r) => setImmediate(r));
    const json = JSON.parse(p.out().trim().split('\n').at(-1)!);
    expect(json.throttling).toEqual({
      code: 130429,
      title: 'Rate limit hit',
      target_rate: 20,
      allowed_rate: 20,
      lowest_allowed_rate: 10,
      refused_above: null,
      below_target_at_end: false,
    });
    const q = io();
    const never = new SendOutput(q.io, { json: true });
    never.summary(summary());
    await new Promise((r) => setImmediate(r));
    expect(JSON.parse(q.out().trim()).throttling).toBeNull();
    const r = io();
    const people = new SendOutput(r.io, { json: false });
    people.notice(limited, 0);
    people.notice({ ...limited, rate: 20, allowed: 20, refusedAbove: null }, 30_000);
    people.summary(summary());
    expect(r.out()).toContain(
      'Throughput: the API throttled above ~10/s for part of the run (130429 Rate limit hit); back at the 20/s target by the end.',
    );
  });

  it('at the target nothing is added to the progress line', () => {
    expect(throughputReason(null)).toBeNull();
    expect(
      throughputReason({
        target: 20,
        rate: 20,
        allowed: 20,
        refusedAbove: null,
        storm: false,
        code: 130429,
        title: 'x',
        lowest: 10,
      }),
    ).toBeNull();
    expect(progressLine({ ...snapshot(), rate: 19.8 }, false)).toContain('· 19.8/s (target 20.0) ·');
  });
});
