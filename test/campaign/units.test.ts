import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatCount, SendOutput } from '../../src/cli/campaign-output.js';
import type { Summary } from '../../src/lib/campaign/events.js';
import { emptyCounts } from '../../src/lib/campaign/ledger.js';
import { parseMapSpec, renderComponents, resolveSlots } from '../../src/lib/campaign/mapping.js';
import { normalisePhone } from '../../src/lib/campaign/phone.js';
import { numberThroughput, resolveRate } from '../../src/lib/campaign/rate.js';
import { csvCell } from '../../src/lib/campaign/report.js';
import type { RowOutcome } from '../../src/lib/campaign/types.js';
import { UsageError } from '../../src/lib/errors.js';
import type { MessageTemplate } from '../../src/lib/graph/types.js';
import { Io } from '../../src/lib/io/io.js';
import { memoryCampaign } from './helpers.js';

describe('csvCell (report escaping)', () => {
  it('neutralises cells that a spreadsheet would evaluate, and quotes per RFC 4180', () => {
    expect(csvCell('=1+2')).toBe("'=1+2");
    expect(csvCell('+49151')).toBe("'+49151");
    expect(csvCell('-5')).toBe("'-5");
    expect(csvCell('@cmd')).toBe("'@cmd");
    expect(csvCell('\tx')).toBe("'\tx");
    expect(csvCell('\rx')).toBe(`"'\rx"`);
    expect(csvCell('=HYPERLINK("a","b")')).toBe(`"'=HYPERLINK(""a"",""b"")"`);
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(null)).toBe('');
    expect(csvCell(42)).toBe('42');
  });
});

describe('normalisePhone', () => {
  it('normalises to E.164 digits', () => {
    expect(normalisePhone('+49 151 1234 5678', null)).toEqual({ ok: true, e164: '4915112345678' });
    expect(normalisePhone('0049 (151) 12345678', null)).toEqual({ ok: true, e164: '4915112345678' });
    expect(normalisePhone('4915112345678', null)).toEqual({ ok: true, e164: '4915112345678' });
    expect(normalisePhone('0151 12345678', 'DE')).toEqual({ ok: true, e164: '4915112345678' });
    expect(normalisePhone('(202) 555-0123', 'US')).toEqual({ ok: true, e164: '12025550123' });
  });
  it('explains what is wrong', () => {
    expect(normalisePhone('', null)).toMatchObject({ ok: false, reason: 'empty phone number' });
    expect(normalisePhone('0151 12345678', null)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no country code/),
    });
    expect(normalisePhone('+49151', null)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/not a valid/),
    });
  });
});

describe('throughput and rate', () => {
  it('reads the limit from the phone number node', () => {
    expect(numberThroughput({ is_on_biz_app: true, throughput: { level: 'STANDARD' } }).mps).toBe(20);
    expect(numberThroughput({ is_on_biz_app: false, throughput: { level: 'STANDARD' } }).mps).toBe(80);
    expect(numberThroughput({ throughput: { level: 'HIGH' } }).mps).toBe(1000);
  });
  it('defaults to the limit minus 5 %, lets --rate lower it, and exceed it only with --force', () => {
    const coex = numberThroughput({ is_on_biz_app: true });
    expect(resolveRate(null, false, coex)).toBe(19);
    expect(resolveRate(null, false, numberThroughput({ throughput: { level: 'HIGH' } }))).toBe(950);
    expect(resolveRate(5, false, coex)).toBe(5);
    expect(() => resolveRate(25, false, coex)).toThrow(UsageError);
    expect(resolveRate(25, true, coex)).toBe(25);
  });
});

const T = (
  components: MessageTemplate['components'],
  extra: Partial<MessageTemplate> = {},
): MessageTemplate => ({
  id: '1',
  name: 't',
  language: 'en_US',
  category: 'UTILITY',
  status: 'APPROVED',
  components,
  ...extra,
});

