/** Recipient keys: rows named by phone, BSUID or both, the store's links, opt-outs and --exclude by BSUID. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { storeIdentityLinks } from '../../src/lib/campaign/identities.js';
import { Ledger } from '../../src/lib/campaign/ledger.js';
import { readExcludeFile } from '../../src/lib/campaign/opt-outs.js';
import {
  linkIndex,
  NO_LINKS,
  recipientKind,
  resolveRecipient,
  sendAddress,
} from '../../src/lib/campaign/recipient.js';
import { checkRecord, findRecipientColumns, ingest, type RowShape } from '../../src/lib/campaign/rows.js';
import { systemClock } from '../../src/lib/clock.js';
import { UsageError } from '../../src/lib/errors.js';
import { describeBackends, storeEnv } from '../helpers/backends.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { addCampaign } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'wacx-recipient-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const shape = (columns: string[], phoneIndex: number, bsuidIndex: number): RowShape => ({
  columns,
  phoneIndex,
  bsuidIndex,
  slots: [],
  defaultCountry: null,
});
const both = shape(['phone', 'user_id'], 0, 1);

// pure parsing and key resolution: no store
describe('a row names its recipient', () => {
  it('a cell shaped like a BSUID is one, before any phone normalisation', () => {
    // a digit-stripping normaliser would read this as +2035200694071263
    expect(checkRecord(['MY.2035200694071263', ''], both)).toEqual({
      ok: true,
      identity: { phone: null, bsuid: 'MY.2035200694071263' },
      values: [],
    });
    expect(checkRecord(['+49 151 12345678', 'US.ENT.998877'], both)).toMatchObject({
      identity: { phone: '4915112345678', bsuid: 'US.ENT.998877' },
    });
    expect(checkRecord(['', 'us.123'], both)).toMatchObject({ ok: false, reason: 'invalid_recipient' });
    expect(checkRecord(['US.1', 'US.2'], both)).toMatchObject({ ok: false, reason: 'invalid_recipient' });
    expect(checkRecord(['', ''], both)).toMatchObject({ ok: false, reason: 'invalid_phone' });
    expect(checkRecord(['US.1'], shape(['user_id'], -1, 0))).toMatchObject({ identity: { bsuid: 'US.1' } });
  });

  it('the recipient columns: a phone column, a user_id/bsuid column, or both; neither is an error naming line 1', () => {
    expect(findRecipientColumns(['name', 'phone', 'user_id'], null, 'a.csv')).toEqual({
      phoneIndex: 1,
      bsuidIndex: 2,
    });
    expect(findRecipientColumns(['BSUID', 'name'], null, 'a.csv')).toEqual({ phoneIndex: -1, bsuidIndex: 0 });
    expect(() => findRecipientColumns(['name'], null, 'a.csv')).toThrow(UsageError);
    expect(() => findRecipientColumns(['name'], null, 'a.csv')).toThrow(/phone or BSUID column/);
  });

  it('the key: the phone when one is known (from the row or linked in the store), else the BSUID verbatim', () => {
    const links = linkIndex({ pairs: [['4915100000006', 'US.7777']], bsuidOnlyPhones: ['4915100000006'] });
    expect(resolveRecipient({ phone: null, bsuid: 'US.1' }, links)).toEqual({
      key: 'US.1',
      aliases: ['US.1'],
      resolvedFrom: null,
      bsuidOnly: false,
    });
    expect(resolveRecipient({ phone: null, bsuid: 'US.7777' }, links)).toEqual({
      key: '4915100000006',
      aliases: ['4915100000006', 'US.7777'],
      resolvedFrom: 'US.7777',
      bsuidOnly: false,
    });
    expect(resolveRecipient({ phone: '4915100000006', bsuid: null }, links)).toMatchObject({
      key: '4915100000006',
      aliases: ['4915100000006', 'US.7777'],
      bsuidOnly: true,
    });
    expect([recipientKind('49151'), recipientKind('US.1'), recipientKind('US.ENT.1')]).toEqual([
      'phone',
      'bsuid',
      'parent_bsuid',
    ]);
    expect(sendAddress('4915100000006')).toEqual({ to: '+4915100000006' });
    expect(sendAddress('US.ENT.1')).toEqual({ recipient: 'US.ENT.1' });
  });
});

describeBackends('ingest keys rows by their identity', ({ open }) => {
  it('dedupes a phone and the BSUID linked to it, and skips a BSUID in the opt-out set (recipient keys, verbatim)', async () => {
    const csv = join(dir, 'ingest.csv');
    writeFileSync(csv, 'phone,user_id\n,US.7777\n+4915100000006,\n,US.9\n,US.9\n+4915100000001,US.STOP\n');
    const ledger = new Ledger(open().db);
    const cid = addCampaign(ledger, 0);
    const warned: number[] = [];
    await ingest({
      ledger,
      cid,
      path: csv,
      shape: both,
      from: { offset: 'phone,user_id\n'.length, lines: 1, nextRow: 1 },
      clock: systemClock,
      excluded: new Set(),
      optedOut: new Set(['US.STOP']),
      links: linkIndex({ pairs: [['4915100000006', 'US.7777']], bsuidOnlyPhones: ['4915100000006'] }),
      onBatch: (_rows, lines) => warned.push(...lines),
    });
    const rows = [...ledger.allRows(cid)].map((r) => [
      r.line,
      r.state,
      r.recipient,
      r.reason?.split(':')[0] ?? null,
    ]);
    expect(rows).toEqual([
      [2, 'pending', '4915100000006', null],
      [3, 'skipped', '4915100000006', 'duplicate'],
      [4, 'pending', 'US.9', null],
      [5, 'skipped', 'US.9', 'duplicate'],
      [6, 'skipped', '4915100000001', 'opted_out'],
    ]);
    expect([...ledger.allRows(cid)][0]!.resolvedFrom).toBe('US.7777');
    expect(warned).toEqual([3]);
  });
});

// reads files only: no store
describe('--exclude', () => {
  it('takes BSUIDs verbatim beside phone numbers, in a list or in phone and user_id columns', async () => {
    const list = join(dir, 'exclude.txt');
    writeFileSync(list, 'MY.2035200694071263\n+49 151 00000001\nnot a number\n');
    const read = await readExcludeFile(list, null);
    expect([...read.numbers].sort()).toEqual(['4915100000001', 'MY.2035200694071263']);
    expect(read.invalid).toEqual([{ line: 3, value: 'not a number' }]);
    const table = join(dir, 'exclude.csv');
    writeFileSync(table, 'name,phone,user_id\nA,+4915100000002,\nB,,US.5\nC,+4915100000003,US.6\n');
    expect([...(await readExcludeFile(table, null)).numbers].sort()).toEqual(
      ['4915100000002', '4915100000003', 'US.5', 'US.6'].sort(),
    );
  });
});

describeBackends('the store links', ({ backend, location, open }) => {
  it('are empty on a store without the people tables, and read the phone ↔ BSUID links of the people in the store', async () => {
    const bare = open(undefined, { migrations: [] });
    expect(storeIdentityLinks(bare.db)).toEqual(NO_LINKS);
    const db = location();
    const inbound = (wamid: string, from: string | null, userId: string, ts: number) =>
      JSON.stringify({
        object: 'whatsapp_business_account',
        entry: [
          {
            id: '1',
            changes: [
              {
                field: 'messages',
                value: {
                  messaging_product: 'whatsapp',
                  metadata: { display_phone_number: '1', phone_number_id: '2' },
                  contacts: [{ profile: { name: 'U' }, ...(from ? { wa_id: from } : {}), user_id: userId }],
                  messages: [
                    {
                      ...(from ? { from } : {}),
                      from_user_id: userId,
                      id: wamid,
                      timestamp: String(ts),
                      type: 'text',
                      text: { body: 'hi' },
                    },
                  ],
                },
              },
            ],
          },
        ],
      });
    const feed = join(dir, `links-${backend}.ndjson`);
    writeFileSync(
      feed,
      [
        inbound('w1', '4915100000006', 'US.7777', 10),
        inbound('w2', '4915100000008', 'US.8888', 10),
        inbound('w3', null, 'US.8888', 20), // the same person later, phone withheld
        inbound('w4', null, 'US.9999', 20),
      ].join('\n'),
    );
    const home = tempHome();
    try {
      expect(
        (await runCli(['webhooks', 'ingest', feed], { env: { ...home.env, ...storeEnv(db) } })).code,
      ).toBe(0);
    } finally {
      home.cleanup();
    }
    const links = storeIdentityLinks(open(db).db);
    expect(links.pairs.sort()).toEqual([
      ['4915100000006', 'US.7777'],
      ['4915100000008', 'US.8888'],
    ]);
    expect(links.bsuidOnlyPhones).toEqual(['4915100000008']);
  });
});
