import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { AuditJournal } from '../../src/lib/audit/journal.js';
import { ConsentRegister, stateAfter } from '../../src/lib/consent/register.js';
import type { StoreLocation } from '../../src/lib/store/location.js';
import { Store } from '../../src/lib/store/store.js';
import { describeBackends, storeEnv } from '../helpers/backends.js';
import { runCli, tempHome } from '../helpers/cli.js';

const BSUID = 'DE.13491208655302741918';

let home: ReturnType<typeof tempHome>;
let env: NodeJS.ProcessEnv;
let db: StoreLocation;
afterEach(() => home.cleanup());

function csv(name: string, lines: string[]): string {
  const path = join(home.home, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

const GOOD_AND_BAD = [
  'phone,opted_in_at,source,proof,scope',
  '+4915112345678,2026-03-01T09:30:00Z,web form,https://crm.example/f/1,all',
  'not a phone,2026-03-01,web form,,all',
  `${BSUID},2026-04-02,paper,scan-17.pdf,marketing`,
  '+4915112345679,yesterday,web form,,all',
  '+4915112345680,2026-03-01,,,all',
  '+4915112345681,2026-03-01,call,,everything',
];

describeBackends('wacx consent', (b) => {
  beforeEach(() => {
    home = tempHome();
    db = b.location();
    env = { ...home.env, ...storeEnv(db) };
  });
  it('import names each bad row by line and column; --strict imports nothing (exit 2)', async () => {
    const file = csv('optins.csv', GOOD_AND_BAD);
    const strict = await runCli(['consent', 'import', file, '--strict'], { env });
    expect(strict.code).toBe(2);
    expect(strict.stderr).toContain(`${file}:3:1: "not a phone" has no country code`);
    expect(strict.stderr).toContain(`${file}:5:2: "yesterday" is not a date or time`);
    expect(strict.stderr).toContain(`${file}:6:3: the source is empty`);
    expect(strict.stderr).toContain(`${file}:7:5: scope "everything" is not marketing, utility or all`);
    expect(strict.stderr).toContain('4 bad row(s): nothing was imported (--strict).');
    const listed = await runCli(['consent', 'list', '--json'], { env });
    expect(JSON.parse(listed.stdout)).toEqual([]);

    const lenient = await runCli(['consent', 'import', file, '--json'], { env });
    expect(lenient.code).toBe(0);
    expect(JSON.parse(lenient.stdout)).toMatchObject({ imported: 2, bad: 4 });
  });

  it('a header without the needed columns is exit 2 naming the file and line', async () => {
    const r = await runCli(['consent', 'import', csv('x.csv', ['name,email', 'a,b'])], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/x\.csv:1: the header has no phone \(or bsuid\), opted_in_at, source column\./);
  });

  it('grant, revoke and show: the whole history of one person, as an access request needs it', async () => {
    expect(
      (
        await runCli(
          [
            'consent',
            'grant',
            '+49 151 12345678',
            '--source',
            'web form',
            '--proof',
            'f/1',
            '--at',
            '2026-03-01T09:30:00Z',
          ],
          { env },
        )
      ).code,
    ).toBe(0);
    expect(
      (
        await runCli(
          [
            'consent',
            'revoke',
            '4915112345678',
            '--scope',
            'marketing',
            '--source',
            'e-mail',
            '--at',
            '2026-05-01',
          ],
          { env },
        )
      ).code,
    ).toBe(0);
    const show = await runCli(['consent', 'show', '+4915112345678', '--json'], { env });
    const shown = JSON.parse(show.stdout) as {
      subject: string;
      state: unknown;
      history: Record<string, unknown>[];
    };
    expect(shown.subject).toBe('4915112345678');
    expect(shown.state).toEqual({ marketing: 'revoked', utility: 'granted' });
    expect(shown.history.map(({ recorded_at: _, ...rest }) => rest)).toEqual([
      { action: 'grant', scope: 'all', at: '2026-03-01T09:30:00.000Z', source: 'web form', proof: 'f/1' },
      { action: 'revoke', scope: 'marketing', at: '2026-05-01T00:00:00.000Z', source: 'e-mail', proof: null },
    ]);
    const bad = await runCli(['consent', 'grant', '+4915112345678', '--source', 'x', '--scope', 'promo'], {
      env,
    });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--scope: expected marketing, utility or all, got "promo".');
    const future = await runCli(
      ['consent', 'grant', '+4915112345678', '--source', 'x', '--at', '2999-01-01'],
      { env },
    );
    expect(future.code).toBe(2);
    expect(future.stderr).toContain('--at: "2999-01-01" is in the future.');
  });

  it('every change is in the audit trail, and the trail verifies', async () => {
    await runCli(['consent', 'import', csv('ok.csv', GOOD_AND_BAD.slice(0, 2))], { env });
    await runCli(['consent', 'revoke', BSUID, '--source', 'STOP'], { env });
    const store = Store.open(db);
    try {
      const records = [...new AuditJournal(store.db).records()];
      expect(records.map((r) => [r.kind, r.subject])).toEqual([
        ['consent', '4915112345678'],
        ['consent', BSUID],
      ]);
      expect(JSON.parse(records[1]?.content ?? '{}')).toMatchObject({
        action: 'revoke',
        scope: 'all',
        source: 'STOP',
      });
      expect(new AuditJournal(store.db).verify().problem).toBeNull();
    } finally {
      store.close();
    }
  });

  it('the state for a scope: the latest change of that scope or of all wins; authentication counts as utility', () => {
    const store = b.open();
    const r = new ConsentRegister(store.db, () => 10);
    r.record([
      { subject: 'a', scope: 'marketing', action: 'grant', at: 1, source: 's', proof: null },
      { subject: 'a', scope: 'all', action: 'revoke', at: 2, source: 's', proof: null },
      { subject: 'a', scope: 'utility', action: 'grant', at: 3, source: 's', proof: null },
    ]);
    expect(r.allows('a', 'MARKETING')).toBe('revoked');
    expect(r.allows('a', 'AUTHENTICATION')).toBe('granted');
    expect(r.allows('b', 'UTILITY')).toBe('none');
    expect(stateAfter(r.history('a'), 'utility')).toBe('granted');
    expect([...r.list()].map((s) => [s.subject, s.marketing, s.utility])).toEqual([
      ['a', 'revoked', 'granted'],
    ]);
  });
});
