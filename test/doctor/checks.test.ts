import { describe, expect, it } from 'vitest';
import { parseBusinessUseCaseUsage } from '../../src/lib/doctor/gather.js';
import {
  apiVersionState,
  CHECKS,
  type DoctorFacts,
  exitCodeOf,
  isSkipped,
  renderText,
  type Style,
  toJson,
  unknownSkipPatterns,
} from '../../src/lib/doctor/run.js';
import { REJECTION_LOG_ROWS } from '../../src/lib/webhooks/storage.js';
import {
  APP,
  accountUpdate,
  check,
  contact,
  DAY,
  echo,
  forge,
  greenFacts,
  HOUR,
  historyChunk,
  historyDeclined,
  ingest,
  NOW,
  partnerRemoved,
  recordSync,
  run,
  seedHealthy,
  storeFacts,
  WABA,
} from './fixtures.js';

const plain: Style = {
  green: (s) => s,
  yellow: (s) => s,
  red: (s) => s,
  dim: (s) => s,
  bold: (s) => s,
  cyan: (s) => s,
};

function withFacts(change: (f: DoctorFacts) => void): DoctorFacts {
  const f = greenFacts();
  change(f);
  return f;
}

/** The value of a gathered fixture fact, typed loosely so that tests can bend it. */
function ok<T>(g: unknown): T {
  const x = g as { state: string; value?: unknown };
  if (x.state !== 'ok') throw new Error('fixture not ok');
  return x.value as T;
}

describe('doctor checks: the all-green set-up', () => {
  it('passes every check, and exits 0 even with --strict', () => {
    const results = [...run(greenFacts()).values()];
    const notPassing = results.filter((r) => r.status !== 'pass');
    expect(notPassing).toEqual([]);
    expect(results.length).toBe(CHECKS.length);
    expect(exitCodeOf(results, true)).toBe(0);
  });

  it('has unique ids, each in a known group, in group order', () => {
    const ids = CHECKS.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ['token.valid', 'waba.subscribed', 'number.coexistence', 'sync.echo_age'])
      expect(ids).toContain(id);
    const groups = [...run(greenFacts()).values()].map((r) => r.group);
    expect([...new Set(groups)]).toEqual(['Set-up', 'Token', 'WABA', 'Number', 'Sync health', 'Templates']);
  });
});

