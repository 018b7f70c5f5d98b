/**
 * A message the API accepted can still fail: a `failed` status webhook (e.g. 131047, outside the 24-hour window,
 * which some accounts report after a 200). Reconciliation turns such a sent row into failed with that error, and
 * `wacx campaigns show` counts it among the failures with the code's meaning.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { meaningOfCode } from '../../src/lib/campaign/events.js';
import { Store } from '../../src/lib/store/store.js';
import { ingestPayload } from '../../src/lib/webhooks/storage.js';
import { SEED } from '../../src/sandbox/seed.js';
import { runCli } from '../helpers/cli.js';
import { BACKENDS, freshLocation } from '../helpers/postgres.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { countBy, type DbWhere, dbEnv, ledgerRows, orderSendArgs, phone, writeOrdersCsv } from './helpers.js';

const COEX = SEED.phoneNumbers.coex.id;

describe.each(BACKENDS)(
  'campaign reconciliation of a failed status (131047) after the API accepted the message (%s)',
  (backend) => {
    let sb: TestSandbox;
    let sink: Store;
    let dbPath: DbWhere;
    const cli = (args: string[]) => runCli(args, { env: sb.env(dbEnv(dbPath)) });

    beforeAll(async () => {
      sb = await startTestSandbox({
        statusDelayMs: 5,
        webhookSink: async (raw, headers) => {
          ingestPayload(sink.db, raw, {
            signature: headers['x-hub-signature-256'] ?? null,
            appSecret: SEED.app.secret,
          });
          return 200;
        },
      });
      dbPath = freshLocation(backend, join(sb.home, 'failed-status.db'));
      sink = Store.open(dbPath);
      // no status webhooks of the sandbox's own: this test sends the statuses
      await sb.control(`numbers/${COEX}`, { mps: 1000, pair_limit: false, statuses: false });
    });
    afterAll(async () => {
      sink.close();
      await sb.close();
    });

    it('a sent row with a failed 131047 status becomes failed; campaigns show gives the code and its meaning', async () => {
      const csv = writeOrdersCsv(sb.home, 3, 'orders-131047.csv');
      const r = await cli([...orderSendArgs(csv), '--rate', '500', '--force', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const campaign = JSON.parse(r.stdout.trim().split('\n').at(-1)!).campaign as string;
      expect(countBy(ledgerRows(dbPath, campaign), (x) => x.state)).toEqual({ sent: 3 });

      const msgs = await sb.control<{ to: string; callback_data: string }[]>('messages');
      const late = msgs.find((m) => m.to === phone(1))!;
      const wamid = ledgerRows(dbPath, campaign).find((x) => x.recipient === phone(1))!.wamid!;
      await sb.control('emit', {
        field: 'messages',
        value: {
          statuses: [
            {
              id: wamid,
              status: 'failed',
              timestamp: String(Math.floor(Date.now() / 1000)),
              recipient_id: late.to,
              biz_opaque_callback_data: late.callback_data,
              errors: [{ code: 131047, title: 'Re-engagement message', message: 'Re-engagement message' }],
            },
          ],
        },
      });
      await sb.flush();

      const rec = await cli(['campaigns', 'reconcile', campaign, '--json']);
      expect(rec.code, rec.stderr).toBe(0);
      expect(JSON.parse(rec.stdout)).toMatchObject({ checked: 0, still_unknown: 0, failed_after_accept: 1 });
      const rows = ledgerRows(dbPath, campaign);
      expect(countBy(rows, (x) => x.state)).toEqual({ sent: 2, failed: 1 });
      expect(rows.find((x) => x.state === 'failed')).toMatchObject({
        recipient: phone(1),
        error_code: 131047,
        wamid,
      });

      const show = JSON.parse((await cli(['campaigns', 'show', campaign, '--json'])).stdout);
      expect(show).toMatchObject({ sent: 2, failed: 1 });
      expect(show.failed_by_code).toEqual([
        { code: 131047, title: 'Re-engagement message', meaning: meaningOfCode(131047), count: 1 },
      ]);
      expect(show.failed_by_code[0].meaning).toContain('More than 24 h since the user last wrote');
      expect(show.failed_by_code[0].meaning).toContain(
        'report this failure later, by a failed status webhook',
      );
      const text = await cli(['campaigns', 'show', campaign]);
      expect(text.stdout).toContain('131047');

      // reconciling again changes nothing
      const again = await cli(['campaigns', 'reconcile', campaign, '--json']);
      expect(JSON.parse(again.stdout)).toMatchObject({ failed_after_accept: 0 });
      expect(countBy(ledgerRows(dbPath, campaign), (x) => x.state)).toEqual({ sent: 2, failed: 1 });
    });
  },
);
