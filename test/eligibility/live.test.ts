import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';

let sb: TestSandbox;
beforeAll(async () => {
  sb = await startTestSandbox();
});
afterAll(async () => {
  await sb.close();
});

const LOCAL_OK = ['--app-version', '2.24.17', '--days-active', '30', '--json'];
type Check = { id: string; status: string; reason: string; details: Record<string, unknown> };
async function check(args: string[], env: NodeJS.ProcessEnv) {
  const r = await runCli(['eligibility', ...args, ...LOCAL_OK], { env });
  const report = JSON.parse(r.stdout) as { eligible: boolean; checks: Check[] };
  const by = (id: string) => report.checks.find((c) => c.id === id)!;
  return { code: r.code, report, by };
}

describe('wacx eligibility: live facts from the API (sandbox)', () => {
  it('a pure Cloud API number is not eligible (found through the WABA)', async () => {
    const r = await check([sb.seed.phoneNumbers.cloud.display], sb.env());
    expect(r.code).toBe(1);
    expect(r.by('live_platform')).toMatchObject({
      status: 'fail',
      details: {
        phone_number_id: sb.seed.phoneNumbers.cloud.id,
        is_on_biz_app: false,
        platform_type: 'CLOUD_API',
      },
    });
    expect(r.by('live_platform').reason).toContain('Already a Cloud API number');
    expect(r.by('live_status')).toMatchObject({ status: 'pass', details: { status: 'CONNECTED' } });
    expect(r.by('live_health').status).not.toBe('skip');
  });

  it('an already onboarded coexistence number warns (the profile’s phone number id)', async () => {
    const r = await check([sb.seed.phoneNumbers.coex.display], sb.env());
    expect(r.code).toBe(0);
    expect(r.by('live_platform').status).toBe('warn');
    expect(r.by('live_platform').reason).toContain('Already a coexistence number');
  });

  it('a Business App number not yet in the WABA skips the live checks with the reason', async () => {
    const r = await check([sb.seed.phoneNumbers.pending.display], sb.env());
    expect(r.code).toBe(0);
    expect(r.by('live_platform').status).toBe('skip');
    expect(r.by('live_platform').reason).toContain(`is not among WABA ${sb.seed.waba.id}'s numbers`);
  });

  it('a token the API rejects skips the live checks (code 190), local checks still decide', async () => {
    const r = await check(
      [sb.seed.phoneNumbers.cloud.display],
      sb.env({ WACX_TOKEN: 'EAAnotavalidtoken0000000000000' }),
    );
    expect(r.code).toBe(0);
    expect(r.report.checks.filter((c) => c.id.startsWith('live_')).map((c) => c.status)).toEqual([
      'skip',
      'skip',
      'skip',
    ]);
    expect(r.by('live_platform').reason).toContain('code 190');
  });

  it('--offline makes no API call', async () => {
    const r = await check([sb.seed.phoneNumbers.cloud.display, '--offline'], sb.env());
    expect(r.code).toBe(0);
    expect(r.by('live_platform')).toMatchObject({ status: 'skip', reason: 'Skipped: --offline.' });
  });
});