describe('doctor checks: Set-up', () => {
  it('fails on an old Node.js and warns on an end-of-life line', () => {
    expect(
      check(
        withFacts((f) => (f.nodeVersion = 'v18.20.0')),
        'setup.node',
      ).status,
    ).toBe('fail');
    const eol = check(
      withFacts((f) => (f.nodeVersion = 'v20.20.2')),
      'setup.node',
    );
    expect(eol.status).toBe('warn');
    expect(eol.detail).toContain('2026-04-30');
    expect(
      check(
        withFacts((f) => (f.nodeVersion = 'v20.20.2')),
        'setup.node',
      ).fix,
    ).toMatch(/22 or 24/);
  });

  it('fails without a profile and without env settings, passes with env only', () => {
    const none = withFacts((f) => {
      f.config.profileExists = false;
      f.config.token = { present: false, source: 'unset' };
      f.config.profileNames = ['work'];
    });
    const r = check(none, 'setup.profile');
    expect(r.status).toBe('fail');
    expect(r.fix).toContain('--profile (work)');
    const envOnly = withFacts((f) => {
      f.config.profileExists = false;
      f.config.token = { present: true, source: 'env' };
    });
    expect(check(envOnly, 'setup.profile').status).toBe('pass');
  });

  it('config file mode: 0600 passes, 0644 with secrets fails with chmod, 0644 without warns', () => {
    const r = check(
      withFacts((f) => {
        f.config.configMode = 0o644;
        f.config.configHoldsSecrets = true;
      }),
      'setup.config_mode',
    );
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('0644');
    expect(r.fix).toBe('chmod 600 /home/u/.config/wacx/config.json');
    expect(
      check(
        withFacts((f) => (f.config.configMode = 0o640)),
        'setup.config_mode',
      ).status,
    ).toBe('warn');
    expect(
      check(
        withFacts((f) => (f.config.configMode = null)),
        'setup.config_mode',
      ).status,
    ).toBe('skip');
  });

  it('secrets: says where they come from; no token fails, no app secret warns', () => {
    const green = check(greenFacts(), 'setup.secrets');
    expect(green.detail).toBe('token from the OS keychain, app secret from the OS keychain');
    const env = check(
      withFacts((f) => (f.config.token = { present: true, source: 'env' })),
      'setup.secrets',
    );
    expect(env.detail).toContain('token from the environment (WACX_TOKEN)');
    expect(
      check(
        withFacts((f) => (f.config.token = { present: false, source: 'unset' })),
        'setup.secrets',
      ).status,
    ).toBe('fail');
    const noSecret = check(
      withFacts((f) => (f.config.appSecret = { present: false, source: 'unset' })),
      'setup.secrets',
    );
    expect(noSecret.status).toBe('warn');
    expect(noSecret.fix).toContain('WACX_APP_SECRET');
  });

  it('clock skew: within tolerance passes, 2 min warns, 10 min fails, no Date header skips', () => {
    const skewed = (ms: number) =>
      withFacts((f) => {
        f.api = {
          state: 'ok',
          value: { sentAt: NOW, receivedAt: NOW + 40, serverDate: Math.floor((NOW + ms) / 1000) * 1000 },
        };
      });
    expect(check(skewed(0), 'setup.clock_skew').status).toBe('pass');
    const behind = check(skewed(120_000), 'setup.clock_skew');
    expect(behind.status).toBe('warn');
    expect(behind.detail).toMatch(/^local clock is 1 min behind/);
    const ahead = check(skewed(-600_000), 'setup.clock_skew');
    expect(ahead.status).toBe('fail');
    expect(ahead.detail).toMatch(/ahead of/);
    expect(ahead.fix).toContain('NTP');
    const noDate = withFacts((f) => {
      f.api = { state: 'ok', value: { sentAt: NOW, receivedAt: NOW + 1, serverDate: null } };
    });
    expect(check(noDate, 'setup.clock_skew').status).toBe('skip');
  });

  it('API unreachable: setup.api fails, every API check is skipped with the reason, local checks still run', () => {
    const reason = 'API unreachable: GET http://127.0.0.1:9/v25.0/debug_token failed: ECONNREFUSED';
    const f = withFacts((x) => {
      const s = { state: 'skipped' as const, reason, fix: null };
      x.api = {
        state: 'error',
        error: { message: 'GET … failed: ECONNREFUSED', code: null, status: null, network: true },
      };
      x.token = s;
      x.waba = s;
      x.subscribedApps = s;
      x.appSubscriptions = s;
      x.phone = s;
      x.templates = s;
    });
    const results = run(f);
    expect(results.get('setup.api')!.status).toBe('fail');
    expect(results.get('setup.api')!.detail).toMatch(/^API unreachable/);
    for (const id of [
      'token.valid',
      'token.scopes',
      'waba.subscribed',
      'waba.webhook_fields',
      'number.coexistence',
      'templates.paused',
    ]) {
      expect(results.get(id)!.status, id).toBe('skip');
      expect(results.get(id)!.detail, id).toBe(reason);
    }
    for (const id of [
      'setup.node',
      'setup.config_mode',
      'number.api_version',
      'sync.webhooks',
      'sync.echo_age',
    ]) {
      expect(results.get(id)!.status, id).toBe('pass');
    }
  });
});

