import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { hintFor } from '../../src/cli/hints.js';
import { FakeClock } from '../../src/lib/clock.js';
import { exitCodeFor } from '../../src/lib/exit-codes.js';
import { formatAnswerPath } from '../../src/lib/graph/answers.js';
import { UnexpectedAnswerError } from '../../src/lib/graph/errors.js';
import { Graph } from '../../src/lib/graph/graph.js';
import { tempHome } from '../helpers/cli.js';
import { json, run, startServer, type TestServer } from './support.js';

let server: TestServer | undefined;
const graphs: Graph[] = [];
afterEach(async () => {
  await Promise.all(graphs.splice(0).map((g) => g.close()));
  await server?.close();
  server = undefined;
});

/** A Graph whose every call is answered with `body` (HTTP 200). */
async function answering(body: unknown, raw = false): Promise<Graph> {
  server = await startServer((_req, res) => {
    if (raw) {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-fb-trace-id': 'TraceAns1' });
      res.end(String(body));
    } else json(res, 200, body, { 'x-fb-trace-id': 'TraceAns1' });
  });
  const g = Graph.create({
    baseUrl: server.url,
    token: 'EAATESTTOKEN',
    clock: new FakeClock(),
    retry: { random: () => 0.5 },
  });
  graphs.push(g);
  return g;
}

async function unexpected(p: Promise<unknown>): Promise<UnexpectedAnswerError> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UnexpectedAnswerError);
  return error as UnexpectedAnswerError;
}

/** One API call, an answer of the wrong shape, and where the error must point. */
interface Case {
  name: string;
  call: (g: Graph) => Promise<unknown>;
  bad: unknown;
  endpoint: string;
  field: string;
  problem: RegExp;
  /** A good answer with fields the schema does not know, and what must be read from it. */
  good: unknown;
  check: (value: unknown) => void;
}

const phone = {
  id: '111',
  display_phone_number: '+1 555',
  is_on_biz_app: true,
  throughput: { level: 'STANDARD' },
};
const template = {
  id: 't1',
  name: 'hello',
  language: 'en_US',
  status: 'APPROVED',
  category: 'UTILITY',
  components: [{ type: 'BODY', text: 'Hi {{1}}', brand_new: { x: 1 } }],
};

