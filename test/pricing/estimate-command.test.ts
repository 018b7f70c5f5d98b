import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderSendArgs, phone } from '../campaign/helpers.js';
import { runCli } from '../helpers/cli.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';

const CARD = join(import.meta.dirname, '../../examples/rate-card.example.csv');
const US = ['12025550101', '12025550102'];

let sb: TestSandbox;
let db: string;
let campaign: string;

/** An inbound text from `from` to the sandbox's coexistence number at `iso`: a customer service window. */
function inbound(from: string, iso: string, wamid: string, referral = false): string {
  const ts = String(Math.floor(Date.parse(iso) / 1000));
  const message: Record<string, unknown> = {
    from,
    id: wamid,
    timestamp: ts,
    type: 'text',
    text: { body: 'hi' },
  };
  if (referral) message.referral = { source_type: 'ad', source_id: '1', source_url: 'https://fb.me/x' };
  return JSON.stringify({
    object: 'whatsapp_business_account',
    entry: [
      {
        id: sb.seed.waba.id,
        changes: [
          {
            field: 'messages',
            value: {
              messaging_product: 'whatsapp',
              metadata: {
                display_phone_number: '15550100001',
                phone_number_id: sb.seed.phoneNumbers.coex.id,
              },
              contacts: [{ profile: { name: 'User' }, wa_id: from }],
              messages: [message],
            },
          },
        ],
      },
    ],
  });
}

interface EstimateJson {
  campaign: string;
  category: string;
  rules: string;
  currency: string;
  rate_card: { effective_date: string; stale: boolean };
  lines: { country: string; market: string; messages: number; billed: number; cost: string }[];
  total: {
    messages: number;
    billed: number;
    free_customer_service: number;
    free_entry_point: number;
    cost: string;
  };
  assumptions: string[];
}

beforeAll(async () => {
  sb = await startTestSandbox();
  await sb.control(`numbers/${sb.seed.phoneNumbers.coex.id}`, { pair_limit: false });
  db = join(sb.home, 'wacx.db');
  const csv = join(sb.home, 'mixed.csv');
  const rows = [0, 1, 2, 3]
    .map((i) => `+${phone(i)},Name ${i},A-${i}`)
    .concat(US.map((p, i) => `+${p},US ${i},B-${i}`));
  writeFileSync(csv, `phone,name,order\n${rows.join('\n')}\n`);
  const sent = await runCli([...orderSendArgs(csv), '--rate', '20', '--json'], {
    env: sb.env({ WACX_DB: db }),
  });
  expect(sent.code).toBe(0);
  const list = await runCli(['campaigns', 'list', '--json'], { env: sb.env({ WACX_DB: db }) });
  campaign = (JSON.parse(list.stdout) as { id: string }[])[0]!.id;
  // phone 0 wrote on 2026-09-14 evening; phone 1 came from a click-to-WhatsApp ad on 2026-12-09
  const feed = join(sb.home, 'inbound.ndjson');
  writeFileSync(
    feed,
    [
      inbound(phone(0), '2026-09-14T20:00:00Z', 'wamid.in.1'),
      inbound(phone(1), '2026-12-09T18:00:00Z', 'wamid.in.2', true),
    ].join('\n'),
  );
  const ingest = await runCli(['webhooks', 'ingest', feed], { env: sb.env({ WACX_DB: db }) });
  expect(ingest.code).toBe(0);
}, 60_000);
afterAll(async () => {
  await sb?.close();
});

const estimate = async (...extra: string[]) => {
  const r = await runCli(['campaigns', 'estimate', campaign, '--rate-card', CARD, '--json', ...extra], {
    env: sb.env({ WACX_DB: db }),
  });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as EstimateJson;
};

