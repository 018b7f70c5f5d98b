/** Graph API versions past their end date (meta-cloud-api.md §8.1): v21.0 ends on 2027-01-21. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED } from '../../src/sandbox/seed.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { graph } from './util.js';

const WABA = SEED.waba.id;
const V21_ENDS = Date.UTC(2027, 0, 21);

/** Moves the sandbox clock to `at` (it only moves forward). */
async function moveTo(sb: TestSandbox, at: number): Promise<void> {
  const { now } = await sb.control<{ now: number }>('clock', { freeze: true });
  if (at > now) await sb.control('clock', { advance_ms: at - now });
}

describe('an ended version answers like Meta', () => {
  let sb: TestSandbox;
  beforeAll(async () => {
    sb = await startTestSandbox();
  });
  afterAll(() => sb.close());

  it('v21.0 works until 2027-01-21, then gets 2635 naming the latest version; v22.0 still works', async () => {
    await moveTo(sb, V21_ENDS - 60_000);
    const before = await graph(sb.url, { version: 'v21.0' }).get(WABA);
    expect(before.status).toBe(200);
    expect(before.headers.get('facebook-api-version')).toBe('v21.0');

    await moveTo(sb, V21_ENDS);
    const after = await graph(sb.url, { version: 'v21.0' }).get(WABA);
    expect(after.status).toBe(400);
    expect(after.body.error).toMatchObject({
      code: 2635,
      type: 'OAuthException',
      message:
        '(#2635) You are calling a deprecated version of the Graph API. Please update to the latest version: v27.0.',
    });
    expect(after.body.error.fbtrace_id).toBe(after.headers.get('x-fb-trace-id'));
    expect((await graph(sb.url, { version: 'v22.0' }).get(WABA)).status).toBe(200);
    expect((await graph(sb.url, { version: 'v20.0' }).get(WABA)).body.error.code).toBe(2635);
  });
});

describe('expiredVersion: upgrade (the other answer seen in the field)', () => {
  let sb: TestSandbox;
  beforeAll(async () => {
    sb = await startTestSandbox({ expiredVersion: 'upgrade' });
  });
  afterAll(() => sb.close());

  it('serves an ended version as the oldest available one, and says so in facebook-api-version', async () => {
    expect((await graph(sb.url, { version: 'v20.0' }).get(WABA)).headers.get('facebook-api-version')).toBe(
      'v21.0',
    );
    await moveTo(sb, V21_ENDS);
    const r = await graph(sb.url, { version: 'v21.0' }).get(WABA);
    expect(r.status).toBe(200);
    expect(r.headers.get('facebook-api-version')).toBe('v22.0');
    expect((await graph(sb.url, { version: 'v28.0' }).get(WABA)).body.error.code).toBe(2635);
  });

  it('the setting can be changed on a running sandbox', async () => {
    expect(await sb.control('settings', { expired_version: 'error' })).toMatchObject({
      expired_version: 'error',
      approved_edit: 'stays_approved',
    });
    expect((await graph(sb.url, { version: 'v21.0' }).get(WABA)).body.error.code).toBe(2635);
  });
});
