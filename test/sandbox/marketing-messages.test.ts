/** The Marketing Messages API's `/marketing_messages` (meta-cloud-api.md §15.3) and the 131063 switch. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED } from '../../src/sandbox/seed.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { graph, orderUpdate, startReceiver, templateSend } from './util.js';

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

const sale = (to: string) =>
  templateSend(to, 'spring_sale', 'en_US', [
    {
      type: 'body',
      parameters: [
        { type: 'text', text: 'Ana' },
        { type: 'text', text: 'S20' },
      ],
    },
    { type: 'button', sub_type: 'url', index: '1', parameters: [{ type: 'text', text: 'spring' }] },
  ]);
interface Sent {
  id: string;
  endpoint: string;
}
const record = async (id: string) => (await sb.control<Sent[]>('messages')).find((m) => m.id === id);

describe('/marketing_messages', () => {
  it('sends MARKETING templates, recorded with their endpoint; deliveries report marketing_lite', async () => {
    const a = await g.post(`${COEX}/marketing_messages`, {
      ...sale('+16505550010'),
      product_policy: 'STRICT',
    });
    expect(a.status, a.text).toBe(200);
    expect(a.body.contacts).toEqual([{ input: '+16505550010', wa_id: '16505550010' }]);
    expect(await record(a.body.messages[0].id)).toMatchObject({ endpoint: 'marketing_messages' });
    const b = await g.post(`${COEX}/messages`, sale('+16505550011'));
    expect(await record(b.body.messages[0].id)).toMatchObject({ endpoint: 'messages' });
    await sb.flush();
    const sent = rx.received
      .flatMap((r) => r.body?.entry?.[0]?.changes?.[0]?.value?.statuses ?? [])
      .find((s: { id: string; status: string }) => s.id === a.body.messages[0].id && s.status === 'sent');
    expect(sent.pricing.category).toBe('marketing_lite');
  });

  it('refuses other categories and free-form messages', async () => {
    const utility = await g.post(`${COEX}/marketing_messages`, orderUpdate('+16505550012'));
    expect(utility.status).toBe(400);
    expect(utility.body.error.error_data.details).toContain('MARKETING templates only');
    const text = await g.post(`${COEX}/marketing_messages`, {
      messaging_product: 'whatsapp',
      to: '+16505550012',
      type: 'text',
      text: { body: 'hi' },
    });
    expect(text.status).toBe(400);
  });

  it('a number that blocks marketing on the Cloud API answers 131063 on /messages, for marketing templates only', async () => {
    const n = await sb.control(`numbers/${COEX}`, { marketing_blocked_on_messages: true });
    expect(n.marketing_blocked_on_messages).toBe(true);
    try {
      const blocked = await g.post(`${COEX}/messages`, sale('+16505550013'));
      expect(blocked.status).toBe(400);
      expect(blocked.body.error.code).toBe(131063);
      expect((await g.post(`${COEX}/messages`, orderUpdate('+16505550013'))).status).toBe(200);
      expect((await g.post(`${COEX}/marketing_messages`, sale('+16505550013'))).status).toBe(200);
    } finally {
      await sb.control(`numbers/${COEX}`, { marketing_blocked_on_messages: false });
    }
  });

  it('the WABA reports its onboarding to the Marketing Messages API as the control API sets it', async () => {
    const field = async () =>
      (await g.get(`${SEED.waba.id}?fields=marketing_messages_onboarding_status`)).body
        .marketing_messages_onboarding_status;
    expect(await field()).toBe('NOT_STARTED');
    await sb.control(`numbers/${COEX}`, { marketing_messages_onboarded: true });
    expect(await field()).toBe('ONBOARDED');
    await sb.control(`numbers/${COEX}`, { marketing_messages_onboarded: false });
  });
});