describe('wacx campaigns estimate', () => {
  it('prices the rows by market with the category read from the API (order_update is UTILITY)', async () => {
    const e = await estimate('--at', '2026-12-01');
    expect(e).toMatchObject({ campaign, category: 'utility', rules: 'per-message-2026-10', currency: 'USD' });
    expect(e.lines.map((l) => [l.country, l.market, l.billed, l.cost])).toEqual([
      ['DE', 'Germany', 4, '0.20'],
      ['US', 'North America', 2, '0.008'],
    ]);
    expect(e.total).toMatchObject({ messages: 6, billed: 6, cost: '0.208' });
  });

  it('a customer service window from the store made utility free before 2026-10-01, not after', async () => {
    const before = await estimate('--at', '2026-09-15');
    expect(before.rules).toBe('per-message');
    expect(before.total).toMatchObject({ billed: 5, free_customer_service: 1, cost: '0.158' });
    expect(before.assumptions.join(' ')).toMatch(/inbound messages \(1 in the 72 h/);
  });

  it('a free entry point window (a click-to-WhatsApp ad answered by this campaign) makes the message free', async () => {
    const e = await estimate('--at', '2026-12-10');
    expect(e.total).toMatchObject({ billed: 5, free_entry_point: 1, cost: '0.158' });
  });

  it('on a terminal-less run without --json: the table, the total and what was assumed', async () => {
    const r = await runCli(['campaigns', 'estimate', campaign, '--rate-card', CARD, '--at', '2026-12-01'], {
      env: sb.env({ WACX_DB: db }),
    });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Total: 6 message(s), 6 billed, 0 free, 0 without a price: 0.208 USD');
    expect(r.stdout).toMatch(/DE\tGermany\t4\t4\t0\t0\t0\.20/);
    expect(r.stderr).toContain('every message is delivered');
  });

  it('bad input: a malformed card (exit 2, line and column), a bad --at, an unknown campaign, no card configured', async () => {
    const bad = join(sb.home, 'bad-card.csv');
    writeFileSync(bad, 'Effective date,2026-10-01\nMarket,Utility\nGermany,five\n');
    const env = sb.env({ WACX_DB: db });
    const r1 = await runCli(['campaigns', 'estimate', campaign, '--rate-card', bad], { env });
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain(`${bad}:3:2: Utility "five" is not a price`);
    const r2 = await runCli(['campaigns', 'estimate', campaign, '--rate-card', CARD, '--at', '2026-13-01'], {
      env,
    });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain('--at: "2026-13-01" is not a valid date.');
    const r3 = await runCli(['campaigns', 'estimate', 'nope', '--rate-card', CARD], { env });
    expect(r3.code).toBe(2);
    expect(r3.stderr).toContain('No campaign "nope"');
    const r4 = await runCli(['campaigns', 'estimate', campaign], { env });
    expect(r4.code).toBe(4);
    expect(r4.stderr).toMatch(/No rateCard configured[\s\S]*--rate-card[\s\S]*WACX_RATE_CARD/);
  });
});

describe('wacx send --estimate', () => {
  it('prices the rows the dry run would send (a BSUID by its country prefix, invalid rows left out); nothing is sent', async () => {
    await sb.control('reset', {});
    await sb.control(`numbers/${sb.seed.phoneNumbers.coex.id}`, { pair_limit: false });
    const csv = join(sb.home, 'estimate.csv');
    writeFileSync(
      csv,
      [
        'phone,name,order',
        `+${phone(50)},A,1`,
        `+${phone(51)},B,2`,
        '+12025550150,C,3',
        'US.13491208655302741918,D,4',
        'nope,E,5',
      ]
        .join('\n')
        .concat('\n'),
    );
    const r = await runCli([...orderSendArgs(csv), '--estimate', '--rate-card', CARD, '--json'], {
      env: sb.env({ WACX_DB: join(sb.home, 'estimate.db') }),
    });
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const estimate = lines.find((l) => l.type === 'estimate') as unknown as EstimateJson;
    expect(estimate.category).toBe('utility');
    expect(estimate.lines.map((l) => [l.country, l.market, l.billed, l.cost])).toEqual([
      ['DE', 'Germany', 2, '0.10'],
      ['US', 'North America', 2, '0.008'],
    ]);
    expect(estimate.total).toMatchObject({ messages: 4, billed: 4, cost: '0.108' });
    expect(await sb.control('messages')).toEqual([]);
    expect(r.code).toBe(3); // the dry run's verdict on the invalid row stands
  });

  it('a malformed rate card is refused before anything else (exit 2, line and column)', async () => {
    const bad = join(sb.home, 'bad-card-2.csv');
    writeFileSync(bad, 'Effective date,2026-10-01\nMarket,Marketing,Utility\nIndia,0.01,1.2.3\n');
    const csv = join(sb.home, 'one.csv');
    writeFileSync(csv, `phone,name,order\n+${phone(60)},A,1\n`);
    const r = await runCli([...orderSendArgs(csv), '--estimate', '--rate-card', bad], {
      env: sb.env({ WACX_DB: db }),
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:3:3: Utility "1.2.3" is not a price`);
    const noEstimate = await runCli([...orderSendArgs(csv), '--rate-card', CARD, '--dry-run'], {
      env: sb.env({ WACX_DB: db }),
    });
    expect(noEstimate.code).toBe(2);
    expect(noEstimate.stderr).toContain('--rate-card prices a campaign: pass --estimate too.');
  });
});
