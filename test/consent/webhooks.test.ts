import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AuditJournal } from '../../src/lib/audit/journal.js';
import type { StoreLocation } from '../../src/lib/store/location.js';
import { describeBackends, storeEnv } from '../helpers/backends.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { echo, envelope, inboundText, PN, statusPayload } from '../webhooks/fixtures.js';

const ALICE = '4915112345678';
const BOB = '16505551234';

function marketingPreference(waId: string, value: 'stop' | 'resume', ts: number) {
  return envelope('user_preferences', {
    messaging_product: 'whatsapp',
    metadata: { phone_number_id: PN },
    user_preferences: [
      {
        wa_id: waId,
        detail: 'User requested to stop marketing messages',
        category: 'marketing_messages',
        value,
        timestamp: ts,
      },
    ],
  });
}

describeBackends('consent from webhooks', ({ location, open }) => {
  let home: ReturnType<typeof tempHome>;
  let env: NodeJS.ProcessEnv;
  let db: StoreLocation;
  beforeAll(async () => {
    home = tempHome();
    db = location();
    env = { ...home.env, ...storeEnv(db) };
    const feed = join(home.home, 'feed.ndjson');
    writeFileSync(
      feed,
      [
        inboundText('wamid.in.1', ALICE, 'Stop', 1_765_000_000),
        marketingPreference(BOB, 'stop', 1_765_000_100),
        echo('wamid.echo.1', BOB, 'Thanks, Bob'),
        statusPayload('wamid.out.1', 'delivered'),
      ]
        .map((p) => JSON.stringify(p))
        .join('\n'),
    );
    expect((await runCli(['webhooks', 'ingest', feed], { env })).code).toBe(0);
    // a redelivery of the same STOP adds nothing
    expect((await runCli(['webhooks', 'ingest', feed], { env })).code).toBe(0);
  });
  afterAll(() => home.cleanup());

  const show = async (id: string) =>
    JSON.parse((await runCli(['consent', 'show', id, '--json'], { env })).stdout) as {
      state: { marketing: string; utility: string };
      history: { action: string; scope: string; source: string }[];
    };

  it('a STOP revokes everything; a marketing stop (user_preferences) revokes marketing only; each with its source', async () => {
    expect(await show(`+${ALICE}`)).toMatchObject({
      state: { marketing: 'revoked', utility: 'revoked' },
      history: [{ action: 'revoke', scope: 'all', source: 'webhook: keyword "STOP"' }],
    });
    expect(await show(`+${BOB}`)).toMatchObject({
      state: { marketing: 'revoked', utility: 'none' },
      history: [{ action: 'revoke', scope: 'marketing', source: 'webhook: user_preferences "stop"' }],
    });
  });

  it('inbound messages, echoes, statuses and consent changes are in the audit trail once each, and it verifies', () => {
    const store = open(db);
    const journal = new AuditJournal(store.db);
    const kinds = [...journal.records()].map((r) => r.kind).sort();
    expect(kinds).toEqual(['consent', 'consent', 'echo', 'inbound', 'status']);
    const inbound = [...journal.records()].find((r) => r.kind === 'inbound');
    expect(inbound?.subject).toBe(ALICE);
    expect(JSON.parse(inbound?.content ?? '{}')).toMatchObject({
      key: expect.stringContaining('wamid.in.1'),
    });
    expect(inbound?.content).not.toContain('Stop'); // the text is hashed, not copied
    expect(journal.verify()).toMatchObject({ count: 5, problem: null });
  });
});
