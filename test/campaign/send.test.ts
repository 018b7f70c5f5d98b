import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditJournal } from '../../src/lib/audit/journal.js';
import { Store } from '../../src/lib/store/store.js';
import { runCli } from '../helpers/cli.js';
import { BACKENDS, freshLocation } from '../helpers/postgres.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { countBy, dbEnv, ledgerRows, orderSendArgs, writeOrdersCsv } from './helpers.js';

let sb: TestSandbox;
beforeAll(async () => {
  sb = await startTestSandbox();
});
afterAll(async () => {
  await sb?.close();
});

describe.each(BACKENDS)('wacx send (%s)', (backend) => {
  it('sends every row once, with callback data, and exits 0', async () => {
    await sb.control('reset', {});
    await sb.control(`numbers/${sb.seed.phoneNumbers.coex.id}`, { pair_limit: false });
    const csv = writeOrdersCsv(sb.home, 30);
    const db = freshLocation(backend, join(sb.home, 'ledger.db'));
    const r = await runCli([...orderSendArgs(csv), '--rate', '20'], { env: sb.env(dbEnv(db)) });
    expect(r.stderr + r.stdout).toContain('completed');
    expect(r.code).toBe(0);
    const msgs =
      await sb.control<{ id: string; to: string; callback_data: string; parameters: string[] }[]>('messages');
    expect(msgs).toHaveLength(30);
    expect(new Set(msgs.map((m) => m.to)).size).toBe(30);
    const rows = ledgerRows(db);
    expect(countBy(rows, (r) => r.state)).toEqual({ sent: 30 });
    const first = msgs.find((m) => m.callback_data.endsWith(':1'))!;
    expect(first.parameters).toEqual(['Name 0', 'A-0']);
    // the audit trail: the campaign's start, one record per accepted message (with its wamid), its end
    const store = Store.open(db);
    try {
      const journal = new AuditJournal(store.db);
      const records = [...journal.records()];
      expect(records[0]?.kind).toBe('campaign_start');
      expect(records.at(-1)?.kind).toBe('campaign_stop');
      const sends = records.filter((r) => r.kind === 'send');
      expect(sends).toHaveLength(30);
      expect(new Set(sends.map((r) => JSON.parse(r.content ?? '{}').wamid))).toEqual(
        new Set(msgs.map((m) => m.id)),
      );
      expect(journal.verify().problem).toBeNull();
    } finally {
      store.close();
    }
  });
});
