import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { CHECK_IDS } from '../../src/lib/eligibility/check.js';
import type { Prompter } from '../../src/lib/io/prompter.js';
import { runCli, tempHome } from '../helpers/cli.js';

const home = tempHome();
afterAll(() => home.cleanup());
const clock = () => new FakeClock(Date.UTC(2026, 10, 24, 12, 0, 0));
const OK = ['--app-version', '2.25.3.78', '--active-since', '2025-06-01', '--offline'];

async function json(args: string[]) {
  const r = await runCli(['eligibility', ...args, '--json'], { env: home.env, clock: clock() });
  return { ...r, report: r.stdout ? JSON.parse(r.stdout) : undefined };
}

// Country table: [number, country, launch-policy outcome, lifted on]
const COUNTRIES: [string, string, 'pass' | 'fail', string | null][] = [
  ['+44 20 7946 0958', 'GB', 'fail', '2025-10-23'],
  ['+33 6 12 34 56 78', 'FR', 'fail', '2025-10-23'],
  ['+49 30 901820', 'DE', 'fail', '2025-10-23'],
  ['+47 412 34 567', 'NO', 'fail', '2025-10-23'],
  ['+91 98765 43210', 'IN', 'fail', '2025-05-05'],
  ['+61 412 345 678', 'AU', 'fail', '2025-10-23'],
  ['+81 90 1234 5678', 'JP', 'fail', '2025-10-23'],
  ['+27 82 123 4567', 'ZA', 'fail', '2026-04-15'],
  ['+234 803 123 4567', 'NG', 'fail', '2026-04-15'],
  ['+7 912 345 6789', 'RU', 'fail', '2025-10-23'],
  ['+90 532 123 4567', 'TR', 'fail', '2025-10-23'],
  ['+63 917 123 4567', 'PH', 'fail', '2025-10-23'],
  ['+82 10 1234 5678', 'KR', 'fail', '2025-10-23'],
  ['+1 212 555 0123', 'US', 'pass', null],
  ['+55 11 91234 5678', 'BR', 'pass', null],
  ['+7 701 123 4567', 'KZ', 'pass', null],
  ['+52 55 1234 5678', 'MX', 'pass', null],
];

