import { describe, expect, it } from 'vitest';
import {
  activeSince,
  type CheckResult,
  compareVersions,
  countryCheck,
  daysActive,
  liveChecks,
  POLICIES,
  parseAppVersion,
  parsePhone,
  policy,
} from '../../src/lib/eligibility/check.js';
import { UsageError } from '../../src/lib/errors.js';

const NOW = Date.UTC(2026, 10, 24, 12, 0, 0); // 2026-11-24 12:00 UTC

describe('policies (data)', () => {
  it('current policy excludes no country', () => {
    expect(POLICIES.current.excluded).toEqual([]);
  });

  it('2025-02 lists every EU/EEA state plus the named countries, each with the date it was lifted', () => {
    const p = POLICIES['2025-02'];
    const codes = p.excluded.map((e) => e.country);
    const eea =
      'AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO'.split(' ');
    for (const c of [...eea, 'GB', 'AU', 'JP', 'ZA', 'NG', 'RU', 'TR', 'IN', 'PH', 'KR'])
      expect(codes).toContain(c);
    expect(new Set(codes).size).toBe(codes.length);
    for (const e of p.excluded) expect(e.liftedOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const lifted = Object.fromEntries(p.excluded.map((e) => [e.country, e.liftedOn]));
    expect(lifted.IN).toBe('2025-05-05');
    expect(lifted.GB).toBe('2025-10-23');
    expect(lifted.DE).toBe('2025-10-23');
    expect(lifted.NG).toBe('2026-04-15');
    expect(lifted.ZA).toBe('2026-04-15');
    expect(codes).not.toContain('US');
    expect(codes).not.toContain('KZ');
  });
});

describe('phone parsing', () => {
  it.each([
    ['+44 (20) 7946-0958', undefined, '+442079460958', 'GB'],
    ['0044 20 7946 0958', undefined, '+442079460958', 'GB'],
    ['020 7946 0958', 'GB', '+442079460958', 'GB'],
    ['06 12 34 56 78', 'fr', '+33612345678', 'FR'],
    ['+91 98765 43210', undefined, '+919876543210', 'IN'],
    ['+7 701 123 4567', undefined, '+77011234567', 'KZ'],
    ['+7 912 345 6789', undefined, '+79123456789', 'RU'],
    ['+358 18 12345', undefined, '+3581812345', 'AX'],
  ])('%s (default %s) → %s in %s', (input, cc, e164, country) => {
    const p = parsePhone(input, cc);
    expect(p.e164).toBe(e164);
    expect(p.country).toBe(country);
  });

  it('keeps a fictional +1 555 number with an unknown region and lists the regions sharing +1', () => {
    const p = parsePhone('+1 555-010-0001');
    expect(p.e164).toBe('+15550100001');
    expect(p.country).toBeNull();
    expect(p.valid).toBe(false);
    expect(p.regions).toContain('US');
  });

  it.each([
    ['hello', 'PHONE'],
    ['+44 1', 'PHONE'],
    ['+999 1234567', 'PHONE'],
    ['', 'PHONE'],
  ])('rejects %j naming %s', (input, location) => {
    expect(() => parsePhone(input)).toThrow(UsageError);
    try {
      parsePhone(input);
    } catch (e) {
      expect((e as UsageError).location).toBe(location);
    }
  });

  it('a number without + needs --default-country', () => {
    expect(() => parsePhone('020 7946 0958')).toThrow(/--default-country/);
    expect(() => parsePhone('020 7946 0958', 'XX')).toThrow(/--default-country/);
  });
});

describe('versions', () => {
  it.each([
    ['2.24.9', '2.24.17', -1],
    ['2.24.17', '2.24.17', 0],
    ['2.24.17.0', '2.24.17', 0],
    ['2.24.18', '2.24.17', 1],
    ['2.25.1.78', '2.24.17', 1],
    ['2.3.99', '2.24.17', -1],
    ['10.0', '2.24.17', 1],
    ['v2.24.17', '2.24.17', 0],
  ])('%s vs %s → %i', (a, b, r) => {
    expect(compareVersions(a, b)).toBe(r);
  });

  it.each(['abc', '2', '2.x.1', '', '2.24.17-beta', '1.2.3.4.5'])(
    'garbage %j is a usage error naming --app-version',
    (v) => {
      expect(() => parseAppVersion(v)).toThrow(UsageError);
      expect(() => parseAppVersion(v)).toThrow(/--app-version/);
    },
  );
});

describe('days active', () => {
  it.each([
    ['2026-11-17', 7],
    ['2026-11-18', 6],
    ['2026-11-24', 0],
    ['2024-11-24', 730],
    ['2026-02-28', 269],
  ])('--active-since %s is %i days before 2026-11-24', (since, days) => {
    expect(activeSince(since, NOW)).toEqual({ activeSince: since, daysActive: days });
  });

  it.each([
    ['2026-11-25', /future/],
    ['2025-02-30', /not a valid date/],
    ['2026-13-01', /not a valid date/],
    ['2026/01/01', /not a valid date/],
    ['yesterday', /not a valid date/],
  ])('--active-since %s is refused (%s)', (since, why) => {
    expect(() => activeSince(since, NOW)).toThrow(why);
    expect(() => activeSince(since, NOW)).toThrow(/--active-since/);
  });

  it('--days-active takes whole numbers only', () => {
    expect(daysActive('12').daysActive).toBe(12);
    for (const bad of ['-1', '1.5', 'x', '']) expect(() => daysActive(bad)).toThrow(/--days-active/);
  });
});

describe('country check wording', () => {
  it('says when a launch exclusion was lifted, under both policies', () => {
    const gb = parsePhone('+44 20 7946 0958');
    const launch = countryCheck(gb, policy('2025-02'));
    expect(launch.status).toBe('fail');
    expect(launch.reason).toContain('excluded under 2025-02, lifted on 2025-10-23');
    expect(launch.details).toMatchObject({ excluded: true, lifted_on: '2025-10-23', policy: '2025-02' });
    const current = countryCheck(gb, policy('current'));
    expect(current.status).toBe('pass');
    expect(current.reason).toContain('excluded under 2025-02, lifted on 2025-10-23');
    expect(current.details).toMatchObject({ excluded: false, lifted_on: '2025-10-23', policy: 'current' });
  });

  it('an ambiguous +7 number warns under 2025-02 (Russia or Kazakhstan)', () => {
    const p = { ...parsePhone('+7 912 345 6789'), country: null };
    const c = countryCheck(p, policy('2025-02'));
    expect(c.status).toBe('warn');
    expect(c.reason).toContain('Russia');
  });
});

describe('live checks (phone number node)', () => {
  const base = { id: '1', display_phone_number: '+1 555-010-0001' };
  const find = (n: object) => liveChecks({ kind: 'found', number: { ...base, ...n }, via: 'test' });
  const one = (n: object, id: string): CheckResult => {
    const c = find(n).find((x) => x.id === id);
    if (!c) throw new Error(`no check ${id}`);
    return c;
  };

  it('a pure Cloud API number fails', () => {
    const c = one({ platform_type: 'CLOUD_API', is_on_biz_app: false }, 'live_platform');
    expect(c.status).toBe('fail');
    expect(c.reason).toContain('Cloud API');
  });
  it('an already onboarded coexistence number warns', () => {
    expect(one({ platform_type: 'CLOUD_API', is_on_biz_app: true }, 'live_platform').status).toBe('warn');
  });
  it('an On-Premises number fails; an unregistered Business App number passes', () => {
    expect(one({ platform_type: 'ON_PREMISE' }, 'live_platform').status).toBe('fail');
    expect(one({ platform_type: 'NOT_APPLICABLE', is_on_biz_app: false }, 'live_platform').status).toBe(
      'pass',
    );
  });
  it('status BANNED fails, FLAGGED warns, CONNECTED passes', () => {
    expect(one({ status: 'BANNED' }, 'live_status').status).toBe('fail');
    expect(one({ status: 'FLAGGED' }, 'live_status').status).toBe('warn');
    expect(one({ status: 'CONNECTED' }, 'live_status').status).toBe('pass');
  });
  it('health_status BLOCKED fails with the entity errors; LIMITED warns', () => {
    const blocked = one(
      {
        health_status: {
          can_send_message: 'BLOCKED',
          entities: [
            {
              entity_type: 'WABA',
              id: '3',
              can_send_message: 'BLOCKED',
              errors: [{ error_code: 141006, error_description: 'payment method error' }],
            },
          ],
        },
      },
      'live_health',
    );
    expect(blocked.status).toBe('fail');
    expect(blocked.reason).toContain('141006');
    const limited = one(
      {
        health_status: {
          can_send_message: 'LIMITED',
          entities: [
            { entity_type: 'PHONE_NUMBER', id: '1', can_send_message: 'LIMITED', additional_info: ['name'] },
          ],
        },
      },
      'live_health',
    );
    expect(limited.status).toBe('warn');
  });
  it('skipped live checks keep the same detail keys as found ones', () => {
    const skipped = liveChecks({ kind: 'skip', reason: 'Skipped: no token.' });
    const found = find({ platform_type: 'CLOUD_API', is_on_biz_app: true, status: 'CONNECTED' });
    expect(skipped.map((c) => c.status)).toEqual(['skip', 'skip', 'skip']);
    expect(skipped.map((c) => Object.keys(c.details).sort())).toEqual(
      found.map((c) => Object.keys(c.details).sort()),
    );
  });
});
