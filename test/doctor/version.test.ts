/** `wacx doctor` and the configured Graph API version's end date (v21.0 ends on 2027-01-21), on a fake clock. */
import { afterAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { runCli, tempHome } from '../helpers/cli.js';

const DAY = 86_400_000;
const V21_ENDS = Date.UTC(2027, 0, 21);

describe('doctor: API version end date', () => {
  const home = tempHome();
  afterAll(() => home.cleanup());

  async function versionCheck(version: string, now: number) {
    const r = await runCli(['doctor', '--offline', '--json', '--api-version', version], {
      env: home.env,
      clock: new FakeClock(now),
    });
    const checks = JSON.parse(r.stdout) as {
      id: string;
      status: string;
      detail: string;
      fix: string | null;
    }[];
    return { code: r.code, check: checks.find((c) => c.id === 'number.api_version')! };
  }

  it('passes 91 days before the end, warns from 90 days before, naming the date and a current version', async () => {
    expect((await versionCheck('v21.0', V21_ENDS - 91 * DAY)).check.status).toBe('pass');
    const { check } = await versionCheck('v21.0', V21_ENDS - 90 * DAY);
    expect(check.status).toBe('warn');
    expect(check.detail).toBe('v21.0 (flag) stops working on 2027-01-21 (in 90 days)');
    expect(check.fix).toContain('wacx config set apiVersion v25.0');
  });

  it('fails once the version has ended (exit 1)', async () => {
    const { code, check } = await versionCheck('v21.0', V21_ENDS);
    expect(check.status).toBe('fail');
    expect(check.detail).toBe('v21.0 (flag) is no longer available (ended 2027-01-21)');
    expect(code).toBe(1);
  });

  it('the default version and v27.0 are current in December 2026', async () => {
    const dec = Date.UTC(2026, 11, 5);
    expect((await versionCheck('v25.0', dec)).check.detail).toBe('v25.0 (flag), available until 2028-07-29');
    expect((await versionCheck('v27.0', dec)).check).toMatchObject({ status: 'pass' });
  });
});