describe('mapping', () => {
  const order = T([{ type: 'BODY', text: 'Hi {{1}}, your order {{2}} has shipped.' }]);
  it('maps positional parameters, in order, whatever the order of --map', () => {
    const slots = resolveSlots(
      order,
      ['phone', 'order', 'name'],
      ['order=body.2', 'name=1'].map(parseMapSpec),
      'x.csv',
    );
    expect(slots.map((s) => [s.name, s.column])).toEqual([
      ['1', 'name'],
      ['2', 'order'],
    ]);
    expect(renderComponents(slots, ['Ana', 'A-1'])).toEqual([
      {
        type: 'body',
        parameters: [
          { type: 'text', text: 'Ana' },
          { type: 'text', text: 'A-1' },
        ],
      },
    ]);
  });
  it('maps named parameters by column name without --map', () => {
    const t = T([{ type: 'BODY', text: 'Hi {{first_name}} on {{date}}' }], { parameter_format: 'NAMED' });
    const slots = resolveSlots(t, ['phone', 'date', 'First_Name'], [], 'x.csv');
    expect(renderComponents(slots, ['Ana', 'May 2'])).toEqual([
      {
        type: 'body',
        parameters: [
          { type: 'text', parameter_name: 'first_name', text: 'Ana' },
          { type: 'text', parameter_name: 'date', text: 'May 2' },
        ],
      },
    ]);
  });
  it('fills header text, media headers, URL, copy-code and quick-reply buttons', () => {
    const t = T([
      { type: 'HEADER', format: 'IMAGE' },
      { type: 'BODY', text: 'Code {{1}}' },
      {
        type: 'BUTTONS',
        buttons: [
          { type: 'URL', text: 'Go', url: 'https://x.example/{{1}}' },
          { type: 'COPY_CODE', example: 'ABC' },
          { type: 'QUICK_REPLY', text: 'Stop' },
        ],
      },
    ]);
    const cols = ['phone', 'img', 'code', 'slug', 'coupon', 'payload'];
    const specs = ['img=header', 'code=1', 'slug=button.0', 'coupon=button.1', 'payload=button.2'].map(
      parseMapSpec,
    );
    const slots = resolveSlots(t, cols, specs, 'x.csv');
    expect(renderComponents(slots, ['https://x.example/a.png', 'C', 'go', 'SAVE10', 'stop'])).toEqual([
      { type: 'header', parameters: [{ type: 'image', image: { link: 'https://x.example/a.png' } }] },
      { type: 'body', parameters: [{ type: 'text', text: 'C' }] },
      { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: 'go' }] },
      {
        type: 'button',
        sub_type: 'copy_code',
        index: '1',
        parameters: [{ type: 'coupon_code', coupon_code: 'SAVE10' }],
      },
      {
        type: 'button',
        sub_type: 'quick_reply',
        index: '2',
        parameters: [{ type: 'payload', payload: 'stop' }],
      },
    ]);
  });
  it('refuses templates it cannot fill and mappings that do not fit', () => {
    expect(() =>
      resolveSlots(
        T([
          { type: 'HEADER', format: 'LOCATION' },
          { type: 'BODY', text: 'x' },
        ]),
        ['phone'],
        [],
        'x.csv',
      ),
    ).toThrow(/LOCATION header/);
    expect(() => resolveSlots(order, ['phone', 'a'], [parseMapSpec('a=1')], 'x.csv')).toThrow(
      /takes body \{\{2\}\}/,
    );
    expect(() => parseMapSpec('nothing')).toThrow(/COLUMN=PARAM/);
  });
});

describe('formatCount', () => {
  it('groups thousands without ICU', () => {
    expect([0, 999, 1000, 1234567, 5_000_000, -4321].map(formatCount)).toEqual([
      '0',
      '999',
      '1,000',
      '1,234,567',
      '5,000,000',
      '-4,321',
    ]);
  });
});