const cases: Case[] = [
  {
    name: 'phoneNumbers.get',
    call: (g) => g.phoneNumbers.get('111'),
    bad: { ...phone, throughput: { level: 2 } },
    endpoint: 'GET /v25.0/111',
    field: 'throughput.level',
    problem: /expected string, received number/,
    good: {
      ...phone,
      quality_rating: 'PURPLE',
      future_field: [1, 2],
      health_status: { can_send_message: 'AVAILABLE' },
    },
    check: (v) => {
      const n = v as Record<string, unknown> & { health_status: { entities: unknown[] } };
      expect(n.is_on_biz_app).toBe(true);
      expect(n.quality_rating).toBe('PURPLE');
      expect(n.future_field).toEqual([1, 2]);
      // absent entities read as none
      expect(n.health_status.entities).toEqual([]);
    },
  },
  {
    name: 'phoneNumbers.list',
    call: async (g) => {
      const all = [];
      for await (const n of g.phoneNumbers.list('999')) all.push(n);
      return all;
    },
    bad: { data: [phone, { ...phone, id: '112', is_on_biz_app: 'yes' }] },
    endpoint: 'GET /v25.0/999/phone_numbers',
    field: 'data[1].is_on_biz_app',
    problem: /expected boolean, received string/,
    good: { data: [{ ...phone, search_visibility: 'VISIBLE' }], summary: { total_count: 1 } },
    check: (v) => expect(v).toEqual([{ ...phone, search_visibility: 'VISIBLE' }]),
  },
  {
    name: 'waba.get',
    call: (g) => g.waba.get('999'),
    bad: { name: 'no id here' },
    endpoint: 'GET /v25.0/999',
    field: 'id',
    problem: /expected string, received undefined/,
    good: { id: '999', name: 'Shop', ownership_type: 'SELF_OWNED' },
    check: (v) => expect(v).toMatchObject({ id: '999', name: 'Shop', ownership_type: 'SELF_OWNED' }),
  },
  {
    name: 'waba.subscribedApps',
    call: (g) => g.waba.subscribedApps('999'),
    bad: { data: [{ whatsapp_business_api_data: { name: 'app' } }] },
    endpoint: 'GET /v25.0/999/subscribed_apps',
    field: 'data[0].whatsapp_business_api_data.id',
    problem: /expected string, received undefined/,
    good: { data: [{ whatsapp_business_api_data: { id: 'A1', name: 'app', category: 'x' } }] },
    check: (v) =>
      expect(v).toEqual([{ whatsapp_business_api_data: { id: 'A1', name: 'app', category: 'x' } }]),
  },
  {
    name: 'appSubscriptions.list',
    call: (g) => g.appSubscriptions.list('A1', 'A1|secret'),
    bad: { data: [{ object: 'whatsapp_business_account', fields: [{ name: 7 }] }] },
    endpoint: 'GET /v25.0/A1/subscriptions',
    field: 'data[0].fields[0].name',
    problem: /expected string, received number/,
    good: {
      data: [{ object: 'whatsapp_business_account', fields: [{ name: 'history', v: 1 }], extra: true }],
    },
    check: (v) => expect((v as { fields: { name: string }[] }[])[0]?.fields[0]?.name).toBe('history'),
  },
  {
    name: 'templates.list',
    call: async (g) => {
      const all = [];
      for await (const t of g.templates.list('999')) all.push(t);
      return all;
    },
    bad: { data: [{ ...template, status: undefined }] },
    endpoint: 'GET /v25.0/999/message_templates',
    field: 'data[0].status',
    problem: /expected string, received undefined/,
    good: { data: [{ ...template, status: 'SOME_NEW_STATUS', library_template_name: 'x' }] },
    check: (v) => expect(v).toEqual([{ ...template, status: 'SOME_NEW_STATUS', library_template_name: 'x' }]),
  },
  {
    name: 'templates.get',
    call: (g) => g.templates.get('t1'),
    bad: { ...template, components: [{ text: 'no type' }] },
    endpoint: 'GET /v25.0/t1',
    field: 'components[0].type',
    problem: /expected string, received undefined/,
    good: { ...template, cta_url_link_tracking_opted_out: true },
    check: (v) => expect(v).toMatchObject({ id: 't1', cta_url_link_tracking_opted_out: true }),
  },
  {
    name: 'templates.create',
    call: (g) =>
      g.templates.create('999', { name: 'x', language: 'en', category: 'UTILITY', components: [] }),
    bad: { status: 'PENDING', category: 'UTILITY' },
    endpoint: 'POST /v25.0/999/message_templates',
    field: 'id',
    problem: /expected string, received undefined/,
    good: { id: 'T9', status: 'PENDING', category: 'UTILITY', sub_category: 'ORDER_DETAILS' },
    check: (v) =>
      expect(v).toEqual({ id: 'T9', status: 'PENDING', category: 'UTILITY', sub_category: 'ORDER_DETAILS' }),
  },
  {
    name: 'templates.edit',
    call: (g) => g.templates.edit('t1', { category: 'UTILITY' }),
    bad: { success: 'true' },
    endpoint: 'POST /v25.0/t1',
    field: 'success',
    problem: /expected boolean, received string/,
    good: { success: true, id: 't1', more: 1 },
    check: (v) => expect(v).toEqual({ success: true, id: 't1', more: 1 }),
  },
  {
    name: 'smbAppData.requestSync',
    call: (g) => g.smbAppData.requestSync('111', 'history'),
    bad: { messaging_product: 'whatsapp', request_id: 42 },
    endpoint: 'POST /v25.0/111/smb_app_data',
    field: 'request_id',
    problem: /expected string, received number/,
    good: { messaging_product: 'whatsapp', request_id: 'R1', expected_completion: 'soon' },
    check: (v) => expect(v).toMatchObject({ request_id: 'R1' }),
  },
  {
    name: 'oauth.exchangeCode',
    call: (g) => g.oauth.exchangeCode({ appId: 'A1', appSecret: 's', code: 'c' }),
    bad: { access_token: 12345, token_type: 'bearer' },
    endpoint: 'GET /v25.0/oauth/access_token',
    field: 'access_token',
    problem: /expected string, received number/,
    good: { access_token: 'EAAB', token_type: 'bearer', scope_note: 'x' },
    check: (v) => expect(v).toMatchObject({ access_token: 'EAAB', token_type: 'bearer' }),
  },
  {
    name: 'oauth.debugToken',
    call: (g) => g.oauth.debugToken('EAAB', 'A1|s'),
    bad: { data: { app_id: 'A1', is_valid: 'true', scopes: [] } },
    endpoint: 'GET /v25.0/debug_token',
    field: 'data.is_valid',
    problem: /expected boolean, received string/,
    good: { data: { app_id: 'A1', is_valid: true, scopes: ['x'], metadata: { sso: 'y' } } },
    check: (v) => expect(v).toEqual({ app_id: 'A1', is_valid: true, scopes: ['x'], metadata: { sso: 'y' } }),
  },
  {
    name: 'messages.sendTemplate',
    call: (g) => g.messages.sendTemplate('111', { to: '4915112345678', name: 'hello', language: 'en_US' }),
    bad: { messaging_product: 'whatsapp', contacts: [{ input: '1', wa_id: '1' }], messages: [] },
    endpoint: 'POST /v25.0/111/messages',
    field: 'messages[0]',
    problem: /expected object, received undefined/,
    good: {
      messaging_product: 'whatsapp',
      messages: [{ id: 'wamid.X', message_status: 'accepted', pacing: 1 }],
    },
    check: (v) => expect((v as { messages: { id: string }[] }).messages[0]?.id).toBe('wamid.X'),
  },
];

