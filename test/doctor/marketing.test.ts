/**
 * Marketing Messages API (meta-cloud-api.md §15.3): doctor reports the WABA's onboarding and whether marketing on
 * /messages is blocked, read from the WABA node, which the sandbox answers after its per-number switches.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED } from '../../src/sandbox/seed.js';
import { runCli } from '../helpers/cli.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { graph } from '../sandbox/util.js';

interface Check {
  id: string;
  status: string;
  detail: string;
  fix: string | null;
}

const COEX = SEED.phoneNumbers.coex.id;

describe('doctor: waba.marketing_messages against the sandbox', () => {
  let sb: TestSandbox;
  const check = async () => {
    const r = await runCli(['doctor', '--json'], { env: sb.env() });
    return (JSON.parse(r.stdout) as Check[]).find((c) => c.id === 'waba.marketing_messages')!;
  };
  const set = (blocked: boolean, onboarded: boolean) =>
    sb.control(`numbers/${COEX}`, {
      marketing_blocked_on_messages: blocked,
      marketing_messages_onboarded: onboarded,
    });

  beforeAll(async () => {
    sb = await startTestSandbox();
  });
  afterAll(() => sb.close());

  it('the sandbox WABA answers disable_marketing_messages_on_cloud_api after its switch', async () => {
    const g = graph(sb.url);
    const read = async () =>
      (await g.get(`${SEED.waba.id}?fields=disable_marketing_messages_on_cloud_api`)).body
        .disable_marketing_messages_on_cloud_api;
    expect(await read()).toBe(false);
    await set(true, false);
    expect(await read()).toBe(true);
    await set(false, false);
  });

  it('not onboarded, not blocked: passes, MARKETING templates go through /messages', async () => {
    await set(false, false);
    const c = await check();
    expect(c.status).toBe('pass');
    expect(c.detail).toContain('not onboarded to the Marketing Messages API');
    expect(c.detail).toContain('marketing_messages_onboarding_status NOT_STARTED');
    expect(c.detail).toContain('marketing on /messages is allowed');
  });

  it('onboarded, not blocked: passes, --api auto uses the Marketing Messages API', async () => {
    await set(false, true);
    const c = await check();
    expect(c.status).toBe('pass');
    expect(c.detail).toContain('onboarded (marketing_messages_onboarding_status ONBOARDED)');
    expect(c.detail).toContain('`--api auto` sends MARKETING templates through the Marketing Messages API');
  });

  it('blocked on /messages and onboarded: passes, marketing goes only through --api marketing', async () => {
    await set(true, true);
    const c = await check();
    expect(c.status).toBe('pass');
    expect(c.detail).toContain('marketing on /messages is blocked (131063)');
    expect(c.detail).toContain('`--api marketing`');
    expect(c.fix).toBeNull();
  });

  it('blocked on /messages and not onboarded: fails, MARKETING templates cannot be sent at all', async () => {
    await set(true, false);
    const r = await runCli(['doctor', '--json'], { env: sb.env() });
    expect(r.code).toBe(1);
    const c = (JSON.parse(r.stdout) as Check[]).find((x) => x.id === 'waba.marketing_messages')!;
    expect(c.status).toBe('fail');
    expect(c.detail).toContain('MARKETING templates cannot be sent at all until onboarding completes');
    expect(c.detail).toContain('marketing_messages_onboarding_status NOT_STARTED');
    expect(c.fix).toContain('`--api marketing`');
    expect(c.fix).toContain(`POST /${SEED.waba.id} {"disable_marketing_messages_on_cloud_api":false}`);
    await set(false, false);
  });

  it('--offline: skipped, the API was not contacted', async () => {
    const r = await runCli(['doctor', '--json', '--offline'], { env: sb.env() });
    const c = (JSON.parse(r.stdout) as Check[]).find((x) => x.id === 'waba.marketing_messages')!;
    expect(c.status).toBe('skip');
    expect(c.detail).toContain('--offline');
  });
});
