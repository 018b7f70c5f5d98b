/** The sandbox's limits behave like the real API's (meta-cloud-api.md §1.6, §4, §5). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { graph, orderUpdate } from './util.js';

const COEX = '5000000000000001';
const CLOUD = '5000000000000002';
const WABA = '3000000000000001';

let sb: TestSandbox;
let g: ReturnType<typeof graph>;
beforeEach(async () => {
  sb = await startTestSandbox();
  g = graph(sb.url);
});
afterEach(async () => {
  await sb.close();
});

/** Stops the sandbox clock so that a burst falls in one one-second window whatever the machine's load. */
async function alignToSecond() {
  await sb.control('clock', { freeze: true });
}

describe('throughput per number (130429)', () => {
  it('the coexistence number accepts 20 sends in a one-second window, the 21st gets 130429', async () => {
    await sb.control(`numbers/${COEX}`, { pair_limit: false });
    await alignToSecond();
    const answers = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        g.post(`${COEX}/messages`, orderUpdate(`+1650555${String(2000 + i)}`)),
      ),
    );
    const ok = answers.filter((a) => a.status === 200).length;
    const throttled = answers.filter((a) => a.status === 400 && a.body.error.code === 130429);
    expect(ok).toBe(20);
    expect(throttled).toHaveLength(5);
    expect(throttled[0]!.body.error.message).toBe('(#130429) Rate limit hit');
    const counts = await sb.control(`send-counts?phone_number_id=${COEX}`);
    expect(counts.mps).toBe(20);
    expect(counts.max_per_second).toBe(20);
    expect(counts.seconds.reduce((n: number, s: { throttled: number }) => n + s.throttled, 0)).toBe(5);
  });

  it('the window resets each second, and the Cloud API number allows 80', async () => {
    await sb.control(`numbers/${CLOUD}`, { pair_limit: false });
    await alignToSecond();
    const burst = (n: number, offset: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          g.post(`${CLOUD}/messages`, orderUpdate(`+1650556${String(offset + i).padStart(4, '0')}`)),
        ),
      );
    const first = await burst(85, 0);
    expect(first.filter((a) => a.status === 200)).toHaveLength(80);
    await sb.control('clock', { advance_ms: 1000 });
    const second = await burst(10, 100);
    expect(second.every((a) => a.status === 200)).toBe(true);
  });

  it('the control knob changes a number’s limit; 429 can be chosen as the throttling status', async () => {
    await sb.close();
    sb = await startTestSandbox({ throttleStatus: 429 });
    g = graph(sb.url);
    await sb.control(`numbers/${COEX}`, { mps: 2, pair_limit: false });
    await alignToSecond();
    const answers = await Promise.all(
      [1, 2, 3].map((i) => g.post(`${COEX}/messages`, orderUpdate(`+165055570${i}0`))),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 429]);
  });
});

