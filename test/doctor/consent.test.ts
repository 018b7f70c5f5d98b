/**
 * doctor warns when marketing campaigns reached recipients without a recorded opt-in (issue #20): a real send of a
 * MARKETING template on the sandbox, with one of three recipients opted in.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsentRegister } from '../../src/lib/consent/register.js';
import { Store } from '../../src/lib/store/store.js';
import { SEED } from '../../src/sandbox/seed.js';
import { phone, saleSendArgs } from '../campaign/helpers.js';
import { runCli } from '../helpers/cli.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';

interface Check {
  id: string;
  status: string;
  detail: string;
  fix: string | null;
}

describe('doctor: marketing sends without a recorded opt-in', () => {
  let sb: TestSandbox;
  let db: string;
  const env = () => sb.env({ WACX_DB: db });
  const consentCheck = async () => {
    const r = await runCli(['doctor', '--json'], { env: env() });
    return (JSON.parse(r.stdout) as Check[]).find((c) => c.id === 'sync.consent')!;
  };
  const sale = saleSendArgs;

  beforeAll(async () => {
    sb = await startTestSandbox();
    await sb.control(`numbers/${SEED.phoneNumbers.coex.id}`, { mps: 1000, pair_limit: false });
    db = join(sb.home, 'consent-doctor.db');
    const store = Store.open(db);
    try {
      new ConsentRegister(store.db, () => Date.now()).record([
        {
          subject: phone(1),
          scope: 'marketing',
          action: 'grant',
          at: Date.now() - 1000,
          source: 'web form',
          proof: null,
        },
      ]);
    } finally {
      store.close();
    }
  });
  afterAll(() => sb.close());

  it('passes while every marketing message went to an opted-in recipient', async () => {
    const csv = join(sb.home, 'optedin.csv');
    writeFileSync(csv, `phone,name,code,slug\n+${phone(1)},A,C1,s\n+${phone(2)},B,C2,s\n`);
    const r = await runCli(sale(csv, '--require-consent', '--campaign', 'sale-ok'), { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const c = await consentCheck();
    expect(c.status).toBe('pass');
    expect(c.detail).toBe('every marketing message in the ledger went to a recipient with a recorded opt-in');
  });

  it('warns, naming the campaign and the count, after a marketing send without --require-consent', async () => {
    const csv = join(sb.home, 'all.csv');
    writeFileSync(
      csv,
      `phone,name,code,slug\n+${phone(1)},A,C1,s\n+${phone(2)},B,C2,s\n+${phone(3)},C,C3,s\n`,
    );
    const r = await runCli(sale(csv, '--campaign', 'sale-all'), { env: env() });
    expect(r.code, r.stderr).toBe(0);
    const c = await consentCheck();
    expect(c.status).toBe('warn');
    expect(c.detail).toBe('2 marketing messages went to recipients without a recorded opt-in: sale-all (2)');
    expect(c.fix).toContain('--require-consent');
  });
});
