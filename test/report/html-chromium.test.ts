import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { percent } from '../../src/lib/report/text.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { NOW, seedStore } from './seed.js';

/**
 * `wacx report --html` opened in a real headless Chromium (Debian's package, never a downloaded browser): the
 * charts are drawn, the numbers shown are those of `--json`, and the page fetches nothing.
 */
const CHROMIUM = '/usr/bin/chromium';
const ci = ['1', 'true'].includes(String(process.env.CI).toLowerCase());
const root = join(import.meta.dirname, '..', '..');

// Locally the test installs Chromium as CI does (as root); elsewhere it is skipped. Under CI it must be there.
if (!existsSync(CHROMIUM) && !ci && process.getuid?.() === 0)
  spawnSync(join(root, 'scripts', 'install-chromium.sh'), { stdio: 'ignore' });
const available = existsSync(CHROMIUM);

interface Json {
  messages: { days: Record<string, string | number>[]; totals: Record<string, number> };
  first_response: Record<string, { responses: number; median_ms: number | null; p90_ms: number | null }> & {
    unanswered: number;
  };
  campaigns: Record<string, string | number | null>[];
  app_activity: Record<string, unknown>;
}

const home = tempHome();
const db = join(home.home, 'wacx.db');
const file = join(home.home, 'report.html');
let context: BrowserContext;
let page: Page;
let report: Json;
const requests: string[] = [];
let profile: string;

/** The text as the browser renders it (innerText), not merely what the DOM holds. */
const shown = (selector: string) =>
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is what the test checks
  page.locator(selector).innerText();
const cell = (table: string, row: string, key: string) =>
  shown(`#${table} tr[data-row="${row}"] td[data-key="${key}"]`);

describe.skipIf(!available && !ci)('the HTML report in headless Chromium', () => {
  beforeAll(async () => {
    if (!available)
      throw new Error(
        `${CHROMIUM} is missing: CI must install it (scripts/install-chromium.sh, run by .ci/run).`,
      );
    await seedStore(home.env, home.home, db);
    const env = { ...home.env, WACX_DB: db };
    const html = await runCli(['report', '--html', file], { env, clock: new FakeClock(NOW) });
    expect(html.code).toBe(0);
    const json = await runCli(['report', '--json'], { env, clock: new FakeClock(NOW) });
    expect(json.code).toBe(0);
    report = JSON.parse(json.stdout) as Json;

    profile = mkdtempSync(join(tmpdir(), 'wacx-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(pathToFileURL(file).href);
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    home.cleanup();
  });

  it('fetches nothing but the file itself', () => {
    expect(requests).toEqual([pathToFileURL(file).href]);
  });

  it('draws the messages chart: one bar per source and day with messages, the tallest for the busiest day', async () => {
    const chart = page.locator('#chart-messages');
    expect(await chart.isVisible()).toBe(true);
    const box = await chart.boundingBox();
    expect(box!.width).toBeGreaterThan(300);
    const nonZero = report.messages.days.reduce(
      (n, d) => n + ['inbound', 'api', 'app'].filter((s) => Number(d[s]) > 0).length,
      0,
    );
    expect(nonZero).toBeGreaterThan(0);
    expect(await chart.locator('rect.bar').count()).toBe(nonZero);
    const heights = async (day: string) => {
      let sum = 0;
      for (const r of await chart.locator(`g[data-day="${day}"] rect.bar`).all())
        sum += (await r.boundingBox())!.height;
      return sum;
    };
    // 2026-11-20 has 4 messages, 2026-11-05 one: drawn four times as tall
    expect((await heights('2026-11-20')) / (await heights('2026-11-05'))).toBeCloseTo(4, 1);
  });

  it('shows the messages per day and the totals of --json', async () => {
    for (const d of report.messages.days)
      for (const key of ['inbound', 'api', 'app', 'total'])
        expect(await cell('table-messages', String(d.day), key)).toBe(String(d[key]));
    for (const key of ['inbound', 'api', 'app', 'total'])
      expect(await cell('table-messages', 'total', key)).toBe(String(report.messages.totals[key]));
  });

  it('shows the first-response times of --json, with a bar per source', async () => {
    for (const source of ['app', 'api', 'all']) {
      const f = report.first_response[source]!;
      expect(await cell('table-first-response', source, 'responses')).toBe(String(f.responses));
      expect(await cell('table-first-response', source, 'median_ms')).toBe(String(f.median_ms));
      expect(await cell('table-first-response', source, 'p90_ms')).toBe(String(f.p90_ms));
    }
    expect(await shown('#unanswered')).toBe(String(report.first_response.unanswered));
    const medians = page.locator('#chart-first-response rect.median');
    expect(await medians.count()).toBe(3);
    for (const r of await medians.all()) expect((await r.boundingBox())!.width).toBeGreaterThan(0);
  });

  it('shows each campaign with the counts and rates of --json, and its failure codes', async () => {
    expect(report.campaigns.length).toBeGreaterThan(0);
    for (const c of report.campaigns) {
      const id = String(c.id);
      for (const key of ['messages', 'delivered', 'read', 'failed', 'opted_out'])
        expect(await cell('table-campaigns', id, key)).toBe(String(c[key]));
      for (const key of ['delivery_rate', 'read_rate', 'failure_rate', 'opt_out_rate'])
        expect(await cell('table-campaigns', id, key)).toBe(percent(c[key] as number | null));
      for (const f of c.failure_codes as unknown as { code: number; count: number }[])
        expect(await cell('table-failure-codes', `${id}/${f.code}`, 'count')).toBe(String(f.count));
    }
    const failed = page.locator('#chart-campaigns rect.failed');
    expect((await failed.first().boundingBox())!.width).toBeGreaterThan(0);
  });

  it('shows App activity against the 14-day rule as --json does', async () => {
    const a = report.app_activity;
    expect(await cell('table-app-activity', 'status', 'status')).toMatch(new RegExp(`^${a.status} `));
    expect(await cell('table-app-activity', 'active_days', 'active_days')).toBe(String(a.active_days));
    expect(await cell('table-app-activity', 'days_since_last_activity', 'days_since_last_activity')).toBe(
      String(a.days_since_last_activity),
    );
    const strip = page.locator('#chart-app-activity rect.active');
    expect(await strip.count()).toBe(report.messages.days.filter((d) => Number(d.app) > 0).length);
    expect(await page.locator('#table-gaps tbody tr').count()).toBe((a.gaps as unknown[]).length);
  });
});