describe('doctor checks: Token', () => {
  it('a revoked token (190) fails token.valid with a fix; dependent checks skip', () => {
    const f = withFacts((x) => {
      x.token = {
        state: 'error',
        error: { message: 'Error validating access token', code: 190, status: 401, network: false },
      };
    });
    const r = check(f, 'token.valid');
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('expired or was revoked');
    expect(r.fix).toContain('wacx auth login');
    expect(check(f, 'token.scopes').status).toBe('skip');
  });

  it('is_valid false fails, expired token fails, soon-expiring warns, non-expiring passes', () => {
    const debug = (change: (d: Record<string, unknown>) => void) =>
      withFacts((f) => change(ok<{ debug: Record<string, unknown> }>(f.token).debug));
    expect(
      check(
        debug((d) => (d.is_valid = false)),
        'token.valid',
      ).status,
    ).toBe('fail');
    expect(
      check(
        debug((d) => (d.expires_at = Math.floor((NOW - DAY) / 1000))),
        'token.expiry',
      ).status,
    ).toBe('fail');
    const soon = check(
      debug((d) => (d.expires_at = Math.floor((NOW + 2 * DAY) / 1000))),
      'token.expiry',
    );
    expect(soon.status).toBe('warn');
    expect(soon.detail).toContain('expires in 2 days');
    expect(
      check(
        debug((d) => (d.expires_at = Math.floor((NOW + 60 * DAY) / 1000))),
        'token.expiry',
      ).status,
    ).toBe('pass');
    expect(check(greenFacts(), 'token.expiry').detail).toBe('never expires');
  });

  it('missing scopes fail and are named', () => {
    const f = withFacts((x) => {
      ok<{ debug: { scopes: string[] } }>(x.token).debug.scopes = ['whatsapp_business_management'];
    });
    const r = check(f, 'token.scopes');
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('missing whatsapp_business_messaging');
  });

  it('granular target ids not covering the WABA fail and suggest the covered WABA', () => {
    const f = withFacts((x) => {
      const d = ok<{ debug: { granular_scopes: { scope: string; target_ids: string[] }[] } }>(x.token).debug;
      d.granular_scopes = d.granular_scopes.map((g) => ({ ...g, target_ids: ['999'] }));
    });
    const r = check(f, 'token.waba_access');
    expect(r.status).toBe('fail');
    expect(r.detail).toContain(`not granted on WABA ${WABA}`);
    expect(r.fix).toContain('wacx config set wabaId 999');
  });

  it('a token of another app than the profile says warns', () => {
    const r = check(
      withFacts((f) => (f.config.appId = { value: '42', source: 'profile' })),
      'token.valid',
    );
    expect(r.status).toBe('warn');
    expect(r.fix).toContain(`wacx config set appId ${APP}`);
  });
});

describe('doctor checks: WABA', () => {
  it('app not subscribed fails; nobody subscribed fails', () => {
    const other = withFacts((f) => {
      f.subscribedApps = {
        state: 'ok',
        value: [{ whatsapp_business_api_data: { id: '77', name: 'Other' } }],
      };
    });
    const r = check(other, 'waba.subscribed');
    expect(r.status).toBe('fail');
    expect(r.detail).toContain(`app ${APP} is not subscribed`);
    expect(r.fix).toContain(`/${WABA}/subscribed_apps`);
    expect(
      check(
        withFacts((f) => (f.subscribedApps = { state: 'ok', value: [] })),
        'waba.subscribed',
      ).status,
    ).toBe('fail');
  });

  it('missing webhook fields fail and are named; an inactive subscription fails', () => {
    const f = withFacts((x) => {
      const sub = ok<{ fields: { name: string }[] }[]>(x.appSubscriptions)[0]!;
      sub.fields = sub.fields.filter((y) => y.name !== 'smb_message_echoes' && y.name !== 'history');
    });
    const r = check(f, 'waba.webhook_fields');
    expect(r.status).toBe('fail');
    expect(r.detail).toBe('missing history, smb_message_echoes');
    expect(r.fix).toContain('Webhook fields');
    const inactive = withFacts((x) => {
      ok<{ active: boolean }[]>(x.appSubscriptions)[0]!.active = false;
    });
    expect(check(inactive, 'waba.webhook_fields').status).toBe('fail');
  });

  it('no app secret skips the webhook fields with the reason', () => {
    const f = withFacts((x) => {
      x.appSubscriptions = { state: 'skipped', reason: 'no app secret: …', fix: 'Set WACX_APP_SECRET' };
    });
    expect(check(f, 'waba.webhook_fields')).toMatchObject({
      status: 'skip',
      detail: 'no app secret: …',
      fix: 'Set WACX_APP_SECRET',
    });
  });

  it('no WABA id fails and suggests the token’s WABA', () => {
    const r = check(
      withFacts((f) => (f.config.wabaId = { value: null, source: 'unset' })),
      'waba.reachable',
    );
    expect(r.status).toBe('fail');
    expect(r.fix).toContain(`wacx config set wabaId ${WABA}`);
  });

  it('rate usage: throttled fails, 85% warns; header parsing', () => {
    const usage = parseBusinessUseCaseUsage(
      JSON.stringify({
        [WABA]: [
          {
            type: 'whatsapp_business_management',
            call_count: 85,
            total_cputime: 1,
            total_time: 2,
            estimated_time_to_regain_access: 0,
          },
        ],
      }),
      WABA,
    );
    expect(usage).toEqual([
      {
        type: 'whatsapp_business_management',
        callCount: 85,
        totalCputime: 1,
        totalTime: 2,
        estimatedTimeToRegainAccess: 0,
      },
    ]);
    const f = withFacts((x) => {
      ok<{ usage: unknown }>(x.waba).usage = usage;
    });
    expect(check(f, 'waba.rate_usage').status).toBe('warn');
    const throttled = withFacts((x) => {
      ok<{ usage: unknown }>(x.waba).usage = [{ ...usage![0]!, estimatedTimeToRegainAccess: 12 }];
    });
    expect(check(throttled, 'waba.rate_usage').detail).toContain('12 min');
    expect(parseBusinessUseCaseUsage('not json', WABA)).toBeNull();
  });
});

