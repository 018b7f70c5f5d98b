import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditJournal } from '../../src/lib/audit/journal.js';
import { CONTENT } from '../../src/lib/retention/prune.js';
import type { StoreLocation } from '../../src/lib/store/location.js';
import { Store } from '../../src/lib/store/store.js';
import { storeEnv } from '../helpers/backends.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { BACKENDS, freshLocation } from '../helpers/postgres.js';
import { echo, historyChunk, inboundText } from '../webhooks/fixtures.js';

const DAY = 86_400_000;
const NOW = Date.now();
const OLD = Math.floor((NOW - 400 * DAY) / 1000);
const RECENT = Math.floor((NOW - 10 * DAY) / 1000);

let home: ReturnType<typeof tempHome>;
let env: NodeJS.ProcessEnv;
let db: StoreLocation;

function withStore<T>(fn: (s: Store) => T): T {
  const s = Store.open(db);
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

describe.each(BACKENDS)('on %s', (backend) => {
  beforeAll(async () => {
    home = tempHome();
    db = freshLocation(backend, join(home.home, 'wacx.db'));
    env = { ...home.env, ...storeEnv(db) };
    const feed = join(home.home, 'feed.ndjson');
    const old = echo('wamid.echo.old', '4915112345678', 'an old App message');
    (old.entry as { changes: { value: { message_echoes: { timestamp: string }[] } }[] }[])[0]!.changes[0]!
      .value.message_echoes[0]!.timestamp = String(OLD);
    const history = historyChunk(1, 1, 100, [
      { id: '4915112345678', messages: [{ id: 'wamid.h.1', from: '4915112345678', body: 'history text' }] },
    ]);
    writeFileSync(
      feed,
      [
        inboundText('wamid.in.old', '4915112345678', 'old secret', OLD),
        inboundText('wamid.in.new', '4915112345678', 'recent text', RECENT),
        old,
        history,
      ]
        .map((p) => JSON.stringify(p))
        .join('\n'),
    );
    expect((await runCli(['webhooks', 'ingest', feed], { env })).code).toBe(0);
    withStore((s) => {
      // the import happened now: date the raw payloads and events of the old messages, and the history, as old
      s.db
        .prepare(
          `UPDATE webhook_payloads SET received_at = ? WHERE body LIKE '%old%' OR body LIKE '%history text%'`,
        )
        .run(OLD * 1000);
      s.db
        .prepare(
          `UPDATE webhook_events SET received_at = ? WHERE data LIKE '%old%' OR data LIKE '%history text%'`,
        )
        .run(OLD * 1000);
      s.db.prepare('UPDATE history_messages SET timestamp = ?').run(OLD * 1000);
      new AuditJournal(s.db).append([
        { at: OLD * 1000, kind: 'send', subject: '4915112345678', content: { wamid: 'wamid.old' } },
        { at: RECENT * 1000, kind: 'send', subject: '4915112345678', content: { wamid: 'wamid.new' } },
      ]);
    });
  });
  afterAll(() => home.cleanup());

  const contents = () =>
    withStore((s) =>
      Object.fromEntries(
        CONTENT.map((c) => [
          c.table,
          (s.db.prepare(`SELECT count(*) AS n FROM ${c.table} WHERE ${c.holds}`).get() as { n: number }).n,
        ]),
      ),
    );

  describe('wacx db prune', () => {
    it('--dry-run counts per table and removes nothing; without --yes off a terminal it refuses (exit 2)', async () => {
      const before = contents();
      const dry = await runCli(['db', 'prune', '--older-than', '180d', '--dry-run', '--json'], { env });
      expect(dry.code).toBe(0);
      const shown = JSON.parse(dry.stdout) as { tables: Record<string, number> };
      expect(shown.tables).toMatchObject({
        inbound_messages: 1,
        message_echoes: 1,
        history_messages: 1,
        audit_records: 1,
      });
      expect(shown.tables.webhook_payloads).toBeGreaterThanOrEqual(3);
      const refused = await runCli(['db', 'prune', '--older-than', '180d'], { env });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('without confirmation: pass --yes');
      expect(contents()).toEqual(before);
      const bad = await runCli(['db', 'prune', '--older-than', '5m', '--yes'], { env });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('--older-than');
    });

    it('prunes every content older than the window, keeps the recent ones and the metadata; the audit chain still verifies', async () => {
      const r = await runCli(['db', 'prune', '--older-than', '180d', '--yes'], { env });
      expect(r.code).toBe(0);
      withStore((s) => {
        const texts = (sql: string) => (s.db.prepare(sql).all() as { t: string | null }[]).map((x) => x.t);
        expect(texts('SELECT text AS t FROM inbound_messages ORDER BY timestamp')).toEqual([
          null,
          'recent text',
        ]);
        expect(texts('SELECT text AS t FROM message_echoes')).toEqual([null]);
        expect(texts('SELECT text AS t FROM history_messages')).toEqual([null]);
        expect(texts('SELECT wamid AS t FROM inbound_messages ORDER BY timestamp')).toEqual([
          'wamid.in.old',
          'wamid.in.new',
        ]);
        const raw = (s.db.prepare('SELECT body FROM webhook_payloads').all() as { body: string }[])
          .map((x) => x.body)
          .join('\n');
        expect(raw).not.toContain('old secret');
        expect(raw).not.toContain('history text');
        expect(raw).toContain('recent text');
        const everything = (s.db.prepare('SELECT data FROM webhook_events').all() as { data: string }[])
          .map((x) => x.data)
          .join('\n');
        expect(everything).not.toContain('old secret');
      });
      const v = await runCli(['audit', 'verify', '--json'], { env });
      expect(v.code).toBe(0);
      expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, pruned: 1, pruned_ranges: [[4, 4]] }); // 1–3: the ingested messages and the echo
      // the old name keeps working for scripts written against it
      const again = await runCli(['store', 'prune', '--older-than', '180d', '--dry-run', '--json'], { env });
      expect(again.code).toBe(0);
      expect(
        Object.values((JSON.parse(again.stdout) as { tables: Record<string, number> }).tables).every(
          (n) => n === 0,
        ),
      ).toBe(true);
    });

    it('is listed under `wacx db`; its old name `wacx store prune` is in no help', async () => {
      const db = await runCli(['db', '--help'], { env });
      expect(db.stdout).toMatch(/^\s+prune\b/m);
      const top = await runCli(['--help'], { env });
      expect(top.stdout).toMatch(/^\s+db\b/m);
      expect(top.stdout).not.toMatch(/^\s+store\b/m);
    });
  });
});
