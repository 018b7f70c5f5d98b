/** Message sends: validation like the Cloud API, accepted-message inspection, status webhooks. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { graph, orderUpdate, startReceiver, templateSend } from './util.js';

const COEX = '5000000000000001';
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

const send = (body: unknown) => g.post(`${COEX}/messages`, body);
const body = (...texts: string[]) => [
  { type: 'body', parameters: texts.map((text) => ({ type: 'text', text })) },
];

describe('template sends', () => {
  it('accepts a valid send and records it for inspection', async () => {
    const a = await send(orderUpdate('+1 (650) 555-1234', 'campaign:7:row:3'));
    expect(a.status).toBe(200);
    expect(a.body).toEqual({
      messaging_product: 'whatsapp',
      contacts: [{ input: '+1 (650) 555-1234', wa_id: '16505551234' }],
      messages: [{ id: expect.stringMatching(/^wamid\./), message_status: 'accepted' }],
    });
    const list = await sb.control('messages?to=16505551234');
    expect(list.at(-1)).toMatchObject({
      id: a.body.messages[0].id,
      phone_number_id: COEX,
      to: '16505551234',
      template: 'order_update',
      language: 'en_US',
      parameters: ['Ana', 'A-1001'],
      callback_data: 'campaign:7:row:3',
      at: expect.any(Number),
    });
  });

  it.each([
    ['unknown template', templateSend('+16505550001', 'no_such_template', 'en_US'), 404, 132001],
    ['known template, unknown language', templateSend('+16505550001', 'hello_world', 'fr'), 404, 132001],
    [
      'too few body parameters',
      templateSend('+16505550001', 'order_update', 'en_US', body('Ana')),
      400,
      132000,
    ],
    [
      'too many body parameters',
      templateSend('+16505550001', 'order_update', 'en_US', body('a', 'b', 'c')),
      400,
      132000,
    ],
    [
      'parameters for a template without variables',
      templateSend('+16505550001', 'hello_world', 'en_US', body('x')),
      400,
      132000,
    ],
    [
      'named parameters for a positional template',
      templateSend('+16505550001', 'order_update', 'en_US', [
        {
          type: 'body',
          parameters: [
            { type: 'text', parameter_name: 'a', text: 'x' },
            { type: 'text', parameter_name: 'b', text: 'y' },
          ],
        },
      ]),
      400,
      132012,
    ],
    [
      'positional parameters for a named template',
      templateSend('+16505550001', 'appointment_reminder', 'en_US', body('Ana', 'May 1')),
      400,
      132012,
    ],
    [
      'an unknown parameter_name',
      templateSend('+16505550001', 'appointment_reminder', 'en_US', [
        {
          type: 'body',
          parameters: [
            { type: 'text', parameter_name: 'first_name', text: 'A' },
            { type: 'text', parameter_name: 'day', text: 'B' },
          ],
        },
      ]),
      400,
      132012,
    ],
    [
      'a text parameter for a DOCUMENT header',
      templateSend('+16505550001', 'order_receipt', 'en_US', [
        { type: 'header', parameters: [{ type: 'text', text: 'x' }] },
        ...body('Ana'),
      ]),
      400,
      132012,
    ],
    [
      'a missing URL button parameter',
      templateSend('+16505550001', 'spring_sale', 'en_US', body('Ana', 'CODE')),
      400,
      132000,
    ],
    ['a PAUSED template', templateSend('+16505550001', 'seasonal_promo', 'en_US'), 400, 132015],
    ['a DISABLED template', templateSend('+16505550001', 'legacy_welcome', 'en_US'), 400, 132016],
    [
      'a parameter with a newline',
      templateSend('+16505550001', 'order_update', 'en_US', body('Ana\nB', 'x')),
      400,
      132018,
    ],
    [
      'no template name',
      {
        messaging_product: 'whatsapp',
        to: '+16505550001',
        type: 'template',
        template: { language: { code: 'en_US' } },
      },
      400,
      131008,
    ],
    [
      'no messaging_product',
      {
        to: '+16505550001',
        type: 'template',
        template: { name: 'hello_world', language: { code: 'en_US' } },
      },
      400,
      100,
    ],
    ['an invalid recipient', templateSend('not a number', 'hello_world', 'en_US'), 400, 131009],
    ['the business number itself', templateSend('+15550100001', 'hello_world', 'en_US'), 400, 131021],
    [
      'callback data over 512 characters',
      { ...templateSend('+16505550001', 'hello_world', 'en_US'), biz_opaque_callback_data: 'x'.repeat(513) },
      400,
      100,
    ],
  ])('refuses %s', async (_name, payload, status, code) => {
    const a = await send(payload);
    expect(a.status).toBe(status);
    expect(a.body.error.code).toBe(code);
    expect(a.body.error.message).toMatch(new RegExp(`^\\(#${code}\\) `));
    expect(a.body.error.fbtrace_id).toBe(a.headers.get('x-fb-trace-id'));
  });

  it('accepts named parameters in any order, media headers and URL buttons', async () => {
    const named = await send(
      templateSend('+16505550002', 'appointment_reminder', 'en_US', [
        {
          type: 'body',
          parameters: [
            { type: 'text', parameter_name: 'date', text: 'May 1' },
            { type: 'text', parameter_name: 'first_name', text: 'Ana' },
          ],
        },
      ]),
    );
    expect(named.status).toBe(200);
    const list = await sb.control('messages?template=appointment_reminder');
    expect(list.at(-1).parameters).toEqual(['Ana', 'May 1']);
    const media = await send(
      templateSend('+16505550002', 'order_receipt', 'en_US', [
        {
          type: 'header',
          parameters: [
            { type: 'document', document: { link: 'https://example.com/r.pdf', filename: 'r.pdf' } },
          ],
        },
        ...body('Ana'),
      ]),
    );
    expect(media.status).toBe(200);
    const button = await send(
      templateSend('+16505550002', 'spring_sale', 'en_US', [
        ...body('Ana', 'SPRING20'),
        { type: 'button', sub_type: 'url', index: '1', parameters: [{ type: 'text', text: 'spring' }] },
        {
          type: 'button',
          sub_type: 'quick_reply',
          index: '0',
          parameters: [{ type: 'payload', payload: 'stop' }],
        },
      ]),
    );
    expect(button.status, button.text).toBe(200);
  });
});

describe('free-form messages and the customer service window', () => {
  it('refuses text outside the 24 h window (131047) and accepts it after the user wrote', async () => {
    const text = {
      messaging_product: 'whatsapp',
      to: '+16505550003',
      type: 'text',
      text: { body: 'Hello!' },
    };
    const before = await send(text);
    expect(before.body.error.code).toBe(131047);
    await sb.control('emit', {
      field: 'messages',
      value: { messages: [{ from: '16505550003', type: 'text', text: { body: 'hi' } }] },
    });
    const after = await send(text);
    expect(after.status).toBe(200);
    expect(after.body.messages[0].message_status).toBeUndefined();
    await sb.control('clock', { advance_ms: 24 * 3_600_000 + 1 });
    expect((await send(text)).body.error.code).toBe(131047);
  });
});

describe('status webhooks', () => {
  it('sends sent -> delivered -> read with callback data and pricing; failures for the documented recipients', async () => {
    const ok = await send(orderUpdate('+16505550010', 'cb:ok'));
    const fail = await send(orderUpdate('+16505550199', 'cb:fail'));
    const unread = await send(orderUpdate('+16505550197', 'cb:unread'));
    await sb.flush();
    const statuses = rx.received
      .filter((r) => r.body.entry[0].changes[0].field === 'messages')
      .flatMap((r) => r.body.entry[0].changes[0].value.statuses ?? []);
    const of = (id: string) => statuses.filter((s: { id: string }) => s.id === id);
    const okIds = of(ok.body.messages[0].id);
    expect(okIds.map((s: { status: string }) => s.status)).toEqual(['sent', 'delivered', 'read']);
    for (const s of okIds) expect(s.biz_opaque_callback_data).toBe('cb:ok');
    expect(okIds[0].pricing).toEqual({
      billable: true,
      pricing_model: 'PMP',
      type: 'regular',
      category: 'utility',
    });
    expect(okIds[0].conversation).toBeUndefined();
    const failed = of(fail.body.messages[0].id);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      status: 'failed',
      biz_opaque_callback_data: 'cb:fail',
      errors: [{ code: 131026 }],
    });
    expect(of(unread.body.messages[0].id).map((s: { status: string }) => s.status)).toEqual([
      'sent',
      'delivered',
    ]);
  });

  it('includes conversation on versions before v24.0', async () => {
    const old = graph(sb.url, { version: 'v23.0' });
    const a = await old.post(`${COEX}/messages`, orderUpdate('+16505550011'));
    await sb.flush();
    const s = rx.received
      .flatMap((r) => r.body.entry[0].changes[0].value.statuses ?? [])
      .find((x: { id: string }) => x.id === a.body.messages[0].id);
    expect(s.conversation).toMatchObject({ origin: { type: 'utility' } });
  });

  it('can be switched off per number', async () => {
    await sb.control(`numbers/${COEX}`, { statuses: false });
    const before = rx.received.length;
    await send(orderUpdate('+16505550012'));
    await sb.flush();
    expect(rx.received.length).toBe(before);
    await sb.control(`numbers/${COEX}`, { statuses: true });
  });
});