describe('doctor checks: Number', () => {
  const phone = (change: (p: Record<string, unknown>) => void) =>
    withFacts((f) => change(ok<Record<string, unknown>>(f.phone)));

  it('coexistence: pure Cloud API fails, Business App without Cloud API fails', () => {
    const cloud = check(
      phone((p) => (p.is_on_biz_app = false)),
      'number.coexistence',
    );
    expect(cloud.status).toBe('fail');
    expect(cloud.detail).toContain('Cloud API-only');
    const biz = check(
      phone((p) => (p.platform_type = 'NOT_APPLICABLE')),
      'number.coexistence',
    );
    expect(biz.status).toBe('fail');
    expect(biz.fix).toContain('wacx onboard');
  });

  it('status, health, quality and display name', () => {
    expect(
      check(
        phone((p) => (p.status = 'DISCONNECTED')),
        'number.status',
      ).status,
    ).toBe('fail');
    expect(
      check(
        phone((p) => (p.status = 'PENDING')),
        'number.status',
      ).status,
    ).toBe('warn');
    const blocked = check(
      phone(
        (p) =>
          (p.health_status = {
            can_send_message: 'BLOCKED',
            entities: [
              {
                entity_type: 'WABA',
                id: WABA,
                can_send_message: 'BLOCKED',
                errors: [
                  {
                    error_code: 141006,
                    error_description: 'payment method',
                    possible_solution: 'Add a payment method.',
                  },
                ],
              },
            ],
          }),
      ),
      'number.health',
    );
    expect(blocked).toMatchObject({ status: 'fail', fix: 'Add a payment method.' });
    expect(blocked.detail).toContain('WABA 141006 payment method');
    const limited = check(
      phone(
        (p) =>
          (p.health_status = {
            can_send_message: 'LIMITED',
            entities: [
              {
                entity_type: 'PHONE_NUMBER',
                id: '1',
                can_send_message: 'LIMITED',
                additional_info: ['Name not approved.'],
              },
            ],
          }),
      ),
      'number.health',
    );
    expect(limited.status).toBe('warn');
    expect(limited.detail).toContain('Name not approved.');
    expect(
      check(
        phone((p) => (p.quality_rating = 'YELLOW')),
        'number.quality',
      ).status,
    ).toBe('warn');
    expect(
      check(
        phone((p) => (p.quality_rating = 'RED')),
        'number.quality',
      ).status,
    ).toBe('fail');
    expect(
      check(
        phone((p) => (p.name_status = 'DECLINED')),
        'number.name_status',
      ).status,
    ).toBe('fail');
    expect(
      check(
        phone((p) => (p.name_status = 'PENDING_REVIEW')),
        'number.name_status',
      ).status,
    ).toBe('warn');
  });

  it('throughput and messaging limit are described', () => {
    expect(check(greenFacts(), 'number.throughput').detail).toContain('fixed 20 messages/s');
    expect(check(greenFacts(), 'number.messaging_limit').detail).toContain('2,000 unique users');
    const old = withFacts((f) => {
      f.config.apiVersion = { value: 'v23.0', source: 'profile' };
      delete ok<Record<string, unknown>>(f.phone).whatsapp_business_manager_messaging_limit;
    });
    expect(check(old, 'number.messaging_limit')).toMatchObject({ status: 'skip' });
    expect(check(old, 'number.messaging_limit').detail).toContain('v24.0+');
  });

  it('no phone number id fails and lists the WABA’s numbers', () => {
    const f = withFacts((x) => {
      x.config.phoneNumberId = { value: null, source: 'unset' };
      x.phone = {
        state: 'skipped',
        reason: 'no phone number id configured (see number.reachable)',
        fix: null,
      };
      x.wabaNumbers = {
        state: 'ok',
        value: [
          {
            id: '5000000000000002',
            display_phone_number: '+1 555-010-0002',
            platform_type: 'CLOUD_API',
            is_on_biz_app: false,
          },
          {
            id: '5000000000000001',
            display_phone_number: '+1 555-010-0001',
            platform_type: 'CLOUD_API',
            is_on_biz_app: true,
          },
        ],
      };
    });
    const r = check(f, 'number.reachable');
    expect(r.status).toBe('fail');
    expect(r.fix).toContain('wacx config set phoneNumberId 5000000000000001');
    expect(r.fix).toContain('coexistence');
  });

  it('API version: table, 90-day warning, expired', () => {
    const at = (v: string, now: number) =>
      check(
        withFacts((f) => {
          f.now = now;
          f.config.apiVersion = { value: v, source: 'flag' };
        }),
        'number.api_version',
      );
    expect(at('v25.0', NOW).status).toBe('pass');
    expect(at('v21.0', Date.UTC(2026, 10, 24)).status).toBe('warn'); // ends 2027-01-21
    expect(at('v21.0', Date.UTC(2026, 10, 24)).detail).toContain('2027-01-21');
    expect(at('v20.0', NOW).status).toBe('fail');
    expect(at('v19.0', NOW).status).toBe('fail');
    expect(at('v27.0', NOW).status).toBe('pass');
    expect(apiVersionState('v22.0', Date.UTC(2027, 5, 1), 90).state).toBe('expired');
  });
});

