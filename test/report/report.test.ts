import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { storeEnv } from '../helpers/backends.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { freshPostgresUrl } from '../helpers/postgres.js';
import { NOW, seedStore } from './seed.js';

const home = tempHome();
const db = join(home.home, 'wacx.db');
const env = { ...home.env, WACX_DB: db };
const report = (args: string[], options: { tty?: boolean; db?: string } = {}) =>
  runCli(['report', ...args], {
    env: { ...env, WACX_DB: options.db ?? db },
    clock: new FakeClock(NOW),
    ...(options.tty ? { tty: true } : {}),
  });

interface ReportJson {
  period: { since: string; until: string; days: number };
  messages: {
    days: { day: string; inbound: number; api: number; app: number; total: number }[];
    totals: { inbound: number; api: number; app: number; total: number };
  };
  first_response: Record<
    'app' | 'api' | 'all',
    { responses: number; median_ms: number | null; p90_ms: number | null }
  > & {
    unanswered: number;
  };
  campaigns: Record<string, unknown>[];
  app_activity: Record<string, unknown>;
}

async function json(...args: string[]): Promise<ReportJson> {
  const r = await report(['--json', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ReportJson;
}

beforeAll(async () => {
  await seedStore(home.env, home.home, db);
}, 30_000);
afterAll(() => home.cleanup());

describe('wacx report on a seeded store (November 2026, now 2026-11-30 12:00 UTC)', () => {
  it('the figures worked out by hand: messages by source, first responses, campaign rates, App activity', async () => {
    const j = await json();
    expect(j.period).toMatchObject({ since: '2026-11-01', until: '2026-11-30', days: 30 });
    expect(j.messages.totals).toEqual({ inbound: 6, api: 5, app: 2, total: 13 });
    expect(j.messages.days.find((d) => d.day === '2026-11-02')).toEqual({
      day: '2026-11-02',
      inbound: 2,
      api: 0,
      app: 1,
      total: 3,
    });
    // the campaign's API messages: three `sent` statuses and one accepted row whose status never came
    expect(j.messages.days.find((d) => d.day === '2026-11-20')?.api).toBe(4);
    expect(j.first_response).toEqual({
      app: { responses: 2, median_ms: 300_000, p90_ms: 3_600_000 },
      api: { responses: 1, median_ms: 120_000, p90_ms: 120_000 },
      all: { responses: 3, median_ms: 300_000, p90_ms: 3_600_000 },
      unanswered: 2,
    });
    expect(j.campaigns).toHaveLength(1);
    expect(j.campaigns[0]).toMatchObject({
      id: 'promo-nov',
      messages: 5,
      accepted: 4,
      delivered: 2,
      read: 1,
      failed: 2,
      opted_out: 1,
      delivery_rate: 0.4,
      read_rate: 0.5,
      failure_rate: 0.4,
      opt_out_rate: 0.25,
      failure_codes: [
        { code: 131026, title: 'Message undeliverable', count: 1 },
        { code: 131049, title: expect.stringMatching(/ecosystem/), count: 1 },
      ],
    });
    expect(j.app_activity).toMatchObject({
      status: 'fail',
      warn_days: 10,
      fail_days: 13,
      active_days: 3,
      last_activity_at: '2026-11-12T09:00:00.000Z',
      days_since_last_activity: 18.1,
      longest_gap: { from: '2026-11-12T09:00:00.000Z', to: '2026-11-30T12:00:00.000Z', days: 18.1 },
      gaps: [
        { from: '2026-10-15T08:00:00.000Z', to: '2026-11-02T09:05:00.000Z', days: 18, open: false },
        { from: '2026-11-12T09:00:00.000Z', to: '2026-11-30T12:00:00.000Z', days: 18.1, open: true },
      ],
    });
  });

  it('snapshot: --json', async () => {
    expect(await json()).toMatchSnapshot();
  });

  it('snapshot: on a terminal, tables with bar charts (no colour with NO_COLOR)', async () => {
    const r = await report([], { tty: true });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('█');
    expect(r.stdout).toMatchSnapshot();
  });

  it('piped: tab-separated tables and no bars', async () => {
    const r = await report([]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2026-11-02\t2\t0\t1\t3\n');
    expect(r.stdout).toContain('promo-nov\t5\t2\t1\t2\t1\t40.0 %\t50.0 %\t40.0 %\t25.0 %\n');
    expect(r.stdout).toContain('Status: fail');
    expect(r.stdout).not.toMatch(/[█▏▎▍▌▋▊▉]/);
  });

  it('--csv: one long-format table whose values are those of --json', async () => {
    const [r, j] = await Promise.all([report(['--csv']), json()]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('section,day,campaign,source,code,metric,value');
    expect(lines).toContain('messages,2026-11-02,,inbound,,messages,2');
    expect(lines).toContain('first_response,,,app,,median_ms,300000');
    expect(lines).toContain('failure_code,,promo-nov,,131049,count,1');
    expect(lines).toContain('app_activity,,,,,last_activity_at,2026-11-12T09:00:00.000Z');
    for (const key of ['delivery_rate', 'read_rate', 'failure_rate', 'opt_out_rate', 'opted_out'])
      expect(lines).toContain(`campaign,,promo-nov,,,${key},${j.campaigns[0]![key]}`);
    expect(lines.filter((l) => l.startsWith('messages,'))).toHaveLength(30 * 4);
  });

  it('--since/--until: only those days; App activity is judged at the end of that period', async () => {
    const j = await json('--since', '2026-11-03', '--until', '2026-11-05');
    expect(j.period).toMatchObject({ since: '2026-11-03', until: '2026-11-05', days: 3 });
    expect(j.messages.totals).toEqual({ inbound: 2, api: 1, app: 0, total: 3 });
    expect(j.first_response.api).toEqual({ responses: 1, median_ms: 120_000, p90_ms: 120_000 });
    expect(j.first_response.app.responses).toBe(0);
    expect(j.first_response.unanswered).toBe(1);
    expect(j.campaigns).toEqual([]);
    // last echo 11-02 09:05, end of the period 11-06 00:00: 3.6 days
    expect(j.app_activity).toMatchObject({
      status: 'ok',
      active_days: 0,
      days: 3,
      days_since_last_activity: 3.6,
    });
  });

  it('--phone-number-id of another number: nothing of this one is counted', async () => {
    const j = await json('--phone-number-id', '999999999999999');
    expect(j.messages.totals.total).toBe(0);
    expect(j.campaigns).toEqual([]);
    expect(j.app_activity).toMatchObject({ status: 'unknown', last_activity_at: null });
  });

  it('--html writes one file in place (no temporary file left) and says where on stderr', async () => {
    const dir = join(home.home, 'out');
    mkdirSync(dir);
    const file = join(dir, 'report.html');
    const r = await report(['--html', file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`written to ${file}`);
    expect(readdirSync(dir)).toEqual(['report.html']);
    const html = readFileSync(file, 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).not.toMatch(/<script|https?:\/\/|<link/i);
  });
});

describe('bad input: exit 2, the flag named, nothing read or written', () => {
  const fresh = () => join(home.home, `never-${Math.random().toString(36).slice(2)}.db`);

  it.each([
    [['--since', '2026-02-30'], /--since: "2026-02-30" is not a valid date/],
    [['--until', '30/11/2026'], /--until: "30\/11\/2026" is not a valid date/],
    [['--since', '2026-11-10', '--until', '2026-11-01'], /--since 2026-11-10 is after --until 2026-11-01/],
    [
      ['--html', '/nonexistent-dir/r.html'],
      /--html: cannot write \/nonexistent-dir\/r.html: no such file or directory/,
    ],
    [['--csv', '--json'], /--csv: cannot be combined with --json/],
    [['--csv', '--html', 'x.html'], /--html: cannot be combined with --csv/],
  ])('%j', async (args, message) => {
    const store = fresh();
    const r = await report(args, { db: store });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    // with --json the error is also data on stdout, as for every command
    if (args.includes('--json')) expect(JSON.parse(r.stdout).error).toMatchObject({ exitCode: 2 });
    else expect(r.stdout).toBe('');
    expect(existsSync(store)).toBe(false);
  });

  it('--html naming a directory', async () => {
    const store = fresh();
    const r = await report(['--html', home.home], { db: store });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--html: cannot write .*: it is a directory/);
    expect(existsSync(store)).toBe(false);
  });
});

describe('wacx report on PostgreSQL', () => {
  it('the same store on PostgreSQL gives the same report, in every format and period', async () => {
    const postgres = { backend: 'postgres' as const, url: freshPostgresUrl() };
    await seedStore(home.env, home.home, postgres);
    const variants = [
      ['--json'],
      ['--csv'],
      ['--since', '2026-11-10', '--until', '2026-11-20', '--json'],
      ['--phone-number-id', '5000000000000999', '--json'],
    ];
    for (const args of variants) {
      const onSqlite = await report(args);
      const onPostgres = await runCli(['report', ...args], {
        env: { ...home.env, ...storeEnv(postgres) },
        clock: new FakeClock(NOW),
      });
      expect(onPostgres.stderr, args.join(' ')).toBe('');
      expect(onPostgres.code).toBe(0);
      expect(onPostgres.stdout, args.join(' ')).toBe(onSqlite.stdout);
    }
    expect((await json()).messages.totals.total).toBeGreaterThan(0);
  });
});
