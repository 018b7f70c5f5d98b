/**
 * `wacx send --api` and the Marketing Messages API (meta-cloud-api.md §15.3), end to end on the sandbox: MARKETING
 * templates go through /marketing_messages when asked (or when the WABA is onboarded, with auto); a 131063 answer
 * (marketing blocked on /messages) stops the run without failing any row, and the same command with
 * --api marketing completes it, nobody twice.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SEED } from '../../src/sandbox/seed.js';
import { runCli } from '../helpers/cli.js';
import { BACKENDS, freshLocation } from '../helpers/postgres.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import {
  countBy,
  type DbWhere,
  dbEnv,
  ledgerRows,
  orderSendArgs,
  phone,
  saleSendArgs,
  writeOrdersCsv,
} from './helpers.js';

const COEX = SEED.phoneNumbers.coex.id;
describe.each(BACKENDS)('on %s', (backend) => {
  let sb: TestSandbox;
  let dbPath: DbWhere = '';
  let k = 0;

  beforeAll(async () => {
    sb = await startTestSandbox({ statusDelayMs: 5 });
  });
  afterAll(async () => {
    await sb?.close();
  });
  beforeEach(async () => {
    await sb.control('reset', {});
    await sb.control(`numbers/${COEX}`, { mps: 1000, pair_limit: false });
    dbPath = freshLocation(backend, join(sb.home, `marketing-${++k}.db`));
  });

  const cli = (args: string[]) => runCli(args, { env: sb.env(dbEnv(dbPath)) });
  interface Sent {
    to: string;
    endpoint: 'messages' | 'marketing_messages';
  }
  const accepted = () => sb.control<Sent[]>('messages');

  /** spring_sale (MARKETING) to `n` recipients: name → {{1}}, code → {{2}}, slug → its URL button. */
  function saleArgs(n: number, ...extra: string[]): string[] {
    const lines = ['phone,name,code,slug'];
    for (let i = 0; i < n; i++) lines.push(`+${phone(i)},Name ${i},C${i},s${i}`);
    const csv = join(sb.home, `sale-${k}.csv`);
    writeFileSync(csv, `${lines.join('\n')}\n`);
    return saleSendArgs(csv, '--rate', '200', '--force', ...extra);
  }

  describe('--api', () => {
    it('marketing: every message through /marketing_messages; auto: /messages until the WABA is onboarded', async () => {
      const r = await cli(saleArgs(5, '--api', 'marketing'));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain('Marketing Messages API');
      expect(countBy(await accepted(), (m) => m.endpoint)).toEqual({ marketing_messages: 5 });

      await sb.control('reset', {});
      await sb.control(`numbers/${COEX}`, { mps: 1000, pair_limit: false });
      dbPath = freshLocation(backend, join(sb.home, `marketing-${++k}.db`));
      expect((await cli(saleArgs(3))).code).toBe(0);
      expect(countBy(await accepted(), (m) => m.endpoint)).toEqual({ messages: 3 });

      await sb.control('reset', {});
      await sb.control(`numbers/${COEX}`, {
        mps: 1000,
        pair_limit: false,
        marketing_messages_onboarded: true,
      });
      dbPath = freshLocation(backend, join(sb.home, `marketing-${++k}.db`));
      expect((await cli(saleArgs(3, '--api', 'auto'))).code).toBe(0);
      expect(countBy(await accepted(), (m) => m.endpoint)).toEqual({ marketing_messages: 3 });
    });

    it('auto sends a UTILITY template through /messages even when onboarded; marketing refuses it (exit 2, nothing sent)', async () => {
      await sb.control(`numbers/${COEX}`, { marketing_messages_onboarded: true });
      const csv = writeOrdersCsv(sb.home, 2, `orders-${k}.csv`);
      const refused = await cli([...orderSendArgs(csv), '--api', 'marketing']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('--api');
      expect(refused.stderr).toContain('MARKETING templates only');
      expect(await accepted()).toHaveLength(0);
      const unknown = await cli([...orderSendArgs(csv), '--api', 'lite']);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('--api must be one of auto, messages, marketing');
      expect((await cli([...orderSendArgs(csv), '--api', 'auto'])).code).toBe(0);
      expect(countBy(await accepted(), (m) => m.endpoint)).toEqual({ messages: 2 });
    });

    it('131063 stops the run with the reason and the fix, no row failed; --api marketing then completes it once each', async () => {
      await sb.control(`numbers/${COEX}`, { marketing_blocked_on_messages: true });
      const args = saleArgs(20);
      const stopped = await cli([...args, '--json']);
      expect(stopped.code).toBe(1);
      const summary = JSON.parse(stopped.stdout.trim().split('\n').at(-1)!);
      expect(summary).toMatchObject({ status: 'stopped', failed: 0, sent: 0, stop: { code: 131063 } });
      expect(summary.stop.hint).toContain('--api marketing');
      // the rows read so far all wait (the rest of the file is read when the campaign resumes)
      const waiting = ledgerRows(dbPath);
      expect(waiting.length).toBeGreaterThan(0);
      expect(waiting.every((r) => r.state === 'pending' && r.attempts <= 1)).toBe(true);
      expect(await accepted()).toHaveLength(0);

      const resumed = await cli([...args, '--api', 'marketing']);
      expect(resumed.code, resumed.stderr).toBe(0);
      const sent = await accepted();
      expect(sent).toHaveLength(20);
      expect(new Set(sent.map((m) => m.to)).size).toBe(20);
      expect(countBy(sent, (m) => m.endpoint)).toEqual({ marketing_messages: 20 });
      expect(countBy(ledgerRows(dbPath), (r) => r.state)).toEqual({ sent: 20 });
    });
  });
});
