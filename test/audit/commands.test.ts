import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditJournal } from '../../src/lib/audit/journal.js';
import type { StoreLocation } from '../../src/lib/store/location.js';
import { Store } from '../../src/lib/store/store.js';
import { storeEnv } from '../helpers/backends.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { BACKENDS, freshLocation } from '../helpers/postgres.js';

const DAY = 86_400_000;
const NOV_1 = Date.UTC(2026, 10, 1);

let home: ReturnType<typeof tempHome>;
let env: NodeJS.ProcessEnv;
let db: StoreLocation;

function withStore<T>(fn: (store: Store) => T): T {
  const store = Store.open(db);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

describe.each(BACKENDS)('on %s', (backend) => {
  beforeAll(() => {
    home = tempHome();
    db = freshLocation(backend, join(home.home, 'wacx.db'));
    env = { ...home.env, ...storeEnv(db) };
    // 30 records, one a day through November; contents with commas, quotes and newlines (CSV must keep them)
    withStore((store) =>
      new AuditJournal(store.db).append(
        Array.from({ length: 30 }, (_, i) => ({
          at: NOV_1 + i * DAY + 3_600_000,
          kind: i % 2 ? ('inbound' as const) : ('send' as const),
          subject: `4915100000${String(i).padStart(2, '0')}`,
          content: { text: `hello, "friend" ${i}\nline two`, wamid: `wamid.${i}` },
        })),
      ),
    );
  });
  afterAll(() => home.cleanup());

  describe('wacx audit', () => {
    let anchor = '';

    it('anchor prints SEQ:HASH; verify reports the same head and the count (exit 0)', async () => {
      const a = await runCli(['audit', 'anchor'], { env });
      expect(a.code).toBe(0);
      anchor = a.stdout.trim();
      expect(anchor).toMatch(/^30:[0-9a-f]{64}$/);
      const v = await runCli(['audit', 'verify', '--anchor', anchor], { env });
      expect(v.code).toBe(0);
      expect(v.stdout).toContain(`The audit trail verifies: 30 record(s), head ${anchor}.`);
      const j = JSON.parse((await runCli(['audit', 'verify', '--json'], { env })).stdout) as {
        ok: boolean;
        head: { seq: number; hash: string };
      };
      expect(j).toMatchObject({ ok: true, head: { seq: 30, hash: anchor.slice(3) } });
    });

    it('export of a range in JSON lines and CSV, each verified standalone; one changed byte is caught', async () => {
      for (const format of ['jsonl', 'csv']) {
        const file = join(home.home, `nov-10-19.${format}`);
        const e = await runCli(
          [
            'audit',
            'export',
            '--since',
            '2026-11-10',
            '--until',
            '2026-11-19',
            '--format',
            format,
            '-o',
            file,
            '--json',
          ],
          { env },
        );
        expect(e.code).toBe(0);
        const manifest = JSON.parse(e.stdout) as { count: number; first_seq: number; last_seq: number };
        expect(manifest).toMatchObject({ count: 10, first_seq: 10, last_seq: 19 });
        expect(JSON.parse(readFileSync(`${file}.manifest.json`, 'utf8'))).toMatchObject(manifest);

        const ok = await runCli(['audit', 'verify', '--file', file], { env: home.env });
        expect(ok.code).toBe(0);
        expect(ok.stdout).toContain('10 record(s), 10–19, intact');

        const bytes = readFileSync(file);
        const at = bytes.indexOf('friend');
        bytes[at] = 'F'.charCodeAt(0);
        writeFileSync(file, bytes);
        const bad = await runCli(['audit', 'verify', '--file', file], { env: home.env });
        expect(bad.code).toBe(1);
        expect(bad.stderr).toContain('its SHA-256 differs from the manifest');
        expect(bad.stderr).toMatch(/record 1\d's content no longer matches its hash/);
      }
    });

    it('exports are written once: an existing file is refused (exit 2) unless --force', async () => {
      const file = join(home.home, 'once.jsonl');
      expect((await runCli(['audit', 'export', '-o', file], { env })).code).toBe(0);
      const again = await runCli(['audit', 'export', '-o', file], { env });
      expect(again.code).toBe(2);
      expect(again.stderr).toContain('exists; exports are written once');
      expect((await runCli(['audit', 'export', '-o', file, '--force'], { env })).code).toBe(0);
      const badFormat = await runCli(['audit', 'export', '-o', join(home.home, 'x'), '--format', 'xml'], {
        env,
      });
      expect(badFormat.code).toBe(2);
      expect(badFormat.stderr).toContain('--format: expected jsonl or csv, got "xml".');
    });

    it('a tampered store: verify names the record (exit 1); a truncated tail fails only against the anchor', async () => {
      withStore((s) =>
        s.db.prepare("UPDATE audit_records SET subject = 'someone else' WHERE seq = 12").run(),
      );
      const v = await runCli(['audit', 'verify'], { env });
      expect(v.code).toBe(1);
      expect(v.stderr).toContain("record 12's time, kind or subject was changed (record 12)");
      withStore((s) => s.db.prepare('DELETE FROM audit_records WHERE seq >= 12').run());
      expect((await runCli(['audit', 'verify'], { env })).code).toBe(0);
      const anchored = await runCli(['audit', 'verify', '--anchor', anchor], { env });
      expect(anchored.code).toBe(1);
      expect(anchored.stderr).toContain('before the anchored record 30: records were removed from its end');
      const badAnchor = await runCli(['audit', 'verify', '--anchor', '30:abc'], { env });
      expect(badAnchor.code).toBe(2);
    });
  });
});