describe('API answers are checked against the shapes wacx depends on', () => {
  it.each(cases)('$name: a wrong shape is an unexpected_answer naming the call and the field', async (c) => {
    const g = await answering(c.bad);
    const error = await unexpected(c.call(g));
    expect(error.category).toBe('unexpected_answer');
    expect(error.endpoint).toBe(c.endpoint);
    expect(error.field).toBe(c.field);
    expect(error.problem).toMatch(c.problem);
    expect(error.status).toBe(200);
    expect(error.fbtraceId).toBe('TraceAns1');
    expect(error.message).toBe(`Unexpected answer from ${c.endpoint}: ${c.field}: ${error.problem}.`);
    expect(exitCodeFor(error)).toBe(1);
    // the same call gives the same answer: nothing is retried
    expect(server!.requests).toHaveLength(1);
  });

  it.each(cases)('$name: fields wacx does not know pass through', async (c) => {
    const g = await answering(c.good);
    c.check(await c.call(g));
  });

  it('a send answer without an id is refused: the wamid is what wacx records', async () => {
    const g = await answering({ messages: [{ id: '' }] });
    const error = await unexpected(g.messages.sendTemplate('111', { to: '1', name: 'n', language: 'en' }));
    expect(error.field).toBe('messages[0].id');
    expect(error.problem).toBe('expected a message id, received string');
  });

  it('an answer that is not JSON is named as the answer itself', async () => {
    const g = await answering('<html>proxy</html>', true);
    const error = await unexpected(g.phoneNumbers.get('111'));
    expect(error.field).toBe('(the answer itself)');
    expect(error.problem).toMatch(/expected object, received string/);
  });

  it('the code exchange still takes the bare token string Meta documents', async () => {
    const g = await answering('  EAABARE  ', true);
    expect(await g.oauth.exchangeCode({ appId: 'A1', appSecret: 's', code: 'c' })).toEqual({
      access_token: 'EAABARE',
      token_type: 'bearer',
    });
  });

  it('template reads always ask for the fields a template cannot lack', async () => {
    const g = await answering(template);
    await g.templates.get('t1', ['id', 'status', 'rejected_reason']);
    expect(server!.requests[0]?.query.get('fields')).toBe('id,status,rejected_reason,name,language,category');
  });

  it('formats answer paths', () => {
    expect(formatAnswerPath([])).toBe('(the answer itself)');
    expect(formatAnswerPath(['data', 0, 'throughput', 'level'])).toBe('data[0].throughput.level');
    expect(formatAnswerPath([0, 'id'])).toBe('[0].id');
  });

  it('the cli hint names what to check', async () => {
    const g = await answering({ nope: true });
    const error = await unexpected(g.waba.get('999'));
    expect(hintFor(error)).toMatch(/Graph URL.*API version/);
  });
});

describe('an unexpected answer through the CLI', () => {
  const home = tempHome();
  afterAll(() => home.cleanup());

  it('`wacx templates list` exits 1 and reports the category, the call and the field', async () => {
    server = await startServer((_req, res) => json(res, 200, { data: [{ ...template, name: 5 }] }));
    const env = { ...home.env, WACX_GRAPH_URL: server.url, WACX_TOKEN: 'EAATESTTOKEN', WACX_WABA_ID: '999' };
    const human = await run(['templates', 'list'], { env, clock: new FakeClock() });
    expect(human.code).toBe(1);
    expect(human.stderr).toContain(
      'Unexpected answer from GET /v25.0/999/message_templates: data[0].name: expected string, received number.',
    );
    expect(human.stderr).toContain('check the Graph URL');

    const machine = await run(['templates', 'list', '--json'], { env, clock: new FakeClock() });
    expect(machine.code).toBe(1);
    const { error } = JSON.parse(machine.stdout) as {
      error: { type: string; exitCode: number; message: string; graph: Record<string, unknown> };
    };
    expect(error.type).toBe('UnexpectedAnswerError');
    expect(error.exitCode).toBe(1);
    expect(error.message).toContain('GET /v25.0/999/message_templates: data[0].name');
    expect(error.graph).toEqual({
      status: 200,
      code: null,
      subcode: null,
      type: null,
      category: 'unexpected_answer',
      fbtraceId: null,
    });
  });
});