describe('enforced throughput below the advertised one, and 130429 storms', () => {
  const burst = (n: number, offset: number) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        g.post(`${COEX}/messages`, orderUpdate(`+1650557${String(offset + i).padStart(4, '0')}`)),
      ),
    );
  const tally = (answers: Awaited<ReturnType<typeof burst>>) => ({
    ok: answers.filter((a) => a.status === 200).length,
    throttled: answers.filter((a) => a.status === 400 && a.body.error.code === 130429).length,
  });

  it('enforces enforced_mps while the number still advertises its level; the limit changes during a run', async () => {
    await sb.control(`numbers/${COEX}`, { pair_limit: false, enforced_mps: 10 });
    await alignToSecond();
    const first = await burst(15, 0);
    expect(tally(first)).toEqual({ ok: 10, throttled: 5 });
    const refused = first.find((a) => a.status === 400)!;
    // the same answer as the advertised limit's (Meta's shape)
    expect(refused.body.error).toMatchObject({ code: 130429, message: '(#130429) Rate limit hit' });
    expect(refused.body.error.error_data.details).toContain('10 messages per second');
    const counts = await sb.control(`send-counts?phone_number_id=${COEX}`);
    expect(counts).toMatchObject({ mps: 20, enforced_mps: 10, max_per_second: 10 });
    expect((await sb.control(`numbers/${COEX}`)).mps).toBe(20);
    // lifted to the advertised level during the run (null = the advertised one)
    await sb.control(`numbers/${COEX}`, { enforced_mps: null });
    await sb.control('clock', { advance_ms: 1000 });
    expect(tally(await burst(25, 100))).toEqual({ ok: 20, throttled: 5 });
    await expect(sb.control(`numbers/${COEX}`, { enforced_mps: 0 })).rejects.toThrow(/enforced_mps/);
  });

  it('limits {enforced_mps, phone_number_id} sets it too; a storm refuses every send for throttle_storm_ms', async () => {
    await sb.control(`numbers/${COEX}`, { pair_limit: false });
    const set = await sb.control('limits', { enforced_mps: 4, phone_number_id: COEX });
    expect(set.numbers.find((n: { id: string }) => n.id === COEX)).toMatchObject({
      mps: 20,
      enforced_mps: 4,
    });
    await alignToSecond();
    expect(tally(await burst(6, 200))).toEqual({ ok: 4, throttled: 2 });
    await sb.control('limits', { enforced_mps: null, throttle_storm_ms: 3000 });
    await sb.control('clock', { advance_ms: 1000 });
    const storm = await burst(5, 300);
    expect(tally(storm)).toEqual({ ok: 0, throttled: 5 });
    expect(storm[0]!.body.error).toMatchObject({ code: 130429, message: '(#130429) Rate limit hit' });
    await sb.control('clock', { advance_ms: 1999 });
    expect(tally(await burst(1, 400))).toEqual({ ok: 0, throttled: 1 });
    await sb.control('clock', { advance_ms: 1 });
    expect(tally(await burst(20, 500))).toEqual({ ok: 20, throttled: 0 });
  });

  it('the throttling scenario sets both (also at start: --scenario throttling:enforced_mps=5)', async () => {
    await sb.close();
    sb = await startTestSandbox({ scenario: 'throttling:enforced_mps=5' });
    g = graph(sb.url);
    await sb.control(`numbers/${COEX}`, { pair_limit: false });
    await alignToSecond();
    expect(tally(await burst(7, 600))).toEqual({ ok: 5, throttled: 2 });
    const r = await sb.control('scenario', { name: 'throttling', storm_ms: 500, phone_number_id: COEX });
    expect(r.numbers).toHaveLength(1);
    await sb.control('clock', { advance_ms: 1000 });
    await sb.control('scenario', { name: 'throttling', storm_ms: 500, phone_number_id: COEX });
    expect(tally(await burst(2, 700))).toEqual({ ok: 0, throttled: 2 });
    await sb.control('scenario', { name: 'none' });
    expect(tally(await burst(12, 800))).toEqual({ ok: 12, throttled: 0 });
  });
});

describe('pair rate limit (131056)', () => {
  it('allows a burst of 45 to one recipient, then 131056, then one more every 6 s', async () => {
    await sb.control(`numbers/${COEX}`, { mps: 1000 });
    const to = '+16505558000';
    const results: number[] = [];
    for (let i = 0; i < 46; i++) {
      const a = await g.post(`${COEX}/messages`, orderUpdate(to));
      results.push(a.status === 200 ? 200 : a.body.error.code);
    }
    expect(results.slice(0, 45).every((r) => r === 200)).toBe(true);
    expect(results[45]).toBe(131056);
    // another recipient is not affected
    expect((await g.post(`${COEX}/messages`, orderUpdate('+16505558001'))).status).toBe(200);
    await sb.control('clock', { advance_ms: 6000 });
    expect((await g.post(`${COEX}/messages`, orderUpdate(to))).status).toBe(200);
    expect((await g.post(`${COEX}/messages`, orderUpdate(to))).body.error.code).toBe(131056);
  });

  it('a burst of 20 needs about two minutes to be repaid', async () => {
    await sb.control(`numbers/${COEX}`, { mps: 1000, pair_burst: 20 });
    const to = '+16505558100';
    for (let i = 0; i < 20; i++) expect((await g.post(`${COEX}/messages`, orderUpdate(to))).status).toBe(200);
    expect((await g.post(`${COEX}/messages`, orderUpdate(to))).body.error.code).toBe(131056);
    await sb.control('clock', { advance_ms: 114_000 });
    const refilled: number[] = [];
    for (let i = 0; i < 20; i++) refilled.push((await g.post(`${COEX}/messages`, orderUpdate(to))).status);
    expect(refilled.filter((s) => s === 200)).toHaveLength(19);
  });

  it('pair_limit false disables it', async () => {
    await sb.control(`numbers/${COEX}`, { mps: 1000, pair_limit: false });
    for (let i = 0; i < 50; i++)
      expect((await g.post(`${COEX}/messages`, orderUpdate('+16505558200'))).status).toBe(200);
  });
});

