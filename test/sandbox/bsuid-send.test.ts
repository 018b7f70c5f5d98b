/** Sends to business-scoped user ids (meta-cloud-api.md §15.1): `recipient`, `to` winning, 131062, statuses. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED } from '../../src/sandbox/seed.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { createAuthTemplate, graph, orderUpdate, startReceiver } from './util.js';

const COEX = SEED.phoneNumbers.coex.id;
const BSUID = 'US.13491208655302741918';
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

/** order_update to `recipient` instead of `to` (or beside it). */
function toBsuid(recipient: string, o: { to?: string; cb?: string } = {}) {
  const { to: _to, ...body } = orderUpdate('+10000000000', o.cb);
  return { ...body, ...(o.to ? { to: o.to } : {}), recipient };
}

interface Sent {
  id: string;
  to: string | null;
  user_id: string | null;
  via: string;
}

const record = async (id: string) => (await sb.control<Sent[]>('messages')).find((m) => m.id === id);

describe('sends to a BSUID', () => {
  it('takes `recipient` instead of `to` and answers with the user id, no wa_id; the record says so', async () => {
    const a = await g.post(`${COEX}/messages`, toBsuid(BSUID, { cb: 'c:1' }));
    expect(a.status, a.text).toBe(200);
    expect(a.body.contacts).toEqual([{ input: BSUID, user_id: BSUID }]);
    expect(a.body.messages[0]).toMatchObject({ message_status: 'accepted' });
    expect(await record(a.body.messages[0].id)).toMatchObject({ to: null, user_id: BSUID, via: 'recipient' });
    const parent = await g.post(`${COEX}/messages`, toBsuid('US.ENT.11815799212886844830'));
    expect(parent.body.contacts).toEqual([
      { input: 'US.ENT.11815799212886844830', user_id: 'US.ENT.11815799212886844830' },
    ]);
  });

  it('when both `to` and `recipient` are given, `to` wins and the send follows the phone path', async () => {
    const a = await g.post(`${COEX}/messages`, toBsuid(BSUID, { to: '+16505551234' }));
    expect(a.status, a.text).toBe(200);
    expect(a.body.contacts).toEqual([{ input: '+16505551234', wa_id: '16505551234' }]);
    expect(await record(a.body.messages[0].id)).toMatchObject({
      to: '16505551234',
      user_id: null,
      via: 'to',
    });
  });

  it('refuses a `recipient` that is not a BSUID (131009), and a send with neither (100)', async () => {
    const bad = await g.post(`${COEX}/messages`, toBsuid('16505551234'));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 131009 });
    expect(bad.body.error.error_data.details).toContain('recipient');
    const { to: _to, ...neither } = orderUpdate('+16505551234');
    const none = await g.post(`${COEX}/messages`, neither);
    expect(none.body.error.code).toBe(100);
  });

  it('answers 131062 for an authentication template to a BSUID; the same template to a phone is accepted', async () => {
    await createAuthTemplate(g, () => sb.flush());
    const otp = (who: Record<string, string>) => ({
      messaging_product: 'whatsapp',
      recipient_type: 'individual',
      ...who,
      type: 'template',
      template: {
        name: 'login_code',
        language: { code: 'en_US' },
        components: [
          { type: 'body', parameters: [{ type: 'text', text: '123456' }] },
          { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: '123456' }] },
        ],
      },
    });
    const before = (await sb.control<Sent[]>('messages')).length;
    const refused = await g.post(`${COEX}/messages`, otp({ recipient: BSUID }));
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({ code: 131062 });
    expect(await sb.control<Sent[]>('messages')).toHaveLength(before);
    const ok = await g.post(`${COEX}/messages`, otp({ to: '+16505551234' }));
    expect(ok.status, ok.text).toBe(200);
  });

  it('status webhooks of a BSUID send carry recipient_user_id and no recipient_id; phone sends keep recipient_id', async () => {
    const byBsuid = await g.post(`${COEX}/messages`, toBsuid('US.5550001112220199', { cb: 'c:fail' }));
    const ok = await g.post(`${COEX}/messages`, toBsuid('US.5550001112223334', { cb: 'c:ok' }));
    const phone = await g.post(`${COEX}/messages`, orderUpdate('+16505550010', 'c:phone'));
    await sb.flush();
    const statuses = rx.received
      .filter((r) => r.body?.entry?.[0]?.changes?.[0]?.field === 'messages')
      .flatMap((r) => r.body.entry[0].changes[0].value.statuses ?? []);
    const of = (a: { body: { messages: { id: string }[] } }) =>
      statuses.filter((s: { id: string }) => s.id === a.body.messages[0]!.id);
    const okStatuses = of(ok);
    expect(okStatuses.map((s: { status: string }) => s.status)).toEqual(['sent', 'delivered', 'read']);
    for (const s of okStatuses) {
      expect(s.recipient_user_id).toBe('US.5550001112223334');
      expect(s).not.toHaveProperty('recipient_id');
    }
    // the sandbox's documented fates hold for BSUIDs too (…0199: undeliverable)
    expect(of(byBsuid)).toEqual([
      expect.objectContaining({ status: 'failed', recipient_user_id: 'US.5550001112220199' }),
    ]);
    for (const s of of(phone)) {
      expect(s.recipient_id).toBe('16505550010');
      expect(s).not.toHaveProperty('recipient_user_id');
    }
  });
});