describe('send output (renders the events of a run)', () => {
  afterEach(() => vi.useRealTimers());
  const snapshot = () => ({
    counts: { ...emptyCounts(), total: 100, sent: 40, failed: 2, pending: 58 },
    outstanding: 3,
    rate: 19.5,
    targetRate: 19,
    ingesting: false,
  });
  function io(tty: boolean) {
    const stderr = new PassThrough() as PassThrough & { isTTY?: boolean };
    const stdout = new PassThrough() as PassThrough & { isTTY?: boolean };
    if (tty) stderr.isTTY = true;
    let err = '';
    stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const writes: string[] = [];
    stdout.on('data', (d: Buffer) => {
      writes.push(d.toString());
    });
    const env: NodeJS.ProcessEnv = tty ? {} : { CI: 'true' };
    return {
      io: new Io({ stdin: new PassThrough(), stdout, stderr }, { env }),
      err: () => err,
      /** What stdout received, one entry per write. */
      writes,
    };
  }
  const outcome = (row: number, state: RowOutcome['state'], reason: string | null = null): RowOutcome => ({
    row,
    line: row + 1,
    recipient: state === 'skipped' ? null : `4915100000${row}`,
    state,
    reason,
    errorCode: null,
    errorTitle: null,
    wamid: state === 'sent' ? `wamid.${row}` : null,
    attempts: 1,
  });
  const summary = (campaign: string): Summary => ({
    campaign,
    template: 'order_update',
    language: 'en_US',
    status: 'partial',
    exitCode: 3,
    counts: { ...emptyCounts(), total: 3, sent: 1, skipped: 2 },
    failedByCode: [],
    skippedByReason: [],
    unknownRows: [],
    durationMs: 1000,
    achievedRate: null,
    targetRate: 20,
    requests: 1,
    stop: null,
    report: null,
  });

  it('with --json, writes the row outcomes as NDJSON in batches, then the summary line', async () => {
    const o = io(false);
    const out = new SendOutput(o.io, { json: true });
    out.row('c1', outcome(1, 'sent'), 'list.csv');
    out.row('c1', outcome(2, 'skipped', 'invalid_phone: not a phone number'), 'list.csv');
    expect(o.writes).toEqual([]);
    out.summary(summary('c1'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(o.writes).toHaveLength(2);
    const rows = o.writes[0]!.trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.type, r.campaign, r.row, r.status])).toEqual([
      ['row', 'c1', 1, 'sent'],
      ['row', 'c1', 2, 'skipped'],
    ]);
    expect(JSON.parse(o.writes[1]!)).toMatchObject({ type: 'summary', campaign: 'c1', sent: 1, skipped: 2 });
    expect(o.err()).toBe('');
  });

  it('with --json, writes rows as soon as 64 are waiting (they are not kept across collections), the rest later', async () => {
    const o = io(false);
    const out = new SendOutput(o.io, { json: true });
    for (let row = 1; row <= 63; row++) out.row('c1', outcome(row, 'sent'), 'list.csv');
    expect(o.writes).toEqual([]);
    out.row('c1', outcome(64, 'sent'), 'list.csv');
    expect(o.writes).toHaveLength(1);
    expect(
      o.writes[0]!.trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l).row),
    ).toEqual(Array.from({ length: 64 }, (_, i) => i + 1));
    out.row('c1', outcome(65, 'sent'), 'list.csv');
    expect(o.writes).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(o.writes).toHaveLength(2);
    expect(JSON.parse(o.writes[1]!).row).toBe(65);
  });

  it('for people, warns about the first invalid rows and counts the others in the summary', async () => {
    const o = io(false);
    const out = new SendOutput(o.io, { json: false, maxInvalidShown: 1 });
    out.sending(
      {
        campaign: 'c1',
        template: 'order_update',
        language: 'en_US',
        csvName: 'list.csv',
        rate: 20,
        rateSource: 'throughput',
        window: 4,
      },
      snapshot,
    );
    out.row('c1', outcome(1, 'sent'), 'list.csv');
    out.row('c1', outcome(2, 'skipped', 'invalid_phone: not a phone number'), 'list.csv');
    out.row('c1', outcome(3, 'skipped', 'invalid_phone: too short'), 'list.csv');
    out.sendingEnded();
    out.summary(summary('c1'));
    expect(o.err().split('\n').filter(Boolean)).toEqual([
      'Sending order_update (en_US) from list.csv as campaign c1: 20 msg/s (throughput), up to 4 in flight.',
      '! list.csv:3: skipped, not a phone number',
      '! … and 1 more invalid rows (see `wacx campaigns show c1` or --report).',
    ]);
    expect(o.writes.join('')).toMatch(
      /^Campaign c1 \(order_update, en_US\) finished in 1 s, not everything was sent\.\n/,
    );
  });

  it('without a TTY prints one plain line every 10 s', () => {
    vi.useFakeTimers();
    const o = io(false);
    const out = new SendOutput(o.io, { json: false });
    out.startProgress(snapshot);
    vi.advanceTimersByTime(9_999);
    expect(o.err()).toBe('');
    vi.advanceTimersByTime(1);
    expect(o.err()).toMatch(
      /^42% 42\/100 · 19\.5\/s \(target 19\.0\) · sent 40 failed 2 skipped 0 unknown 0 · ETA 3 s\n$/,
    );
    vi.advanceTimersByTime(20_000);
    expect(o.err().split('\n').filter(Boolean)).toHaveLength(3);
    out.stopProgress();
  });

  it('on a TTY redraws a progress bar with rate, counts and ETA', () => {
    vi.useFakeTimers();
    const o = io(true);
    const out = new SendOutput(o.io, { json: false });
    out.startProgress(snapshot);
    vi.advanceTimersByTime(1000);
    expect(o.err()).toContain('\r\x1b[K[##########--------------] 42% 42/100');
    expect(o.err()).toContain('ETA 3 s');
    expect(o.err()).not.toContain('\n');
    out.stopProgress();
  });
});

