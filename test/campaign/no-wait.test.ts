/**
 * `--no-wait`: a cron job that finds its phone number busy with another campaign can end at once (exit 1, the
 * holder named, nothing sent) instead of waiting for it; on both backends. Needs the build (bin/wacx.js).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED } from '../../src/sandbox/seed.js';
import { BACKENDS, freshLocation } from '../helpers/postgres.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { dbEnv, orderSendArgs, requireBuild, spawnWacx, writeOrdersCsv } from './helpers.js';

const CLOUD = SEED.phoneNumbers.cloud.id;

describe.each(BACKENDS)('a busy phone number with --no-wait (%s)', (backend) => {
  let sb: TestSandbox;
  beforeAll(async () => {
    requireBuild();
    sb = await startTestSandbox({ statusDelayMs: 5 });
    await sb.control(`numbers/${CLOUD}`, { pair_limit: false });
  });
  afterAll(async () => {
    await sb?.close();
  });

  it('ends at once with exit 1, naming the campaign that holds the number, and sends nothing', {
    timeout: 60_000,
  }, async () => {
    const env = sb.env(dbEnv(freshLocation(backend, join(sb.home, 'shared.db'))));
    const csv = writeOrdersCsv(sb.home, 400, 'busy.csv');
    const other = writeOrdersCsv(sb.home, 5, 'other.csv');
    const send = (file: string, id: string, ...extra: string[]) => [
      ...orderSendArgs(file),
      '--campaign',
      id,
      '--phone-number-id',
      CLOUD,
      '--rate',
      '20',
      ...extra,
    ];
    const holder = spawnWacx(send(csv, 'north', '--json'), env);
    try {
      // the first campaign holds the number once it sends
      while (holder.rows() === 0 && !holder.exited()) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(holder.exited(), holder.stderr()).toBe(false);

      const refused = spawnWacx(send(other, 'south', '--no-wait'), env);
      const { code } = await refused.exit;
      expect(code, refused.stderr()).toBe(1);
      expect(refused.stderr()).toMatch(
        /Phone number \d+ is busy: campaign north is sending from it \(pid \d+ on /,
      );
      expect(refused.stderr()).not.toContain('Waiting for phone number');
      const messages = (await sb.control(`messages?phone_number_id=${CLOUD}`)) as { callback_data: string }[];
      expect(messages.filter((m) => m.callback_data?.startsWith('south'))).toEqual([]);
    } finally {
      holder.child.kill('SIGINT');
      await holder.exit;
    }
  });
});
