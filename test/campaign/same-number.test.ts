/**
 * Several campaigns at once, as separate `wacx send` processes on one store (both backends): two campaigns on the
 * SAME number send one after the other (the second says what it waits for), so that the sandbox's record of the
 * number never holds more than its limit in any sliding one-second window and it never answers 130429; a campaign
 * on another number runs meanwhile. Needs the build (bin/wacx.js).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED } from '../../src/sandbox/seed.js';
import { BACKENDS, freshLocation } from '../helpers/postgres.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { dbEnv, orderSendArgs, requireBuild, spawnWacx, writeOrdersCsv } from './helpers.js';

const CLOUD = SEED.phoneNumbers.cloud.id;
const COEX = SEED.phoneNumbers.coex.id;
const LIMIT = 80;
/**
 * Each campaign is paced a little below the number's limit: a single run's own first second can arrive bunched at
 * the API (connections opening), which is the pacer's matter (bench/send-rate); two runs at once would still put
 * up to twice the rate in one second, far above the limit.
 */
const RATE = 70;
const ROWS = 120;

interface Accepted {
  at: number;
  to: string;
  callback_data: string;
}

/** The most messages in any one-second window (times in ms, sorted). */
function maxSlidingWindow(times: readonly number[]): number {
  let max = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[i] as number) - (times[j] as number) >= 1000) j++;
    max = Math.max(max, i - j + 1);
  }
  return max;
}

describe.each(BACKENDS)('campaigns on one number and on two, from separate processes (%s)', (backend) => {
  let sb: TestSandbox;
  beforeAll(async () => {
    requireBuild();
    sb = await startTestSandbox({ statusDelayMs: 5 });
    await sb.control(`numbers/${CLOUD}`, { mps: LIMIT, pair_limit: false });
    await sb.control(`numbers/${COEX}`, { pair_limit: false });
  });
  afterAll(async () => {
    await sb?.close();
  });

  it('two campaigns on one number never exceed its limit together; the second waits, naming the first', {
    timeout: 60_000,
  }, async () => {
    const env = sb.env(dbEnv(freshLocation(backend, join(sb.home, 'shared.db'))));
    const csv = writeOrdersCsv(sb.home, ROWS, 'same-number.csv');
    const onCloud = (id: string) => [
      ...orderSendArgs(csv),
      '--campaign',
      id,
      '--phone-number-id',
      CLOUD,
      '--rate',
      String(RATE),
      '--force',
    ];
    const runs = [spawnWacx(onCloud('north'), env), spawnWacx(onCloud('south'), env)];
    // a campaign on the other number, started meanwhile, is not held back
    const coex = spawnWacx([...orderSendArgs(csv), '--campaign', 'east', '--rate', '20', '--force'], env);
    const exits = await Promise.all([...runs, coex].map((r) => r.exit));
    expect(
      exits.map((e) => e.code),
      [...runs, coex].map((r) => r.stderr()).join('\n---\n'),
    ).toEqual([0, 0, 0]);

    const waited = runs.filter((r) => /Waiting for phone number/.test(r.stderr()));
    expect(waited).toHaveLength(1);
    expect(waited[0]!.stderr()).toMatch(
      new RegExp(
        `Waiting for phone number ${CLOUD}: campaign (north|south) is sending from it \\(pid \\d+ on `,
      ),
    );

    const cloud = await sb.control<Accepted[]>(`messages?phone_number_id=${CLOUD}`);
    expect(cloud).toHaveLength(2 * ROWS);
    expect(new Set(cloud.map((m) => m.callback_data)).size).toBe(2 * ROWS);
    const times = cloud.map((m) => m.at).sort((a, b) => a - b);
    expect(maxSlidingWindow(times)).toBeLessThanOrEqual(LIMIT);
    const counts = await sb.control<{ seconds: { throttled: number }[] }>(
      `send-counts?phone_number_id=${CLOUD}`,
    );
    expect(counts.seconds.reduce((n, s) => n + s.throttled, 0)).toBe(0);
    // one after the other: the second campaign's first message after the first campaign's last
    const span = (c: string) => {
      const t = cloud.filter((m) => m.callback_data.startsWith(`${c}:`)).map((m) => m.at);
      return [Math.min(...t), Math.max(...t)] as const;
    };
    const [first, second] = [span('north'), span('south')].sort((a, b) => a[0] - b[0]);
    expect(second![0]).toBeGreaterThan(first![1]);

    // the other number sent while the first number was busy
    const east = (await sb.control<Accepted[]>(`messages?phone_number_id=${COEX}`)).map((m) => m.at);
    expect(east).toHaveLength(ROWS);
    expect(Math.min(...east)).toBeLessThan(first![1]);
  });
});