describe('doctor checks: Sync health', () => {
  const withStore = (fill: Parameters<typeof storeFacts>[0], change?: (f: DoctorFacts) => void) =>
    withFacts((f) => {
      f.store = storeFacts(fill);
      change?.(f);
    });

  it('no webhook at all fails with the receiver fix; dependent checks skip', () => {
    const f = withStore(() => {});
    const r = check(f, 'sync.webhooks');
    expect(r.status).toBe('fail');
    expect(r.fix).toContain('wacx webhooks serve');
    expect(check(f, 'sync.echo_age').status).toBe('skip');
  });

  it('echo age: 11 days warns, 13 days fails, thresholds configurable', () => {
    const stale = (days: number) =>
      withStore((db) => {
        seedHealthy(db, NOW - days * DAY);
      });
    expect(check(stale(11), 'sync.echo_age').status).toBe('warn');
    const r = check(stale(13.5), 'sync.echo_age');
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('last message echo from the App 13 days ago');
    expect(r.fix).toContain('Open the WhatsApp Business App');
    expect(check(stale(11), 'sync.echo_age', { activityWarnDays: 20, activityFailDays: 30 }).status).toBe(
      'pass',
    );
    expect(check(stale(6), 'sync.echo_age', { activityWarnDays: 5, activityFailDays: 8 }).status).toBe(
      'warn',
    );
  });

  it('a recent contact sync counts as App activity', () => {
    const f = withStore((db) => {
      seedHealthy(db, NOW - 20 * DAY);
      ingest(db, [{ payload: contact(NOW - 2 * HOUR, '16505559999'), at: NOW - 2 * HOUR }]);
    });
    expect(check(f, 'sync.echo_age')).toMatchObject({
      status: 'pass',
      detail: 'last contact sync from the App 2 h ago',
    });
  });

  it('PARTNER_REMOVED with PRIMARY_INACTIVITY fails with its meaning and fix', () => {
    const f = withStore((db) => {
      seedHealthy(db);
      ingest(db, [{ payload: partnerRemoved(NOW - 2 * HOUR), at: NOW - 2 * HOUR }]);
    });
    const r = check(f, 'sync.account_update');
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('PARTNER_REMOVED 2 h ago (PRIMARY_INACTIVITY, initiated by SYSTEM)');
    expect(r.detail).toContain('about 14 days');
    expect(r.fix).toContain('wacx onboard');
  });

  it('ACCOUNT_OFFBOARDED without ACCOUNT_RECONNECTED fails; reconnected passes', () => {
    const off = withStore((db) => {
      seedHealthy(db);
      ingest(db, [{ payload: accountUpdate('ACCOUNT_OFFBOARDED', NOW - HOUR), at: NOW - HOUR }]);
    });
    const r = check(off, 'sync.account_update');
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('no ACCOUNT_RECONNECTED');
    const back = withStore((db) => {
      seedHealthy(db);
      ingest(db, [
        { payload: accountUpdate('ACCOUNT_OFFBOARDED', NOW - HOUR), at: NOW - HOUR },
        { payload: accountUpdate('ACCOUNT_RECONNECTED', NOW - 30 * 60_000), at: NOW - 30 * 60_000 },
      ]);
    });
    expect(check(back, 'sync.account_update')).toMatchObject({ status: 'pass' });
    expect(check(back, 'sync.account_update').detail).toContain('ACCOUNT_RECONNECTED');
  });

  it('history declined fails; complete passes; stalled warns', () => {
    const declined = withStore((db) => {
      seedHealthy(db);
      ingest(db, [{ payload: historyDeclined(), at: NOW - DAY }]);
    });
    const r = check(declined, 'sync.history');
    expect(r.status).toBe('fail');
    expect(r.detail).toContain('2593109');
    expect(check(greenFacts(), 'sync.history').detail).toContain('complete: 2 chunks');
    const stalled = withStore((db) => {
      recordSync(db, 'history', NOW - 20 * HOUR, NOW - 21 * HOUR);
      ingest(db, [
        { payload: historyChunk(0, 1, 40), at: NOW - 19 * HOUR },
        { payload: echo(NOW - HOUR), at: NOW - HOUR },
      ]);
    });
    const s = check(stalled, 'sync.history');
    expect(s.status).toBe('warn');
    expect(s.detail).toMatch(/^stalled at 40% after 1 chunk, the last 19 h ago/);
  });

  it('history not requested: warns inside the 24 h window, fails after it', () => {
    const inside = withStore(
      (db) => ingest(db, [{ payload: echo(NOW - HOUR), at: NOW - HOUR }]),
      (f) => {
        ok<Record<string, unknown>>(f.phone).last_onboarded_time = new Date(NOW - 5 * HOUR).toISOString();
      },
    );
    const w = check(inside, 'sync.history');
    expect(w.status).toBe('warn');
    expect(w.detail).toContain('19 h left');
    expect(w.fix).toContain('wacx history sync --history');
    const outside = withStore(
      (db) => ingest(db, [{ payload: echo(NOW - HOUR), at: NOW - HOUR }]),
      (f) => {
        ok<Record<string, unknown>>(f.phone).last_onboarded_time = new Date(NOW - 30 * HOUR).toISOString();
      },
    );
    const x = check(outside, 'sync.history');
    expect(x.status).toBe('fail');
    expect(x.detail).toContain('window is closed');
    expect(check(outside, 'sync.contacts').status).toBe('warn');
  });

  it('a late request refused with 2593108 fails', () => {
    const f = withStore((db) => {
      recordSync(db, 'history', NOW - HOUR, NOW - 30 * HOUR, 'refused', 2593108);
      ingest(db, [{ payload: echo(NOW - HOUR), at: NOW - HOUR }]);
    });
    expect(check(f, 'sync.history').detail).toContain('2593108');
    expect(check(f, 'sync.history').status).toBe('fail');
  });

  it('signature failures: after the last good event fail, older ones warn, none pass', () => {
    const f = withStore((db) => {
      seedHealthy(db);
      expect(forge(db, NOW - 60_000)).toBe(1);
    });
    const r = check(f, 'sync.signatures');
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/^1 delivery rejected for a bad signature, the last 1 min ago/);
    expect(r.fix).toContain('WACX_APP_SECRET');
    const older = withStore((db) => {
      expect(forge(db, NOW - 2 * DAY)).toBe(1);
      seedHealthy(db);
    });
    expect(check(older, 'sync.signatures').status).toBe('warn');
    expect(check(greenFacts(), 'sync.signatures').status).toBe('pass');
  });

  it(`signature failures: the count is exact beyond the ${REJECTION_LOG_ROWS} rows the rejection log keeps`, () => {
    const total = REJECTION_LOG_ROWS + 537;
    let rowsKept = -1;
    const f = withStore((db) => {
      seedHealthy(db);
      // older forgeries first, then the recent ones: the log keeps only the most recent rows
      expect(forge(db, NOW - 3 * HOUR, 600)).toBe(600);
      expect(forge(db, NOW - 2 * HOUR, total - 600)).toBe(total - 600);
      rowsKept = (db.prepare('SELECT COUNT(*) AS n FROM webhook_rejections').get() as { n: number }).n;
    });
    expect(rowsKept).toBe(REJECTION_LOG_ROWS);
    if (f.store.state !== 'ok') throw new Error('store facts not gathered');
    expect(f.store.value.health.signatureFailures).toEqual({ count: total, lastAt: NOW - 2 * HOUR });
    const r = check(f, 'sync.signatures');
    // an echo an hour ago (seedHealthy) was accepted after the last forgery: warn, with the exact total
    expect(r.status).toBe('warn');
    expect(r.detail).toContain(
      `${total} deliveries rejected for a bad signature, the last 2 h ago; authentic deliveries were accepted since`,
    );
  });

  it('an unreadable store fails sync.webhooks and skips the rest', () => {
    const f = withFacts((x) => {
      x.store = {
        state: 'error',
        error: { message: 'SQLITE_CORRUPT', code: null, status: null, network: false },
      };
    });
    expect(check(f, 'sync.webhooks').status).toBe('fail');
    expect(check(f, 'sync.history').status).toBe('skip');
  });
});