describe('management rate limit (80007) and X-Business-Use-Case-Usage', () => {
  it('reports usage and refuses calls over the hourly budget until the next hour', async () => {
    await sb.control('limits', { management_per_hour: 4 });
    const usage: number[] = [];
    for (let i = 0; i < 4; i++) {
      const a = await g.get(WABA);
      expect(a.status).toBe(200);
      const h = JSON.parse(a.headers.get('x-business-use-case-usage')!);
      usage.push(h[WABA][0].call_count);
      expect(h[WABA][0].type).toBe('whatsapp_business_management');
    }
    expect(usage).toEqual([25, 50, 75, 100]);
    const over = await g.get(`${WABA}/message_templates`);
    expect(over.status).toBe(400);
    expect(over.body.error.code).toBe(80007);
    const h = JSON.parse(over.headers.get('x-business-use-case-usage')!);
    expect(h[WABA][0].estimated_time_to_regain_access).toBeGreaterThan(0);
    await sb.control('clock', { advance_ms: 3_600_000 });
    expect((await g.get(WABA)).status).toBe(200);
  });
});

describe('smb_app_data: once per type, within 24 h, coexistence only', () => {
  const sync = (id: string, type: string) =>
    g.post(`${id}/smb_app_data`, { messaging_product: 'whatsapp', sync_type: type });

  it('accepts each type once, then answers 2593107', async () => {
    const first = await sync(COEX, 'smb_app_state_sync');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ messaging_product: 'whatsapp', request_id: expect.any(String) });
    expect((await sync(COEX, 'history')).status).toBe(200);
    const again = await sync(COEX, 'smb_app_state_sync');
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe(2593107);
    expect((await sync(COEX, 'history')).body.error.code).toBe(2593107);
  });

  it('answers 2593108 after the 24 h window', async () => {
    await sb.control('clock', { advance_ms: 24 * 3_600_000 + 1000 });
    const late = await sync(COEX, 'history');
    expect(late.status).toBe(400);
    expect(late.body.error.code).toBe(2593108);
  });

  it('answers code 100 for a number not onboarded with the Business App, and for a bad sync_type', async () => {
    const cloud = await sync(CLOUD, 'history');
    expect(cloud.status).toBe(400);
    expect(cloud.body.error.code).toBe(100);
    expect((await sync(COEX, 'everything')).body.error.code).toBe(100);
  });
});

describe('register / deregister', () => {
  it('are refused for the coexistence number and rate limited (133016) for others', async () => {
    for (const edge of ['register', 'deregister']) {
      const a = await g.post(`${COEX}/${edge}`, { messaging_product: 'whatsapp', pin: '123456' });
      expect(a.status).toBe(400);
      expect(a.body.error.code).toBe(100);
      expect(a.body.error.error_data.details).toMatch(/WhatsApp Business app/);
    }
    for (let i = 0; i < 10; i++) {
      const edge = i % 2 === 0 ? 'deregister' : 'register';
      expect(
        (await g.post(`${CLOUD}/${edge}`, { messaging_product: 'whatsapp', pin: '123456' })).status,
      ).toBe(200);
    }
    expect((await g.post(`${CLOUD}/deregister`)).body.error.code).toBe(133016);
  });
});

