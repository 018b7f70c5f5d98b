/**
 * Campaign rows named by BSUID (meta-cloud-api.md §15.1), end to end on the sandbox: a BSUID is sent with
 * `recipient`, a phone with `to`; rows are keyed by the resolved identity (a phone the webhook store links to a
 * BSUID and that BSUID are one person); opt-outs and --exclude match either; authentication templates and API
 * versions before v24.0 refuse BSUID rows before anything is sent.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/lib/store/store.js';
import { runCli } from '../helpers/cli.js';
import { BACKENDS } from '../helpers/postgres.js';
import type { TestSandbox } from '../helpers/sandbox.js';
import { createAuthTemplate, graph } from '../sandbox/util.js';
import { type DbWhere, ledgerRows, orderSendArgs, phone, sandboxIntoStore } from './helpers.js';

describe.each(BACKENDS)('on %s', (backend) => {
  const sandbox = sandboxIntoStore('bsuid', backend);
  let sb: TestSandbox;
  let dbPath: DbWhere = '';
  let sink: Store | undefined;
  let k = 0;
  beforeAll(() => {
    sb = sandbox.sb;
  });
  beforeEach(() => {
    ({ dbPath, sink } = sandbox);
    k++;
  });

  const cli = (args: string[]) => runCli(args, { env: sandbox.env() });
  interface Sent {
    to: string | null;
    user_id: string | null;
    via: 'to' | 'recipient';
    callback_data: string;
  }
  const accepted = () => sb.control<Sent[]>('messages');

  /** An inbound text from a user (signed webhook into the store): with a phone, a BSUID, or both. */
  async function inbound(from: { phone?: string; bsuid?: string }, text: string, at: number): Promise<void> {
    await sb.control('emit', {
      field: 'messages',
      value: {
        messages: [
          {
            ...(from.phone ? { from: from.phone } : {}),
            ...(from.bsuid ? { from_user_id: from.bsuid } : {}),
            type: 'text',
            text: { body: text },
            timestamp: String(at),
          },
        ],
      },
    });
    await sb.flush();
  }

  function writeCsv(lines: string[]): string {
    const path = join(sb.home, `bsuid-${k}.csv`);
    writeFileSync(path, `${['phone,user_id,name,order', ...lines].join('\n')}\n`);
    return path;
  }

  describe('a CSV mixing phones and BSUIDs', () => {
    it('sends phones with `to` and BSUIDs with `recipient`, nobody twice; the report and --json name the identity', async () => {
      // the store has seen +…06 with US.7777 (so a row naming US.7777 is that phone), and +…08 lately only by BSUID
      await inbound({ phone: phone(6), bsuid: 'US.7777' }, 'hello', 1_750_000_000);
      await inbound({ phone: phone(8), bsuid: 'US.8888' }, 'hi', 1_750_000_000);
      await inbound({ bsuid: 'US.8888' }, 'hi again', 1_750_000_100);
      const csv = writeCsv([
        `+${phone(0)},,N0,A0`, // 2: phone
        `,US.1001,N1,A1`, // 3: BSUID (user_id column)
        `MY.2035200694071263,,N2,A2`, // 4: a BSUID in the phone column (never read as a phone)
        `+${phone(3)},US.1003,N3,A3`, // 5: both: the phone is used
        `,US.1001,N4,A4`, // 6: the same BSUID again
        `00${phone(0)},,N5,A5`, // 7: the same phone again
        `,US.7777,N6,A6`, // 8: a BSUID the store links to +…06
        `+${phone(6)},,N7,A7`, // 9: that phone: the same person
        `+${phone(8)},,N8,A8`, // 10: a phone seen lately only as a BSUID-only user (warned, sent)
        `,us.bad!,N9,A9`, // 11: not a BSUID
      ]);
      const report = join(sb.home, `report-${k}.csv`);
      const r = await cli([...orderSendArgs(csv), '--rate', '500', '--force', '--json', '--report', report]);
      expect(r.code, r.stderr).toBe(3);
      const sent = await accepted();
      const who = sent.map((m) => `${m.via}:${m.to ?? m.user_id}`).sort();
      expect(who).toEqual(
        [
          `to:${phone(0)}`,
          'recipient:US.1001',
          'recipient:MY.2035200694071263',
          `to:${phone(3)}`,
          `to:${phone(6)}`,
          `to:${phone(8)}`,
        ].sort(),
      );
      for (const m of sent) expect(m.via === 'to' ? m.user_id : m.to).toBeNull();
      const rows = ledgerRows(dbPath);
      expect(
        rows.map((x) => `${x.line}:${x.state}:${x.reason?.split(':')[0] ?? ''}:${x.recipient ?? ''}`),
      ).toEqual([
        `2:sent::${phone(0)}`,
        '3:sent::US.1001',
        '4:sent::MY.2035200694071263',
        `5:sent::${phone(3)}`,
        '6:skipped:duplicate:',
        '7:skipped:duplicate:',
        `8:sent::${phone(6)}`,
        '9:skipped:duplicate:',
        `10:sent::${phone(8)}`,
        '11:skipped:invalid_recipient:',
      ]);
      expect(r.stderr).toContain(
        `1 row(s) name a phone the webhook store has lately seen only as a BSUID-only user (bsuid-${k}.csv:10)`,
      );
      const json = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((l) => l.type === 'row');
      const identityOf = (line: number) => json.find((l) => l.line === line)?.identity;
      expect([2, 3, 4, 8, 11].map(identityOf)).toEqual(['phone', 'bsuid', 'bsuid', 'phone', null]);
      const lines = readFileSync(report, 'utf8').trim().split('\n');
      expect(lines[0]!.split(',').slice(-2)).toEqual(['identity', 'resolved_from']);
      const cells = (line: number) => lines.find((l) => l.startsWith(`${line - 1},${line},`))!.split(',');
      expect(cells(3).slice(-2)).toEqual(['bsuid', '']);
      expect(cells(8).slice(-2)).toEqual(['phone', 'US.7777']);
      expect(cells(2).slice(-2)).toEqual(['phone', '']);
    });

    it('--dry-run shows which identity each row would use and the `recipient` body, and sends nothing', async () => {
      const csv = writeCsv([`+${phone(0)},,N0,A0`, `,US.1001,N1,A1`]);
      const r = await cli([...orderSendArgs(csv), '--dry-run', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const messages = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((l) => l.type === 'message');
      expect(messages.map((m) => [m.to, m.identity, m.body.to ?? null, m.body.recipient ?? null])).toEqual([
        [phone(0), 'phone', `+${phone(0)}`, null],
        ['US.1001', 'bsuid', null, 'US.1001'],
      ]);
      expect(await accepted()).toHaveLength(0);
    });
  });

  describe('opt-outs and --exclude by BSUID', () => {
    it('skips a BSUID whose STOP is in the store, and --exclude matches BSUIDs and the phones linked to them', async () => {
      // US.4444 wrote STOP (the webhook carried its phone too: the store links them)
      await inbound({ phone: phone(4), bsuid: 'US.4444' }, 'STOP', 1_750_000_000);
      await inbound({ phone: phone(6), bsuid: 'US.7777' }, 'hello', 1_750_000_000);
      const exclude = join(sb.home, `exclude-${k}.txt`);
      writeFileSync(exclude, 'user_id\nUS.5555\nUS.7777\n');
      const csv = writeCsv([
        `+${phone(0)},,N0,A0`,
        `,US.4444,N1,A1`, // opted out
        `,US.5555,N2,A2`, // excluded by BSUID
        `+${phone(6)},,N3,A3`, // excluded: its phone is linked to US.7777
        `,US.1001,N4,A4`,
      ]);
      const r = await cli([...orderSendArgs(csv), '--exclude', exclude, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect((await accepted()).map((m) => m.to ?? m.user_id).sort()).toEqual([phone(0), 'US.1001'].sort());
      expect(ledgerRows(dbPath).map((x) => `${x.line}:${x.state}:${x.reason?.split(':')[0] ?? ''}`)).toEqual([
        '2:sent:',
        '3:skipped:opted_out',
        '4:skipped:excluded',
        '5:skipped:excluded',
        '6:sent:',
      ]);
    });
  });

  describe('BSUID rows refused before anything is sent', () => {
    const otpArgs = (csv: string) => [
      'send',
      '--csv',
      csv,
      '--template',
      'login_code',
      '--language',
      'en_US',
      '--map',
      'name=1',
      '--map',
      'name=button.0',
    ];

    it('an authentication template (its category read from the API) to a BSUID: exit 2 naming the rows, nothing sent', async () => {
      await createAuthTemplate(graph(sb.url), () => sb.flush());
      // US.7777 is linked to a phone in the store: that row goes to the phone and is allowed
      await inbound({ phone: phone(6), bsuid: 'US.7777' }, 'hello', 1_750_000_000);
      const csv = writeCsv([
        `+${phone(0)},,123456,A0`,
        `,US.1001,234567,A1`,
        `,US.7777,345678,A2`,
        `MY.42,,456789,A3`,
      ]);
      const r = await cli([...otpArgs(csv), '--json']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('AUTHENTICATION template');
      expect(r.stderr).toContain('131062');
      expect(r.stderr).toContain(`bsuid-${k}.csv:3: only a BSUID (US.1001)`);
      expect(r.stderr).toContain(`bsuid-${k}.csv:5: only a BSUID (MY.42)`);
      expect(r.stderr).not.toContain(`bsuid-${k}.csv:4`);
      expect(await accepted()).toHaveLength(0);
      expect(sink!.db.prepare('SELECT COUNT(*) FROM campaigns').pluck().get()).toBe(0);
      // the same template to phones (and to the linked BSUID, sent to its phone) is sent with `to`
      const phones = writeCsv([`+${phone(0)},,123456,A0`, `,US.7777,345678,A2`]);
      const ok = await cli(otpArgs(phones));
      expect(ok.code, ok.stderr).toBe(0);
      expect((await accepted()).map((m) => `${m.via}:${m.to}`).sort()).toEqual(
        [`to:${phone(0)}`, `to:${phone(6)}`].sort(),
      );
    });

    it('an API version before v24.0 with a BSUID row: exit 2 naming --api-version, nothing sent', async () => {
      const csv = writeCsv([`+${phone(0)},,N0,A0`, `,US.1001,N1,A1`]);
      const r = await cli([...orderSendArgs(csv), '--api-version', 'v23.0']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('API version v23.0 cannot send to a BSUID');
      expect(r.stderr).toContain('--api-version');
      expect(r.stderr).toContain(`bsuid-${k}.csv:3`);
      expect(await accepted()).toHaveLength(0);
      const phonesOnly = writeCsv([`+${phone(0)},,N0,A0`]);
      expect((await cli([...orderSendArgs(phonesOnly), '--api-version', 'v23.0'])).code).toBe(0);
    });
  });
});
