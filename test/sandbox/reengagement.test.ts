/**
 * A free-form message outside the 24-hour window: Meta documents an immediate 400 #131047 (the sandbox's default);
 * the disputed form, a sandbox setting, accepts it and then reports a `failed` status webhook with 131047.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED } from '../../src/sandbox/seed.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { graph, startReceiver } from './util.js';

const COEX = SEED.phoneNumbers.coex.id;
let sb: TestSandbox;
let g: ReturnType<typeof graph>;
let rx: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  rx = await startReceiver();
  sb = await startTestSandbox({ webhookUrl: rx.url });
  g = graph(sb.url);
  await sb.control(`numbers/${COEX}`, { mps: 1000, pair_limit: false });
});
afterAll(async () => {
  await sb.close();
  await rx.close();
});

const text = (to: string) => ({
  messaging_product: 'whatsapp',
  to,
  type: 'text',
  text: { body: 'Are you still there?' },
  biz_opaque_callback_data: `cb:${to}`,
});
const statusesOf = (wamid: string) =>
  rx.received
    .filter((r) => r.body?.entry?.[0]?.changes?.[0]?.field === 'messages')
    .flatMap((r) => r.body.entry[0].changes[0].value.statuses ?? [])
    .filter((s: { id: string }) => s.id === wamid);

describe('sandbox: free-form message outside the 24-hour window', () => {
  it('by default: an immediate 400 #131047, nothing accepted', async () => {
    expect(await sb.control('settings')).toMatchObject({ reengagement: 'error' });
    const before = (await sb.control<unknown[]>('messages')).length;
    const r = await g.post(`${COEX}/messages`, text('+16505550021'));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: 131047, message: '(#131047) Re-engagement message' });
    expect(r.body.error.error_data.details).toContain('more than 24 hours have passed');
    expect(await sb.control<unknown[]>('messages')).toHaveLength(before);
  });

  it("reengagement 'failed_status': 200 with a wamid, then a failed status webhook with 131047", async () => {
    expect(await sb.control('settings', { reengagement: 'failed_status' })).toMatchObject({
      reengagement: 'failed_status',
    });
    try {
      const r = await g.post(`${COEX}/messages`, text('+16505550022'));
      expect(r.status).toBe(200);
      const wamid = r.body.messages[0].id as string;
      expect(wamid).toMatch(/^wamid\./);
      await sb.flush();
      const statuses = statusesOf(wamid);
      expect(statuses.map((s: { status: string }) => s.status)).toEqual(['failed']);
      expect(statuses[0]).toMatchObject({
        recipient_id: '16505550022',
        biz_opaque_callback_data: 'cb:+16505550022',
        errors: [{ code: 131047, title: 'Re-engagement message' }],
      });
      // inside the window the same message is delivered as usual
      await sb.control('emit', {
        field: 'messages',
        value: { messages: [{ from: '16505550022', type: 'text', text: { body: 'hi' } }] },
      });
      const inside = await g.post(`${COEX}/messages`, text('+16505550022'));
      expect(inside.status).toBe(200);
      await sb.flush();
      expect(statusesOf(inside.body.messages[0].id).map((s: { status: string }) => s.status)).toEqual([
        'sent',
        'delivered',
        'read',
      ]);
    } finally {
      await sb.control('settings', { reengagement: 'error' });
    }
  });

  it('an unknown setting value is ignored', async () => {
    expect(await sb.control('settings', { reengagement: 'sometimes' })).toMatchObject({
      reengagement: 'error',
    });
  });
});