describe('template limits', () => {
  const def = (name: string, extra: Record<string, unknown> = {}) => ({
    name,
    language: 'en_US',
    category: 'UTILITY',
    components: [{ type: 'BODY', text: 'Your appointment is confirmed.' }],
    ...extra,
  });

  it('an approved template can be edited once per 24 h and 10 times per 30 days', async () => {
    await sb.control('clock', { freeze: true }); // reviews finish only when the test moves time
    const id = '6000000000000002';
    const edit = (n: number) =>
      g.post(id, {
        components: [
          {
            type: 'BODY',
            text: `Hi {{1}}, your order {{2}} has shipped (v${n}).`,
            example: { body_text: [['A', 'B']] },
          },
        ],
      });
    expect((await edit(1)).body).toMatchObject({
      success: true,
      id,
      name: 'order_update',
      category: 'UTILITY',
    });
    // Meta's documented behaviour (the default): it stays APPROVED while the edit is reviewed
    expect((await g.get(`${id}?fields=status`)).body.status).toBe('APPROVED');
    await sb.flush();
    expect((await g.get(`${id}?fields=status`)).body.status).toBe('APPROVED');
    const again = await edit(2);
    expect(again.status).toBe(400);
    expect(again.body.error.error_data.details).toMatch(/once every 24 hours/);
    for (let n = 2; n <= 10; n++) {
      await sb.control('clock', { advance_ms: 24 * 3_600_000 + 1 });
      expect((await edit(n)).status).toBe(200);
      await sb.flush();
    }
    await sb.control('clock', { advance_ms: 24 * 3_600_000 + 1 });
    const eleventh = await edit(11);
    expect(eleventh.status).toBe(400);
    expect(eleventh.body.error.error_data.details).toMatch(/10 times in 30 days/);
  });

  it('the category of an approved template cannot change; DISABLED templates cannot be edited', async () => {
    expect(
      (await g.post('6000000000000002', { category: 'MARKETING' })).body.error.error_data.details,
    ).toMatch(/category/);
    expect(
      (await g.post('6000000000000008', { components: [{ type: 'BODY', text: 'x' }] })).body.error.error_data
        .details,
    ).toMatch(/DISABLED/);
  });

  it('at most N templates per WABA (2388019) and 100 creates per hour', async () => {
    await sb.control('limits', { template_count: 10 });
    expect((await g.post(`${WABA}/message_templates`, def('one_more'))).status).toBe(200);
    expect((await g.post(`${WABA}/message_templates`, def('two_more'))).status).toBe(200);
    const full = await g.post(`${WABA}/message_templates`, def('three_more'));
    expect(full.status).toBe(400);
    expect(full.body.error).toMatchObject({ code: 100, error_subcode: 2388019 });
    await sb.control('limits', { template_count: 1000, templates_per_hour: 3 });
    expect((await g.post(`${WABA}/message_templates`, def('four_more'))).status).toBe(200);
    const hourly = await g.post(`${WABA}/message_templates`, def('five_more'));
    expect(hourly.body.error.code).toBe(4);
    await sb.control('clock', { advance_ms: 3_600_000 });
    expect((await g.post(`${WABA}/message_templates`, def('five_more'))).status).toBe(200);
  });
});

describe('Embedded Signup codes: single use, 30 s life', () => {
  async function code(): Promise<string> {
    const a = await graph(sb.url, { token: null }).get(
      `dialog/oauth?client_id=1000000000000001&redirect_uri=${encodeURIComponent('https://example.com/cb')}&config_id=4000000000000001&state=s1&response_type=code`,
    );
    expect(a.status).toBe(302);
    return new URL(a.headers.get('location')!).searchParams.get('code')!;
  }
  const exchange = (c: string) =>
    graph(sb.url, { token: null }).get(
      `oauth/access_token?client_id=1000000000000001&client_secret=${encodeURIComponent(sb.seed.app.secret)}&code=${c}`,
    );

  it('a code works once', async () => {
    const c = await code();
    const first = await exchange(c);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ access_token: expect.stringMatching(/^EAA/), token_type: 'bearer' });
    const second = await exchange(c);
    expect(second.status).toBe(400);
    expect(second.body.error).toMatchObject({ code: 100, message: 'This authorization code has been used.' });
  });

  it('a code expires after 30 s', async () => {
    const c = await code();
    await sb.control('clock', { advance_ms: 30_001 });
    const late = await exchange(c);
    expect(late.status).toBe(400);
    expect(late.body.error.message).toBe('This authorization code has expired.');
  });
});