describe('wacx eligibility: countries × policies', () => {
  it.each(COUNTRIES)(
    '%s (%s) is not excluded under the current policy',
    async (phone, country, _l, lifted) => {
      const r = await json([phone, ...OK]);
      expect(r.code).toBe(0);
      expect(r.report.eligible).toBe(true);
      const c = r.report.checks.find((x: { id: string }) => x.id === 'country');
      expect(c.status).toBe('pass');
      expect(c.details).toEqual({
        country,
        calling_code: expect.any(String),
        policy: 'current',
        excluded: false,
        lifted_on: lifted,
      });
    },
  );

  it.each(COUNTRIES)('%s (%s) under --policy 2025-02: %s', async (phone, country, outcome, lifted) => {
    const r = await json([phone, ...OK, '--policy', '2025-02']);
    expect(r.code).toBe(outcome === 'fail' ? 1 : 0);
    expect(r.report.eligible).toBe(outcome === 'pass');
    const c = r.report.checks.find((x: { id: string }) => x.id === 'country');
    expect(c.status).toBe(outcome);
    expect(c.details.country).toBe(country);
    if (outcome === 'fail') expect(c.reason).toContain(`excluded under 2025-02, lifted on ${lifted}`);
  });

  it('an unknown policy is a usage error naming --policy', async () => {
    const r = await runCli(['eligibility', '+44 20 7946 0958', ...OK, '--policy', '2024'], { env: home.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--policy');
  });
});

describe('wacx eligibility: versions and dates', () => {
  it.each([
    ['2.24.9', 1, 'fail'],
    ['2.24', 1, 'fail'],
    ['2.24.16.99', 1, 'fail'],
    ['2.24.17', 0, 'pass'],
    ['2.24.100', 0, 'pass'],
    ['2.25.3.78', 0, 'pass'],
  ])('--app-version %s → exit %i (%s)', async (v, code, status) => {
    const r = await json(['+1 212 555 0123', '--app-version', v, '--days-active', '30', '--offline']);
    expect(r.code).toBe(code);
    expect(r.report.checks.find((x: { id: string }) => x.id === 'app_version').status).toBe(status);
  });

  it.each(['banana', '2', '2..17', '2.24.17b'])(
    '--app-version %j is a usage error (exit 2, names the flag)',
    async (v) => {
      const r = await runCli(['eligibility', '+1 212 555 0123', '--app-version', v, '--days-active', '30'], {
        env: home.env,
      });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('--app-version');
      expect(r.stdout).toBe('');
    },
  );

  it.each([
    [['--active-since', '2026-11-17'], 0, 7],
    [['--active-since', '2026-11-18'], 1, 6],
    [['--active-since', '2026-11-24'], 1, 0],
    [['--days-active', '7'], 0, 7],
    [['--days-active', '3'], 1, 3],
    [['--days-active', '3', '--min-days', '3'], 0, 3],
  ])('%j on 2026-11-24 → exit %i (%i days)', async (flags, code, days) => {
    const r = await json(['+1 212 555 0123', '--app-version', '2.24.17', '--offline', ...flags]);
    expect(r.code).toBe(code);
    expect(r.report.days_active).toBe(days);
    const c = r.report.checks.find((x: { id: string }) => x.id === 'days_active');
    expect(c.status).toBe(code === 0 ? 'pass' : 'fail');
  });

  it.each([
    [['--active-since', '2026-11-25'], '--active-since', 'future'],
    [['--active-since', '2026-02-30'], '--active-since', 'not a valid date'],
    [['--days-active', 'many'], '--days-active', 'whole number'],
    [['--active-since', '2026-01-01', '--days-active', '3'], '--days-active', 'either'],
  ])('%j is a usage error naming %s', async (flags, flag, why) => {
    const r = await runCli(['eligibility', '+1 212 555 0123', '--app-version', '2.24.17', ...flags], {
      env: home.env,
      clock: clock(),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(flag);
    expect(r.stderr).toContain(why);
  });

  it('--min-days abc: the message and its hint name --min-days only', async () => {
    const r = await runCli(
      [
        'eligibility',
        '+1 212 555 0123',
        '--app-version',
        '2.24.17',
        '--days-active',
        '9',
        '--min-days',
        'abc',
      ],
      { env: home.env, clock: clock() },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--min-days');
    expect(r.stderr).toContain('Use e.g. --min-days 7');
    expect(r.stderr).not.toContain('--days-active 30');
  });
});

describe('wacx eligibility: output', () => {
  it('--json has every check with a stable id and all keys present', async () => {
    const r = await json(['0612345678', '--default-country', 'FR', ...OK, '--policy', '2025-02']);
    expect(r.code).toBe(1);
    expect(Object.keys(r.report).sort()).toEqual(
      [
        'active_since',
        'app_changes',
        'app_version',
        'checks',
        'days_active',
        'eligible',
        'phone',
        'policy',
        'summary',
      ].sort(),
    );
    expect(r.report.phone).toEqual({
      input: '0612345678',
      e164: '+33612345678',
      international: '+33 6 12 34 56 78',
      country: 'FR',
      calling_code: '33',
    });
    expect(r.report.checks.map((c: { id: string }) => c.id)).toEqual([...CHECK_IDS]);
    for (const c of r.report.checks)
      expect(Object.keys(c).sort()).toEqual(['details', 'id', 'label', 'reason', 'status']);
    expect(r.report.summary).toEqual({ pass: 3, warn: 0, fail: 1, skip: 3 });
    expect(
      r.report.checks
        .filter((c: { status: string }) => c.status === 'skip')
        .map((c: { reason: string }) => c.reason),
    ).toEqual(['Skipped: --offline.', 'Skipped: --offline.', 'Skipped: --offline.']);
  });

  it('shows what changes in the Business App before the signup: as text when eligible, always as data', async () => {
    const ok = await runCli(['eligibility', '+1 212 555 0123', ...OK], { env: home.env, clock: clock() });
    expect(ok.code).toBe(0);
    const text = ok.stdout;
    expect(text).toContain('What changes in the WhatsApp Business app with coexistence:');
    expect(text).toMatch(/- Group chats: not synchronized/);
    expect(text).toMatch(/- Disappearing messages: turned off for all 1:1 chats/);
    expect(text).toMatch(/- View once: turned off/);
    expect(text).toMatch(/- Live location: turned off/);
    expect(text).toMatch(/- Broadcast lists: .*read-only/);
    expect(text).toMatch(/- Linked devices: every companion app is unlinked.*Windows and WearOS/);
    expect(text).toMatch(/- Pricing: messages sent from the App stay free.*billed/);
    // before the pointer to the signup
    expect(text.indexOf('What changes')).toBeLessThan(text.indexOf('Next: `wacx onboard`'));

    const r = await json(['+1 212 555 0123', ...OK]);
    expect(r.report.app_changes.map((c: { id: string }) => c.id)).toEqual(
      expect.arrayContaining([
        'group_chats',
        'disappearing_messages',
        'view_once',
        'live_location',
        'broadcast_lists',
        'companion_apps',
        'pricing',
      ]),
    );
    for (const c of r.report.app_changes) expect(Object.keys(c).sort()).toEqual(['change', 'feature', 'id']);
  });

  it('prints a checklist with ✓ ! ✗ - and the verdict', async () => {
    const r = await runCli(
      ['eligibility', '+1 555-010-0001', '--app-version', '2.24.9', '--days-active', '30', '--offline'],
      {
        env: home.env,
      },
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/! Phone number +\+1 555 010 0001 has a possible length/);
    expect(r.stdout).toMatch(/✓ Country/);
    expect(r.stdout).toMatch(/✗ Business App version +2\.24\.9 is older than 2\.24\.17/);
    expect(r.stdout).toMatch(/- Live checks +Skipped: --offline\./);
    expect(r.stdout).toContain('Not eligible: 1 check failed.');
  });

  it('skips the live checks with the reason when there is no token', async () => {
    const r = await json([
      '+1 212 555 0123',
      '--app-version',
      '2.24.17',
      '--days-active',
      '9',
      '--phone-number-id',
      '123',
    ]);
    expect(r.code).toBe(0);
    const live = r.report.checks.filter((c: { id: string }) => c.id.startsWith('live_'));
    expect(live.map((c: { status: string }) => c.status)).toEqual(['skip', 'skip', 'skip']);
    expect(live[0].reason).toMatch(/^Skipped: No access token/);
  });

  it('skips the live checks when offline (Graph unreachable)', async () => {
    const env = {
      ...home.env,
      WACX_TOKEN: 'EAAtesttoken123456789012345',
      WACX_GRAPH_URL: 'http://127.0.0.1:9',
    };
    const r = await runCli(
      [
        'eligibility',
        '+1 212 555 0123',
        '--app-version',
        '2.24.17',
        '--days-active',
        '9',
        '--phone-number-id',
        '1',
        '--json',
      ],
      { env },
    );
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.checks.find((c: { id: string }) => c.id === 'live_platform').reason).toMatch(/unreachable/);
  });
});

describe('wacx eligibility: missing values', () => {
  it.each([
    [['--app-version', '2.24.17', '--days-active', '9'], 'the PHONE argument'],
    [['+1 212 555 0123', '--days-active', '9'], '--app-version'],
    [['+1 212 555 0123', '--app-version', '2.24.17'], '--active-since or --days-active'],
    [['0612345678', '--app-version', '2.24.17', '--days-active', '9'], '--default-country'],
  ])('without a TTY, %j is a usage error naming %s (exit 2)', async (args, flag) => {
    const r = await runCli(['eligibility', ...args], { env: home.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(flag);
    expect(r.stdout).toBe('');
  });

  it('--no-input on a TTY still refuses to prompt', async () => {
    const env = { ...home.env, CI: '' };
    const r = await runCli(['eligibility', '+1 212 555 0123', '--days-active', '9', '--no-input'], {
      env,
      tty: true,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--app-version');
  });

  it('on a TTY, asks for each missing value (fake prompter) and validates answers', async () => {
    const asked: { message: string; flag: string }[] = [];
    const answers = ['+44 20 7946 0958', '2.24.17', '2026-11-01'];
    const prompter: Prompter = {
      async input(q) {
        asked.push({ message: q.message, flag: q.flag });
        const answer = answers.shift()!;
        // the validator refuses garbage before accepting the real answer
        expect(q.validate?.('garbage')).toEqual(expect.any(String));
        expect(q.validate?.(answer)).toBe(true);
        return answer;
      },
      password: async () => '',
      confirm: async () => false,
      select: async () => {
        throw new Error('unexpected');
      },
    };
    const r = await runCli(['eligibility', '--offline', '--json'], {
      env: home.env,
      prompter,
      clock: clock(),
    });
    expect(r.code).toBe(0);
    expect(asked.map((q) => q.flag)).toEqual([
      'the PHONE argument',
      '--app-version',
      '--active-since or --days-active',
    ]);
    const report = JSON.parse(r.stdout);
    expect(report.phone.e164).toBe('+442079460958');
    expect(report.active_since).toBe('2026-11-01');
    expect(report.days_active).toBe(23);
  });
});