describe('doctor checks: Templates', () => {
  const tpl = (name: string, status: string, extra: Record<string, unknown> = {}) => ({
    id: name,
    name,
    language: 'en_US',
    category: 'MARKETING' as const,
    status: status as 'APPROVED',
    components: [],
    ...extra,
  });

  it('counts by status; paused fails, disabled and rejected warn, each named with its reason', () => {
    const f = withFacts((x) => {
      x.templates = {
        state: 'ok',
        value: [
          tpl('hello_world', 'APPROVED'),
          tpl('promo_spring', 'PAUSED', { quality_score: { score: 'RED' } }),
          tpl('old_promo', 'DISABLED', { quality_score: { score: 'RED' } }),
          tpl('bad_one', 'REJECTED', { rejected_reason: 'INVALID_FORMAT' }),
          tpl('worse_one', 'REJECTED', { rejected_reason: 'PROMOTIONAL' }),
        ],
      };
    });
    const results = run(f);
    expect(results.get('templates.counts')!.detail).toBe('2 REJECTED, 1 APPROVED, 1 DISABLED, 1 PAUSED');
    expect(results.get('templates.paused')).toMatchObject({
      status: 'fail',
      detail: 'promo_spring (en_US): quality RED',
    });
    expect(results.get('templates.paused')!.fix).toContain('132015');
    expect(results.get('templates.disabled')).toMatchObject({
      status: 'warn',
      detail: 'old_promo (en_US): quality RED',
    });
    expect(results.get('templates.rejected')).toMatchObject({
      status: 'warn',
      detail: 'bad_one (en_US): INVALID_FORMAT; worse_one (en_US): PROMOTIONAL',
    });
  });

  it('no approved template warns', () => {
    const f = withFacts((x) => {
      x.templates = { state: 'ok', value: [tpl('a', 'PENDING')] };
    });
    expect(check(f, 'templates.counts').status).toBe('warn');
  });
});

