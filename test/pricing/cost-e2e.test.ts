import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderSendArgs, phone } from '../campaign/helpers.js';
import { runCli } from '../helpers/cli.js';
import { BACKENDS } from '../helpers/postgres.js';
import { type SandboxWithReceiver, sandboxWithReceiver } from '../helpers/receiver.js';

const CARD = join(import.meta.dirname, '../../examples/rate-card.example.csv');
const UNDELIVERABLE_US = '12025550199'; // the sandbox's fate "undeliverable" (131026)

interface CostJson {
  currency: string;
  actual: { total: { billed: number; not_delivered: number; pricing_unknown: number; cost: string } };
  estimate: { total: { billed: number; cost: string } };
  difference: string;
  differences: string[];
  pricing_unknown_rows: { count: number };
}

describe.each(BACKENDS)(
  'estimate, send, statuses with pricing, campaigns cost (sandbox → webhooks serve, %s)',
  (backend) => {
    let s: SandboxWithReceiver;

    async function sendCampaign(name: string, phones: string[]): Promise<string> {
      const csv = join(s.sb.home, `${name}.csv`);
      writeFileSync(csv, `phone,name,order\n${phones.map((p, i) => `+${p},N ${i},O-${i}`).join('\n')}\n`);
      const sent = await runCli([...orderSendArgs(csv), '--rate', '20', '--campaign', name], { env: s.env });
      expect([0, 3]).toContain(sent.code);
      await s.sb.flush();
      return name;
    }

    async function cost(id: string): Promise<CostJson> {
      const r = await runCli(['campaigns', 'cost', id, '--rate-card', CARD, '--json'], { env: s.env });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as CostJson;
    }

    beforeAll(async () => {
      s = await sandboxWithReceiver(backend);
      await s.sb.control(`numbers/${s.sb.seed.phoneNumbers.coex.id}`, { pair_limit: false });
    }, 30_000);
    afterAll(async () => {
      await s?.stop();
      await s?.sb.close();
    });

    it('every assumption held: the actual cost equals the estimate', async () => {
      const id = await sendCampaign('all-delivered', [phone(10), phone(11), '12025550101']);
      const c = await cost(id);
      expect(c.actual.total).toMatchObject({
        billed: 3,
        not_delivered: 0,
        pricing_unknown: 0,
        cost: '0.104',
      });
      expect(c.estimate.total).toMatchObject({ billed: 3, cost: '0.104' });
      expect(c.difference).toBe('0.00');
      expect(c.differences).toEqual(['The actual cost equals the estimate: every assumption held.']);
    });

    it('a row that was never delivered is not billed, and the difference says so', async () => {
      const id = await sendCampaign('one-undeliverable', [phone(20), phone(21), UNDELIVERABLE_US]);
      const c = await cost(id);
      expect(c.actual.total).toMatchObject({ billed: 2, not_delivered: 1, cost: '0.10' });
      expect(c.estimate.total).toMatchObject({ billed: 3, cost: '0.104' });
      expect(c.difference).toBe('-0.004');
      expect(c.differences[0]).toMatch(/^1 message\(s\) were never delivered/);
    });

    it('rows whose pricing never arrived are listed as unknown, not counted as free', async () => {
      await s.sb.control(`numbers/${s.sb.seed.phoneNumbers.coex.id}`, { statuses: false });
      const id = await sendCampaign('no-statuses', [phone(30)]);
      await s.sb.control(`numbers/${s.sb.seed.phoneNumbers.coex.id}`, { statuses: true });
      const c = await cost(id);
      expect(c.actual.total).toMatchObject({ billed: 0, pricing_unknown: 1, cost: '0.00' });
      expect(c.pricing_unknown_rows.count).toBe(1);
      expect(c.differences.join(' ')).toMatch(/1 message\(s\) have no pricing yet: their cost is unknown/);
    });
  },
);