describe('campaign lease', () => {
  function ledger() {
    const { ledger: l, cid } = memoryCampaign(0);
    return { l, cid };
  }
  const me = { owner: 'a', host: 'h1', pid: 100 };
  const other = { owner: 'b', host: 'h1', pid: 200 };

  it('refuses a second live run, and takes over a dead or silent one', () => {
    const { l, cid } = ledger();
    expect(l.acquireLease(cid, me, 1000, 30_000, () => true)).toEqual({ ok: true, tookOver: null });
    // same host, pid alive, fresh heartbeat: refused
    expect(l.acquireLease(cid, other, 2000, 30_000, () => true)).toEqual({
      ok: false,
      holder: { host: 'h1', pid: 100, heartbeat: 1000 },
      campaign: null,
    });
    // the holder's process is gone: taken over at once
    expect(l.acquireLease(cid, other, 3000, 30_000, (pid) => pid !== 100)).toMatchObject({
      ok: true,
      tookOver: { pid: 100 },
    });
    // another host, heartbeat older than 30 s: taken over
    const far = { owner: 'c', host: 'h2', pid: 300 };
    expect(l.acquireLease(cid, far, 20_000, 30_000, () => true).ok).toBe(false);
    expect(l.acquireLease(cid, far, 40_000, 30_000, () => true)).toMatchObject({
      ok: true,
      tookOver: { host: 'h1', pid: 200 },
    });
    // the old holder's next heartbeat fails: it knows it lost the campaign
    expect(l.commit(cid, { updates: [], intents: [], heartbeatOwner: 'b' }, 41_000)).toBe(false);
    expect(l.commit(cid, { updates: [], intents: [], heartbeatOwner: 'c' }, 41_000)).toBe(true);
  });
});