describe('doctor: evaluation, --skip, exit codes and rendering', () => {
  it('--skip by id, by id prefix and by group name', () => {
    const results = run(greenFacts(), { skip: ['templates', 'sync.history', 'Number'] });
    expect(results.get('templates.paused')).toMatchObject({ status: 'skip', detail: 'skipped with --skip' });
    expect(results.get('sync.history')!.status).toBe('skip');
    expect(results.get('sync.contacts')!.status).toBe('pass');
    expect(results.get('number.status')!.status).toBe('skip');
    expect(isSkipped({ id: 'token.valid', group: 'Token' }, ['token'])).toBe(true);
    expect(unknownSkipPatterns(['token', 'nope.check'])).toEqual(['nope.check']);
  });

  it('exit code: 0 with warnings, 1 with --strict, 1 on a failure', () => {
    const warnOnly = withFacts((f) => (f.config.appSecret = { present: false, source: 'unset' }));
    const results = [...run(warnOnly).values()];
    expect(results.some((r) => r.status === 'warn')).toBe(true);
    expect(results.some((r) => r.status === 'fail')).toBe(false);
    expect(exitCodeOf(results, false)).toBe(0);
    expect(exitCodeOf(results, true)).toBe(1);
    const failing = [...run(withFacts((f) => (f.config.configMode = 0o666))).values()];
    expect(
      exitCodeOf(
        failing.map((r) => (r.id === 'setup.config_mode' ? { ...r, status: 'fail' as const } : r)),
        false,
      ),
    ).toBe(1);
  });

  it('a check that throws is reported as a failure, not a crash', () => {
    const f = withFacts((x) => {
      (x as { phone: unknown }).phone = { state: 'ok', value: null };
    });
    const r = check(f, 'number.coexistence');
    expect(r.status).toBe('fail');
    expect(r.detail).toMatch(/^the check itself failed/);
  });

  it('renders grouped ✓ / ! / ✗ / - lines, a fix under each warning and failure, the skipped list and a summary', () => {
    const f = withFacts((x) => {
      x.config.appSecret = { present: false, source: 'unset' };
      x.config.configMode = 0o644;
      x.config.configHoldsSecrets = true;
      x.appSubscriptions = {
        state: 'skipped',
        reason: 'no app secret: needs APP_ID|APP_SECRET',
        fix: 'Set WACX_APP_SECRET.',
      };
    });
    const results = [...run(f).values()];
    const text = renderText(results, plain).join('\n');
    expect(text).toMatch(/^Set-up\n {2}✓ Node\.js version: v22\.12\.0$/m);
    expect(text).toContain('  ✗ Config file permissions: mode 0644');
    expect(text).toContain('      → chmod 600 /home/u/.config/wacx/config.json');
    expect(text).toContain('  ! Secrets: token from the OS keychain; no app secret');
    expect(text).toContain('  - App webhook fields: skipped: no app secret: needs APP_ID|APP_SECRET');
    expect(text).toContain(
      'Skipped\n  - waba.webhook_fields, waba.standby: no app secret: needs APP_ID|APP_SECRET (Set WACX_APP_SECRET.)',
    );
    expect(text).toMatch(/\d+ passed · 1 warning · 1 failed · 2 skipped\. Problems found\.$/);
    // every warning and failure is followed by its fix
    const lines = text.split('\n');
    lines.forEach((l, i) => {
      if (/^ {2}[!✗] /.test(l)) expect(lines[i + 1], l).toMatch(/^ {6}→ /);
    });
  });

  it('a group skipped for one reason is one line', () => {
    const f = withFacts((x) => {
      x.templates = {
        state: 'skipped',
        reason: 'API unreachable: connection refused (ECONNREFUSED)',
        fix: null,
      };
    });
    const text = renderText([...run(f).values()], plain).join('\n');
    expect(text).toContain(
      'Templates\n  - 4 checks skipped: API unreachable: connection refused (ECONNREFUSED)\n',
    );
    expect(text).toContain(
      '  - templates.counts, templates.paused, templates.disabled, templates.rejected: API unreachable',
    );
  });

  it('--json objects have exactly the keys id, group, status, title, detail, fix (fix null when passing)', () => {
    const json = toJson([...run(greenFacts()).values()]);
    for (const c of json) {
      expect(Object.keys(c)).toEqual(['id', 'group', 'status', 'title', 'detail', 'fix']);
      expect(c.fix).toBeNull();
    }
  });
});
