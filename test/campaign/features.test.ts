import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/lib/store/store.js';
import { SEED } from '../../src/sandbox/seed.js';
import { runCli } from '../helpers/cli.js';
import { BACKENDS } from '../helpers/postgres.js';
import type { TestSandbox } from '../helpers/sandbox.js';
import {
  clockWithHook,
  countBy,
  type DbWhere,
  ledgerRows,
  orderSendArgs,
  phone,
  saleSendArgs,
  sandboxIntoStore,
  writeOrdersCsv,
} from './helpers.js';

const COEX = SEED.phoneNumbers.coex.id;
describe.each(BACKENDS)('on %s', (backend) => {
  const sandbox = sandboxIntoStore('features', backend);
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

  const saleArgs = (csv: string) => saleSendArgs(csv, '--rate', '20');
  const orderArgs = (csv: string, extra: string[] = []) => [
    ...orderSendArgs(csv),
    '--rate',
    '500',
    '--force',
    ...extra,
  ];
  const cli = (args: string[], opts: { signal?: AbortSignal } = {}) =>
    runCli(args, { env: sandbox.env(), ...opts });
  const accepted = () =>
    sb.control<{ to: string; callback_data: string; parameters: string[]; components?: unknown }[]>(
      'messages',
    );

  describe('output', () => {
    it('--json prints one NDJSON line per row outcome and a summary line with every key', async () => {
      const csv = writeOrdersCsv(sb.home, 4, `j${k}.csv`, '+49151,Bad,A-9\n');
      const r = await cli([...orderArgs(csv), '--json']);
      expect(r.code).toBe(3);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const rows = lines.filter((l) => l.type === 'row');
      expect(rows).toHaveLength(5);
      expect(Object.keys(rows[0]!).sort()).toEqual(
        [
          'campaign',
          'error_code',
          'error_title',
          'identity',
          'line',
          'reason',
          'row',
          'status',
          'to',
          'type',
          'wamid',
        ].sort(),
      );
      expect(countBy(rows, (l) => String(l.status))).toEqual({ sent: 4, skipped: 1 });
      expect(rows.find((l) => l.status === 'skipped')).toMatchObject({
        line: 6,
        row: 5,
        to: '+49151',
        identity: null,
      });
      expect(rows.find((l) => l.status === 'sent')).toMatchObject({ identity: 'phone' });
      const summary = lines.at(-1)!;
      expect(summary).toMatchObject({
        type: 'summary',
        status: 'partial',
        exit_code: 3,
        sent: 4,
        skipped: 1,
        unknown: 0,
        failed: 0,
      });
      for (const key of [
        'failed_by_code',
        'skipped_by_reason',
        'unknown_rows',
        'duration_ms',
        'achieved_rate',
        'stop',
        'report',
      ]) {
        expect(summary).toHaveProperty(key);
      }
      expect(summary.skipped_by_reason).toEqual([
        { reason: 'invalid_phone', meaning: 'invalid phone number', count: 1 },
      ]);
    });

    it('the final summary gives sent, failed by code with its meaning, skipped with reasons, unknown, duration and rate', async () => {
      // a parameter so long that the hydrated body exceeds 1,024 characters: the API refuses that row (132005)
      const lines = [
        'phone,name,code,slug',
        `+${phone(1)},A,C1,s`,
        `+${phone(2)},${'x'.repeat(1100)},C2,s`,
        `+${phone(1)},Dup,C3,s`,
      ];
      const csv = join(sb.home, `s${k}.csv`);
      writeFileSync(csv, `${lines.join('\n')}\n`);
      const r = await cli(saleArgs(csv));
      expect(r.code, r.stdout + r.stderr).toBe(3);
      expect(r.stdout).toMatch(/sent\s+1\b/);
      expect(r.stdout).toMatch(/failed\s+1\b/);
      expect(r.stdout).toMatch(/132005\s+1\s+Template hydrated text too long: Shorten the parameter values/);
      expect(r.stdout).toMatch(/1\s+duplicate recipient \(sent once\)/);
      expect(r.stdout).toMatch(/Duration \d+ (ms|s), 2 requests, achieved rate/);
    });

    it('--report writes every row, with spreadsheet formulas neutralised', async () => {
      const evil = ['=HYPERLINK("http://x","y")', '+1+2', '-2+3', '@SUM(A1)', '\tx'];
      const lines = [
        'phone,name,order',
        `+${phone(1)},A,1`,
        ...evil.map((e, i) => `"${e.replace(/"/g, '""')}",N${i},${i}`),
      ];
      const csv = join(sb.home, `r${k}.csv`);
      writeFileSync(csv, `${lines.join('\n')}\n`);
      const report = join(sb.home, `report-${k}.csv`);
      const r = await cli([...orderArgs(csv), '--report', report]);
      expect(r.code).toBe(3);
      const text = readFileSync(report, 'utf8');
      const rows = text.trim().split('\n');
      expect(rows[0]).toBe(
        'row,line,recipient,status,error_code,error_title,reason,wamid,attempts,identity,resolved_from',
      );
      expect(rows).toHaveLength(1 + 1 + evil.length);
      expect(rows[1]).toMatch(new RegExp(`^1,2,${phone(1)},sent,,,,wamid\\.[^,]+,1,phone,$`));
      expect(rows[2]).toMatch(/^2,3,"'=HYPERLINK\(""http:\/\/x"",""y""\)",skipped/);
      expect(rows[3]).toMatch(/^3,4,'\+1\+2,skipped/);
      expect(rows[4]).toMatch(/^4,5,'-2\+3,skipped/);
      expect(rows[5]).toMatch(/^5,6,'@SUM\(A1\),skipped/);
      expect(rows[6]).toMatch(/^6,7,'\tx,skipped/);
      for (const row of rows.slice(1)) expect(row).not.toMatch(/(^|,)[=+\-@\t\r]/);
    });
    it('the report is readable by its owner only (it holds customer data), also when it replaces a file', async () => {
      const csv = writeOrdersCsv(sb.home, 2, `m${k}.csv`);
      const report = join(sb.home, `mode-${k}.csv`);
      writeFileSync(report, 'old\n', { mode: 0o644 });
      const r = await cli([...orderArgs(csv), '--report', report]);
      expect(r.code, r.stderr).toBe(0);
      expect(statSync(report).mode & 0o777).toBe(0o600);
      expect(readFileSync(report, 'utf8')).toMatch(/^row,line,recipient,status/);
    });

    it('a report that cannot be written at the end is named with --report and its path, after the summary', async () => {
      const csv = writeOrdersCsv(sb.home, 6, `w${k}.csv`);
      const dir = join(sb.home, `vanishing-${k}`);
      mkdirSync(dir);
      const report = join(dir, 'out.csv');
      // the directory disappears while sending (the engine's first pacing wait), after the check at the start
      let removed = false;
      const clock = clockWithHook(() => {
        if (!removed) rmSync(dir, { recursive: true, force: true });
        removed = true;
      });
      const r = await runCli([...orderSendArgs(csv), '--rate', '20', '--report', report], {
        env: sandbox.env(),
        clock,
      });
      expect(removed).toBe(true);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toMatch(/completed in/);
      expect(r.stderr).toContain(`Cannot write the report --report ${report}: no such file or directory`);
      expect(r.stderr).toMatch(/campaigns resume order_update-\w+ --report FILE/);
      expect(r.stderr).not.toMatch(/\.tmp|ENOENT/);
      expect(await accepted()).toHaveLength(6);
    });
  });

  describe('opt-outs', () => {
    it('skips --exclude numbers and recipients who opted out by inbound STOP', async () => {
      const csv = writeOrdersCsv(sb.home, 6, `o${k}.csv`);
      const exclude = join(sb.home, `exclude-${k}.txt`);
      writeFileSync(exclude, `phone\n+${phone(1)}\n00${phone(2)}\n`);
      // recipient 3 writes STOP (field messages → opt-out in the webhook store)
      await sb.control('emit', {
        field: 'messages',
        value: { messages: [{ from: phone(3), type: 'text', text: { body: 'STOP' } }] },
      });
      await sb.flush();
      const r = await cli([...orderArgs(csv), '--exclude', exclude, '--json']);
      expect(r.code, r.stderr).toBe(0);
      const sent = (await accepted()).map((m) => m.to).sort();
      expect(sent).toEqual([phone(0), phone(4), phone(5)].sort());
      const states = countBy(ledgerRows(dbPath), (x) => `${x.state}:${x.reason?.split(':')[0] ?? ''}`);
      expect(states).toEqual({ 'sent:': 3, 'skipped:excluded': 2, 'skipped:opted_out': 1 });
    });
  });

  describe('dry run', () => {
    it('validates and renders every message, sends nothing, writes no campaign', async () => {
      const csv = writeOrdersCsv(sb.home, 5, `d${k}.csv`, `+${phone(0)},Dup,x\n`);
      const r = await cli([...orderArgs(csv), '--dry-run', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const messages = lines.filter((l) => l.type === 'message');
      expect(messages).toHaveLength(5);
      expect(messages[0]!.body).toEqual({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to: `+${phone(0)}`,
        type: 'template',
        template: {
          name: 'order_update',
          language: { code: 'en_US' },
          components: [
            {
              type: 'body',
              parameters: [
                { type: 'text', text: 'Name 0' },
                { type: 'text', text: 'A-0' },
              ],
            },
          ],
        },
        biz_opaque_callback_data: expect.stringMatching(/^order_update-[0-9a-f]{10}:1$/),
      });
      expect(lines.at(-1)).toMatchObject({
        type: 'summary',
        status: 'dry_run',
        rendered: 5,
        skipped: 1,
        pending: 5,
      });
      expect(await accepted()).toHaveLength(0);
      expect(sink!.db.prepare('SELECT COUNT(*) FROM campaigns').pluck().get()).toBe(0);
    });

    it('--dry-run --report writes every row as the run would start (0600), and says so', async () => {
      const csv = writeOrdersCsv(sb.home, 3, `dr${k}.csv`, `+49151,Bad,x\n+${phone(0)},Dup,x\n`);
      const report = join(sb.home, `dry-report-${k}.csv`);
      const r = await cli([...orderArgs(csv), '--dry-run', '--report', report]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(`Report written to ${report}`);
      expect(statSync(report).mode & 0o777).toBe(0o600);
      const rows = readFileSync(report, 'utf8').trim().split('\n');
      expect(rows[0]).toBe(
        'row,line,recipient,status,error_code,error_title,reason,wamid,attempts,identity,resolved_from',
      );
      expect(rows.slice(1).map((l) => l.split(',').slice(0, 4).join(','))).toEqual([
        `1,2,${phone(0)},pending`,
        `2,3,${phone(1)},pending`,
        `3,4,${phone(2)},pending`,
        "4,5,'+49151,skipped",
        `5,6,${phone(0)},skipped`,
      ]);
      expect(await accepted()).toHaveLength(0);
      const json = await cli([...orderArgs(csv), '--dry-run', '--report', report, '--json']);
      expect(JSON.parse(json.stdout.trim().split('\n').at(-1)!)).toMatchObject({ status: 'dry_run', report });
    });
  });

  describe('templates with named parameters, buttons and media headers', () => {
    it('fills named parameters by column name, URL buttons and document headers', async () => {
      const a = join(sb.home, `named-${k}.csv`);
      writeFileSync(a, `to,first_name,date\n+${phone(1)},Ana,May 2\n`);
      expect(
        (
          await cli([
            'send',
            '--csv',
            a,
            '--template',
            'appointment_reminder',
            '--language',
            'en_US',
            '--rate',
            '20',
          ])
        ).code,
      ).toBe(0);
      const b = join(sb.home, `sale-${k}.csv`);
      writeFileSync(b, `phone,name,code,slug\n+${phone(2)},Bo,SPRING20,spring\n`);
      const rb = await cli(saleArgs(b));
      expect(rb.code, rb.stderr).toBe(0);
      const c = join(sb.home, `receipt-${k}.csv`);
      writeFileSync(c, `phone,name,pdf\n+${phone(3)},Cy,https://example.com/r.pdf\n`);
      const rc = await cli([
        'send',
        '--csv',
        c,
        '--template',
        'order_receipt',
        '--language',
        'en_US',
        '--map',
        'name=1',
        '--map',
        'pdf=header',
        '--rate',
        '20',
      ]);
      expect(rc.code, rc.stderr).toBe(0);
      const msgs = await accepted();
      expect(msgs.map((m) => m.parameters)).toEqual([['Ana', 'May 2'], ['Bo', 'SPRING20'], ['Cy']]);
      expect(msgs[1]!.components).toContainEqual({
        type: 'button',
        sub_type: 'url',
        index: '1',
        parameters: [{ type: 'text', text: 'spring' }],
      });
      expect(msgs[2]!.components).toContainEqual({
        type: 'header',
        parameters: [{ type: 'document', document: { link: 'https://example.com/r.pdf' } }],
      });
    });
  });

  describe('resume, lease, stop conditions', () => {
    it('Ctrl+C stops, checkpoints and exits 130; the same command then sends only the rest', async () => {
      await sb.control(`numbers/${COEX}`, { mps: 20 });
      const csv = writeOrdersCsv(sb.home, 40, `c${k}.csv`);
      const ac = new AbortController();
      const sentRows = sink!.db.prepare("SELECT COUNT(*) FROM campaign_rows WHERE state = 'sent'").pluck();
      // Ctrl+C once 10 rows are sent
      const clock = clockWithHook(() => {
        if ((sentRows.get() as number) >= 10) ac.abort();
      });
      const first = await runCli(orderArgs(csv, ['--rate', '20']), {
        env: sandbox.env(),
        signal: ac.signal,
        clock,
      });
      expect(first.code, first.stderr).toBe(130);
      expect(first.stdout).toMatch(/cancelled after .*resume with `wacx campaigns resume order_update-/);
      const afterFirst = ledgerRows(dbPath);
      const sentFirst = afterFirst.filter((r) => r.state === 'sent').length;
      expect(sentFirst).toBeGreaterThan(5);
      expect(sentFirst).toBeLessThan(40);
      expect(afterFirst.filter((r) => r.state === 'in_flight' || r.state === 'unknown')).toHaveLength(0);
      const second = await cli(orderArgs(csv, ['--rate', '20']));
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).toMatch(/Resuming campaign order_update-/);
      const msgs = await accepted();
      expect(msgs).toHaveLength(40);
      expect(new Set(msgs.map((m) => m.to)).size).toBe(40);
      // and a third run has nothing left to send
      const third = await cli([...orderArgs(csv, ['--rate', '20']), '--json']);
      expect(third.code).toBe(0);
      expect(JSON.parse(third.stdout.trim().split('\n').at(-1)!)).toMatchObject({ requests: 0, sent: 40 });
      expect(await accepted()).toHaveLength(40);
    });

    it('a second concurrent run of the same campaign refuses to start', async () => {
      await sb.control(`numbers/${COEX}`, { mps: 20 });
      const csv = writeOrdersCsv(sb.home, 30, `l${k}.csv`);
      // the first run is held at its first wait (it holds the lease and is sending) until the second one is done
      let waiting!: () => void;
      const firstWait = new Promise<void>((resolve) => {
        waiting = resolve;
      });
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const a = runCli(orderArgs(csv, ['--rate', '20']), {
        env: sandbox.env(),
        clock: clockWithHook(() => {
          waiting();
          return released;
        }),
      });
      await Promise.race([
        firstWait,
        a.then((r) => {
          throw new Error(`the first run ended before it waited (exit ${r.code}): ${r.stderr}`);
        }),
      ]);
      const b = await cli(orderArgs(csv, ['--rate', '20']));
      expect(b.code).toBe(1);
      expect(b.stderr).toMatch(/is already being sent by pid \d+ on .*not starting a second run/);
      release();
      expect((await a).code).toBe(0);
      const msgs = await accepted();
      expect(new Set(msgs.map((m) => m.to)).size).toBe(msgs.length);
      expect(msgs).toHaveLength(30);
    });

    it('a run of a campaign that another live run holds is refused first: no "Resuming" line, nothing sent', async () => {
      const csv = writeOrdersCsv(sb.home, 3, `h${k}.csv`);
      const first = await cli([...orderArgs(csv), '--json']);
      expect(first.code, first.stderr).toBe(0);
      const id = JSON.parse(first.stdout.trim().split('\n').at(-1)!).campaign as string;
      // another run, on another host, sending right now
      sink!.db
        .prepare(
          "UPDATE campaigns SET lease_owner = 'other', lease_host = 'other-host', lease_pid = 4242, lease_heartbeat = ? WHERE id = ?",
        )
        .run(Date.now(), id);
      await sb.control('reset', {});
      for (const args of [orderArgs(csv), ['campaigns', 'resume', id]]) {
        const r = await cli(args);
        expect(r.code, r.stderr).toBe(1);
        expect(r.stderr).toMatch(
          /^✗ Campaign .* is already being sent by pid 4242 on other-host .*not starting a second run/,
        );
        expect(r.stderr).not.toMatch(/Resuming|Sending/);
      }
      expect(await accepted()).toHaveLength(0);
    });

    it('stops when the template is paused mid-campaign (exit 1, clear report), then resumes once it is approved again', async () => {
      const csv = writeOrdersCsv(sb.home, 30, `p${k}.csv`);
      await sb.control('scenario', {
        name: 'template_paused',
        template: 'order_update',
        language: 'en_US',
        after_sends: 10,
      });
      const r = await cli(orderArgs(csv, ['--max-in-flight', '1']));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/Stopped: 132015 Template paused/);
      expect(r.stderr).toMatch(/→ When fixed, run the same command again/);
      expect(countBy(ledgerRows(dbPath), (x) => x.state)).toEqual({ sent: 10, pending: 20 });
      const id = (
        JSON.parse((await cli(['campaigns', 'list', '--json'])).stdout) as { id: string; status: string }[]
      )[0]!;
      expect(id.status).toBe('stopped');
      const tpl = SEED.templates.find((t) => t.name === 'order_update' && t.language === 'en_US')!;
      await sb.control(`templates/${tpl.id}`, { status: 'APPROVED' });
      const resumed = await cli(['campaigns', 'resume', id.id]);
      expect(resumed.code, resumed.stderr).toBe(0);
      const msgs = await accepted();
      expect(msgs).toHaveLength(30);
      expect(new Set(msgs.map((m) => m.to)).size).toBe(30);
    });

    it('stops when the number is offboarded (133010), and then refuses to start while the store says offboarded', async () => {
      const csv = writeOrdersCsv(sb.home, 10, `f${k}.csv`);
      await sb.control('scenario', { name: 'device_change', phone_number_id: COEX, reconnect: false });
      await sb.flush();
      const r = await cli(orderArgs(csv));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/ACCOUNT_OFFBOARDED without a later ACCOUNT_RECONNECTED/);
      expect(await accepted()).toHaveLength(0);
      // without the webhook in the store, the API's 133010 stops the run
      sink!.db.prepare('DELETE FROM account_updates').run();
      const r2 = await cli(orderArgs(csv));
      expect(r2.code).toBe(1);
      expect(r2.stderr).toMatch(/Stopped: 133010/);
      // the stop leaves every row it read pending (the reader may not have read all ten when the answer came)
      const states = countBy(ledgerRows(dbPath), (x) => x.state);
      expect(Object.keys(states)).toEqual(['pending']);
      expect(await accepted()).toHaveLength(0);
    });

    it('unknown outcomes are never re-sent without --resend-unknown; reconcile settles them from status webhooks', async () => {
      const csv = writeOrdersCsv(sb.home, 6, `u${k}.csv`);
      // every request is read and processed, then the connection is reset: accepted, but the sender cannot know;
      // no status webhooks yet
      await sb.control(`numbers/${COEX}`, { statuses: false });
      await sb.control('scenario', { name: 'faults', reset_rate: 1, path: '/messages' });
      const r = await cli([...orderArgs(csv), '--json']);
      expect(r.code).toBe(3);
      const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      expect(summary.unknown).toBe(6);
      expect(summary.unknown_rows).toHaveLength(6);
      await sb.control('scenario', { name: 'faults', reset_rate: 0 });
      // running again does not send them again
      const again = await cli([...orderArgs(csv), '--json']);
      expect(again.code).toBe(3);
      expect(again.stderr).toMatch(/6 row\(s\) have an unknown outcome and are not re-sent/);
      const msgs = await accepted();
      expect(msgs).toHaveLength(6);
      // the status webhooks arrive (joined by biz_opaque_callback_data): reconcile settles every row
      await sb.control('emit', {
        field: 'messages',
        value: {
          statuses: msgs.map((m) => ({
            id: `wamid.test.${m.to}`,
            status: m.to === phone(5) ? 'failed' : 'delivered',
            timestamp: String(Math.floor(Date.now() / 1000)),
            recipient_id: m.to,
            biz_opaque_callback_data: m.callback_data,
            ...(m.to === phone(5) ? { errors: [{ code: 131026, title: 'Message undeliverable' }] } : {}),
          })),
        },
      });
      await sb.flush();
      const rec = await cli(['campaigns', 'reconcile', summary.campaign, '--json']);
      expect(rec.code, rec.stderr).toBe(0);
      expect(JSON.parse(rec.stdout)).toMatchObject({ checked: 6, sent: 5, failed: 1, still_unknown: 0 });
      const rows = ledgerRows(dbPath);
      expect(countBy(rows, (x) => x.state)).toEqual({ sent: 5, failed: 1 });
      expect(rows.find((x) => x.state === 'failed')).toMatchObject({
        recipient: phone(5),
        error_code: 131026,
      });
    });

    it('a resumed run settles the unknown rows of the previous one from status webhooks first', async () => {
      const csv = writeOrdersCsv(sb.home, 4, `t${k}.csv`);
      await sb.control('scenario', { name: 'faults', reset_rate: 1, path: '/messages' });
      expect((await cli(orderArgs(csv))).code).toBe(3);
      await sb.control('scenario', { name: 'faults', reset_rate: 0 });
      await sb.flush(); // the sandbox's own status webhooks for the 4 accepted messages
      const again = await cli(orderArgs(csv));
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toMatch(/Reconciled from status webhooks: 4 sent, 0 failed, 0 still unknown/);
      expect(await accepted()).toHaveLength(4);
    });

    it('--resend-unknown sends the rows that stay unknown (they never reached the API)', async () => {
      const csv = writeOrdersCsv(sb.home, 5, `v${k}.csv`);
      await sb.control('scenario', {
        name: 'faults',
        reset_rate: 1,
        reset_mode: 'before',
        path: '/messages',
      });
      const r = await cli([...orderArgs(csv), '--json']);
      expect(r.code).toBe(3);
      await sb.control('scenario', { name: 'faults', reset_rate: 0 });
      await sb.flush();
      const show = JSON.parse(
        (await cli(['campaigns', 'show', JSON.parse(r.stdout.trim().split('\n').at(-1)!).campaign, '--json']))
          .stdout,
      );
      expect(show).toMatchObject({ unknown: 5, sent: 0 });
      expect(show.unknown_rows).toHaveLength(5);
      const rec = await cli(['campaigns', 'reconcile', show.id]);
      expect(rec.code).toBe(3);
      expect(rec.stdout).toMatch(/5 still unknown/);
      const resend = await cli([...orderArgs(csv), '--resend-unknown']);
      expect(resend.code, resend.stderr).toBe(0);
      expect(resend.stderr).toMatch(/--resend-unknown: 5 row\(s\)/);
      const msgs = await accepted();
      expect(msgs).toHaveLength(5);
    });
  });

  describe('campaigns list / show', () => {
    it('lists campaigns and shows one, as tables and JSON', async () => {
      const csv = writeOrdersCsv(sb.home, 3, `w${k}.csv`, '+49151,Bad,x\n');
      await cli(orderArgs(csv));
      const list = await cli(['campaigns', 'list']);
      expect(list.code).toBe(0);
      expect(list.stdout).toMatch(
        /^order_update-[0-9a-f]{10}\tcompleted\torder_update\ten_US\t4\t3\t0\t1\t0\t0\t/m,
      );
      const json = JSON.parse((await cli(['campaigns', 'list', '--json'])).stdout) as Record<
        string,
        unknown
      >[];
      expect(json[0]).toMatchObject({
        rows: 4,
        sent: 3,
        skipped: 1,
        unknown: 0,
        pending: 0,
        status: 'completed',
      });
      const show = await cli(['campaigns', 'show', String(json[0]!.id)]);
      expect(show.stdout).toMatch(/rows\s+4: sent 3, failed 0, skipped 1, unknown 0, pending 0/);
      expect(show.stdout).toMatch(/1\s+invalid phone number/);
      const missing = await cli(['campaigns', 'show', 'nope']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/No campaign "nope"/);
    });
  });
});
