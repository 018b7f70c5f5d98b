/**
 * Sending with the consent register (issue #20): `--require-consent` skips the rows without an opt-in for the
 * template's scope, a revoked consent is skipped whatever the flags, `--exclude` records revokes, and a resumed
 * campaign keeps `--require-consent`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConsentChange, ConsentScope } from '../../src/lib/consent/register.js';
import { ConsentRegister } from '../../src/lib/consent/register.js';
import { Store } from '../../src/lib/store/store.js';
import { ingestPayload } from '../../src/lib/webhooks/storage.js';
import { SEED } from '../../src/sandbox/seed.js';
import { runCli } from '../helpers/cli.js';
import { BACKENDS, freshLocation } from '../helpers/postgres.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { countBy, type DbWhere, dbEnv, ledgerRows, orderSendArgs, phone, writeOrdersCsv } from './helpers.js';

const COEX = SEED.phoneNumbers.coex.id;
describe.each(BACKENDS)('on %s', (backend) => {
  let sb: TestSandbox;
  let db: DbWhere = '';
  let k = 0;

  /** Webhooks of the sandbox are ingested into the current test's store (like `wacx webhooks serve`). */
  let sink: Store | undefined;

  beforeAll(async () => {
    sb = await startTestSandbox({
      webhookSink: async (raw, headers) => {
        if (sink) {
          ingestPayload(sink.db, raw, {
            signature: headers['x-hub-signature-256'] ?? null,
            appSecret: SEED.app.secret,
          });
        }
        return 200;
      },
    });
  });
  afterAll(async () => {
    sink?.close();
    await sb?.close();
  });
  beforeEach(async () => {
    await sb.control('reset', {});
    await sb.control(`numbers/${COEX}`, { mps: 1000, pair_limit: false });
    db = freshLocation(backend, join(sb.home, `consent-${++k}.db`));
    sink?.close();
    sink = undefined;
  });

  const cli = (args: string[]) => runCli(args, { env: sb.env(dbEnv(db)) });

  function withRegister<T>(f: (r: ConsentRegister, store: Store) => T): T {
    const store = Store.open(db);
    try {
      return f(new ConsentRegister(store.db, () => Date.now()), store);
    } finally {
      store.close();
    }
  }

  /** Records consent changes for phone(i), one millisecond apart (in this order). */
  function record(changes: [number, ConsentScope, 'grant' | 'revoke'][]): void {
    const at = Date.now() - 60_000;
    withRegister((r) =>
      r.record(
        changes.map(
          ([i, scope, action], n): ConsentChange => ({
            subject: phone(i),
            scope,
            action,
            at: at + n,
            source: 'web form',
            proof: null,
          }),
        ),
      ),
    );
  }

  /** The sandbox's record of accepted messages: the indexes of the phones that got one. */
  async function reached(): Promise<number[]> {
    const msgs = await sb.control<{ to: string }[]>('messages');
    return msgs.map((m) => Number(m.to.replace(/\D/g, '').slice(-8)) - 10_000_000).sort((a, b) => a - b);
  }

  const summaryOf = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

  describe('wacx send with the consent register', () => {
    it('--require-consent sends exactly the rows with an opt-in for the scope; the summary and report say "no consent"', async () => {
      // order_update is UTILITY: utility and all grants count, a marketing grant does not, a later revoke wins
      record([
        [0, 'utility', 'grant'],
        [1, 'all', 'grant'],
        [2, 'marketing', 'grant'],
        [3, 'all', 'grant'],
        [3, 'utility', 'revoke'],
        [4, 'utility', 'grant'],
      ]);
      const csv = writeOrdersCsv(sb.home, 8, `rc${k}.csv`);
      const report = join(sb.home, `rc${k}-report.csv`);
      const r = await cli([...orderSendArgs(csv), '--require-consent', '--report', report]);
      expect(r.code, r.stderr).toBe(0);
      expect(await reached()).toEqual([0, 1, 4]);
      expect(r.stdout).toMatch(/5\s+no consent \(revoked, or no opt-in with --require-consent\)/);
      const rows = ledgerRows(db);
      expect(rows.filter((x) => x.state === 'skipped').map((x) => [x.row - 1, x.reason])).toEqual([
        [2, 'no_consent: no consent, no opt-in recorded for the template category (--require-consent)'],
        [3, 'no_consent: no consent, the recipient revoked it (consent register)'],
        [5, 'no_consent: no consent, no opt-in recorded for the template category (--require-consent)'],
        [6, 'no_consent: no consent, no opt-in recorded for the template category (--require-consent)'],
        [7, 'no_consent: no consent, no opt-in recorded for the template category (--require-consent)'],
      ]);
      const lines = readFileSync(report, 'utf8').trim().split('\n');
      expect(lines.filter((l) => l.includes('no_consent: no consent'))).toHaveLength(5);
    });

    it('a revoked consent is skipped without --require-consent; the others are sent as before', async () => {
      record([
        [1, 'all', 'revoke'],
        [2, 'marketing', 'revoke'], // another scope: a utility template still goes
        [3, 'all', 'revoke'],
        [3, 'utility', 'grant'], // granted again later
      ]);
      const csv = writeOrdersCsv(sb.home, 5, `rv${k}.csv`);
      const r = await cli([...orderSendArgs(csv), '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(await reached()).toEqual([0, 2, 3, 4]);
      expect(summaryOf(r.stdout).skipped_by_reason).toEqual([
        {
          reason: 'no_consent',
          meaning: 'no consent (revoked, or no opt-in with --require-consent)',
          count: 1,
        },
      ]);
    });

    it('--exclude records a revoke per listed recipient with its source; later campaigns skip them without the file', async () => {
      const exclude = join(sb.home, `ex${k}.txt`);
      writeFileSync(exclude, `+${phone(1)}\n+${phone(3)}\n`);
      const csv = writeOrdersCsv(sb.home, 4, `ex${k}.csv`);
      // a dry run records nothing
      const dry = await cli([...orderSendArgs(csv), '--exclude', exclude, '--dry-run']);
      expect(dry.code, dry.stderr).toBe(0);
      expect(withRegister((r) => [...r.list()])).toEqual([]);

      const r = await cli([...orderSendArgs(csv), '--exclude', exclude]);
      expect(r.code, r.stderr).toBe(0);
      expect(await reached()).toEqual([0, 2]);
      const history = withRegister((reg) => [1, 3].map((i) => reg.history(phone(i))));
      for (const h of history) {
        expect(h).toHaveLength(1);
        expect(h[0]).toMatchObject({ scope: 'all', action: 'revoke', source: `--exclude ${exclude}` });
      }
      // running it again does not record the same revokes twice
      await cli([...orderSendArgs(csv), '--exclude', exclude]);
      expect(withRegister((reg) => reg.history(phone(1)))).toHaveLength(1);

      await sb.control('reset', {});
      await sb.control(`numbers/${COEX}`, { mps: 1000, pair_limit: false });
      const again = await cli([...orderSendArgs(csv), '--campaign', `another-${k}`]);
      expect(again.code, again.stderr).toBe(0);
      expect(await reached()).toEqual([0, 2]);
    });

    it('campaigns resume keeps --require-consent', async () => {
      record(Array.from({ length: 20 }, (_, i): [number, ConsentScope, 'grant'] => [i, 'utility', 'grant']));
      const csv = writeOrdersCsv(sb.home, 30, `rs${k}.csv`);
      await sb.control('scenario', {
        name: 'template_paused',
        template: 'order_update',
        language: 'en_US',
        after_sends: 10,
      });
      const r = await cli([...orderSendArgs(csv), '--require-consent', '--max-in-flight', '1']);
      expect(r.code).toBe(1);
      expect(countBy(ledgerRows(db), (x) => x.state)).toEqual({ sent: 10, pending: 10, skipped: 10 });
      // the opt-in of two pending recipients disappears before the resume (a test-only edit of the register)
      withRegister((_r, store) =>
        store.db.prepare('DELETE FROM consent_events WHERE subject IN (?, ?)').run(phone(15), phone(16)),
      );
      const tpl = SEED.templates.find((t) => t.name === 'order_update' && t.language === 'en_US')!;
      await sb.control(`templates/${tpl.id}`, { status: 'APPROVED' });
      const id = (JSON.parse((await cli(['campaigns', 'list', '--json'])).stdout) as { id: string }[])[0]!.id;
      const resumed = await cli(['campaigns', 'resume', id]);
      expect(resumed.code, resumed.stderr).toBe(0);
      const sentTo = await reached();
      expect(sentTo).toHaveLength(18);
      expect(sentTo).not.toContain(15);
      expect(sentTo).not.toContain(16);
      expect(sentTo.every((i) => i < 20)).toBe(true);
      const skipped = ledgerRows(db).filter((x) => x.state === 'skipped');
      expect(skipped).toHaveLength(12);
    });

    it('a consent recorded for a BSUID covers the phone the store links to it', async () => {
      sink = Store.open(db);
      // an inbound message carrying both identities links them in the store
      await sb.control('emit', {
        field: 'messages',
        value: {
          messages: [
            { from: phone(2), from_user_id: 'US.7777', type: 'text', text: { body: 'hi' }, timestamp: '1' },
          ],
        },
      });
      await sb.flush();
      withRegister((r) =>
        r.record([
          {
            subject: 'US.7777',
            scope: 'all',
            action: 'grant',
            at: Date.now() - 1000,
            source: 'app',
            proof: null,
          },
        ]),
      );
      await sb.control('reset', {});
      await sb.control(`numbers/${COEX}`, { mps: 1000, pair_limit: false });
      const csv = writeOrdersCsv(sb.home, 4, `bs${k}.csv`);
      const r = await cli([...orderSendArgs(csv), '--require-consent']);
      expect(r.code, r.stderr).toBe(0);
      expect(await reached()).toEqual([2]);
    });
  });
});
