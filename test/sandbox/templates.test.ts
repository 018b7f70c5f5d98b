/** Template management on the sandbox: create with Meta's rules, review, list paging and filters, delete, node. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { graph, startReceiver } from './util.js';

const WABA = '3000000000000001';
let sb: TestSandbox;
let g: ReturnType<typeof graph>;
let rx: Awaited<ReturnType<typeof startReceiver>>;

beforeEach(async () => {
  rx = await startReceiver();
  sb = await startTestSandbox({ webhookUrl: rx.url });
  g = graph(sb.url);
});
afterEach(async () => {
  await sb.close();
  await rx.close();
});

const create = (def: Record<string, unknown>) => g.post(`${WABA}/message_templates`, def);
const utility = (name: string, text: string, extra: Record<string, unknown> = {}) => ({
  name,
  language: 'en_US',
  category: 'UTILITY',
  components: [{ type: 'BODY', text }],
  ...extra,
});

describe('create and review', () => {
  it('creates PENDING, then APPROVED after the review delay with a message_template_status_update webhook', async () => {
    await sb.control('clock', { freeze: true }); // the review must not finish before we look
    const a = await create(utility('shipping_notice', 'Your parcel is on its way.'));
    expect(a.status).toBe(200);
    expect(a.body).toEqual({ id: expect.stringMatching(/^\d+$/), status: 'PENDING', category: 'UTILITY' });
    expect((await g.get(`${a.body.id}?fields=status`)).body.status).toBe('PENDING');
    await sb.flush();
    expect((await g.get(`${a.body.id}?fields=status,rejected_reason`)).body).toMatchObject({
      status: 'APPROVED',
      rejected_reason: 'NONE',
    });
    const update = rx.received.find(
      (r) => r.body.entry[0].changes[0].field === 'message_template_status_update',
    );
    expect(update?.body.entry[0].time).toBeTypeOf('number');
    expect(update?.body.entry[0].changes[0].value).toEqual({
      event: 'APPROVED',
      message_template_id: Number(a.body.id),
      message_template_name: 'shipping_notice',
      message_template_language: 'en_US',
      reason: 'NONE',
      message_template_category: 'UTILITY',
    });
  });

  it.each([
    [
      'promotional wording in a UTILITY template',
      utility('weekly_note', 'Big sale: 30% off all plants this week!'),
      'INCORRECT_CATEGORY',
    ],
    [
      'a shortened link',
      utility('link_note', 'Track your order at https://bit.ly/abc123 today.'),
      'INVALID_FORMAT',
    ],
    [
      'scam wording',
      { ...utility('prize_note', 'Congratulations, you won the lottery!'), category: 'MARKETING' },
      'SCAM',
    ],
  ])('rejects %s', async (_name, def, reason) => {
    const a = await create(def);
    expect(a.status).toBe(200);
    await sb.flush();
    expect((await g.get(`${a.body.id}?fields=status,rejected_reason`)).body).toMatchObject({
      status: 'REJECTED',
      rejected_reason: reason,
    });
    const update = rx.received
      .map((r) => r.body.entry[0].changes[0])
      .find((c) => c.field === 'message_template_status_update');
    expect(update.value).toMatchObject({ event: 'REJECTED', reason });
  });

  it('applies Meta’s creation rules (code 100 with the creation subcode)', async () => {
    const long = await create(utility('long_body', 'x'.repeat(1025)));
    expect(long.status).toBe(400);
    expect(long.body.error).toMatchObject({ code: 100, error_subcode: 2388040 });
    const name = await create(utility('Bad-Name', 'Hello'));
    expect(name.body.error.code).toBe(100);
    expect(name.body.error.error_data.details).toMatch(/^name: /);
    const trailing = await create(
      utility('trailing_var', 'Your code is {{1}}', {
        components: [{ type: 'BODY', text: 'Your code is {{1}}', example: { body_text: [['1']] } }],
      }),
    );
    expect(trailing.body.error.error_subcode).toBe(2388299);
    const category = await create({ ...utility('cat_test', 'Hello there'), category: 'PROMO' });
    expect(category.body.error.error_data.details).toMatch(/category/);
  });

  it('refuses a second template with the same name and language (2388024), allows another language', async () => {
    expect((await create(utility('hello_world', 'Hi'))).body.error.error_subcode).toBe(2388024);
    expect((await create({ ...utility('hello_world', 'Hola, bienvenido.'), language: 'es' })).status).toBe(
      200,
    );
  });
});

describe('list', () => {
  it('pages with after, before and next', async () => {
    const all: string[] = [];
    let page = await g.get(`${WABA}/message_templates?limit=3&fields=name,language`);
    const pages = [page];
    for (;;) {
      all.push(...page.body.data.map((t: { id: string }) => t.id));
      if (!page.body.paging.next) break;
      expect(page.body.paging.next).toContain(`after=${page.body.paging.cursors.after}`);
      page = await g.get(page.body.paging.next);
      pages.push(page);
    }
    expect(all).toHaveLength(8);
    expect(new Set(all).size).toBe(8);
    expect(pages).toHaveLength(3);
    expect(pages[0]!.body.paging.previous).toBeUndefined();
    const back = await g.get(
      `${WABA}/message_templates?limit=3&before=${pages[1]!.body.paging.cursors.before}`,
    );
    expect(back.body.data.map((t: { id: string }) => t.id)).toEqual(
      pages[0]!.body.data.map((t: { id: string }) => t.id),
    );
    expect(pages[1]!.body.paging.previous).toContain('before=');
  });

  it('filters by name, status, category, language and content', async () => {
    const ids = async (q: string) =>
      (await g.get(`${WABA}/message_templates?${q}`)).body.data
        .map((t: { name: string; language: string }) => `${t.name}/${t.language}`)
        .sort();
    expect(await ids('name=order_update')).toEqual(['order_update/en_US', 'order_update/pt_BR']);
    expect(await ids('status=paused,disabled')).toEqual(['legacy_welcome/en_US', 'seasonal_promo/en_US']);
    expect(await ids('category=MARKETING&status=APPROVED')).toEqual(['spring_sale/en_US']);
    expect(await ids('language=pt_BR')).toEqual(['order_update/pt_BR']);
    expect(await ids('name_or_content=shipped')).toEqual(['order_update/en_US']);
    const fields = (await g.get(`${WABA}/message_templates?name=hello_world&fields=name,quality_score`)).body
      .data[0];
    expect(Object.keys(fields).sort()).toEqual(['id', 'name', 'quality_score']);
    const count = await g.get(`${WABA}/message_templates?limit=1&summary=total_count`);
    expect(count.body.summary.total_count).toBe(8);
  });
});

describe('delete', () => {
  it('by name deletes every language; by name + hsm_id only that one', async () => {
    expect((await g.del(`${WABA}/message_templates?name=order_update&hsm_id=6000000000000003`)).body).toEqual(
      { success: true },
    );
    expect((await g.get('6000000000000003')).status).toBe(400);
    expect((await g.get('6000000000000002')).status).toBe(200);
    expect((await g.del(`${WABA}/message_templates?name=appointment_reminder`)).body).toEqual({
      success: true,
    });
    expect((await g.get('6000000000000004')).body.error.error_subcode).toBe(33);
    expect((await g.del(`${WABA}/message_templates?name=hello_world&hsm_id=6000000000000005`)).status).toBe(
      400,
    );
  });

  it('by hsm_ids (not combinable with name), refuses DISABLED, blocks an approved name for 30 days', async () => {
    expect(
      (
        await g.del(
          `${WABA}/message_templates?hsm_ids=${encodeURIComponent('["6000000000000001","6000000000000005"]')}`,
        )
      ).status,
    ).toBe(200);
    expect((await g.del(`${WABA}/message_templates?name=x&hsm_ids=["6000000000000002"]`)).status).toBe(400);
    const disabled = await g.del(`${WABA}/message_templates?name=legacy_welcome`);
    expect(disabled.status).toBe(400);
    expect(disabled.body.error.error_data.details).toMatch(/DISABLED/);
    const reuse = await create(utility('hello_world', 'Hello again'));
    expect(reuse.body.error).toMatchObject({ code: 100, error_subcode: 2388023 });
    await sb.control('clock', { advance_ms: 30 * 86_400_000 + 1 });
    expect((await create(utility('hello_world', 'Hello again'))).status).toBe(200);
  });
});

describe('template node', () => {
  it('GET with default and chosen fields', async () => {
    const a = await g.get('6000000000000002');
    expect(a.body).toMatchObject({
      id: '6000000000000002',
      name: 'order_update',
      language: 'en_US',
      status: 'APPROVED',
      category: 'UTILITY',
      parameter_format: 'POSITIONAL',
    });
    expect(a.body.components[0].text).toBe('Hi {{1}}, your order {{2}} has shipped.');
    expect((await g.get('6000000000000002?fields=name')).body).toEqual({
      name: 'order_update',
      id: '6000000000000002',
    });
  });

  it('POST edits replace the components wholesale and trigger a new review', async () => {
    const rejected = await create(utility('edit_me', 'Big sale today only!'));
    await sb.flush();
    expect((await g.get(`${rejected.body.id}?fields=status`)).body.status).toBe('REJECTED');
    const edit = await g.post(rejected.body.id, {
      components: [{ type: 'BODY', text: 'Your order is ready for pickup.' }],
    });
    expect(edit.body).toEqual({ success: true, id: rejected.body.id, name: 'edit_me', category: 'UTILITY' });
    await sb.flush();
    const after = await g.get(`${rejected.body.id}?fields=status,components`);
    expect(after.body.status).toBe('APPROVED');
    expect(after.body.components).toEqual([{ type: 'BODY', text: 'Your order is ready for pickup.' }]);
    expect(
      (await g.post(rejected.body.id, { components: [{ type: 'BODY', text: '' }] })).body.error.code,
    ).toBe(100);
  });
});
