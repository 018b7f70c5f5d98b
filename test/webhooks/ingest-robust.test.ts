import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/lib/store/store.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { APP_SECRET, echo, sign, statusPayload } from './fixtures.js';

/** A signed-or-bare payload whose change value is nested `depth` levels deep. */
function deepPayload(depth: number): string {
  let v = '1';
  for (let i = 0; i < depth; i++) v = `{"a":${v}}`;
  return `{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":${v}}]}]}`;
}

interface IngestJson {
  lines: number;
  stored: number;
  bad: number;
  rejected: number;
  bad_lines: { line: number; message: string }[];
}

describe('wacx webhooks ingest: a bad line is skipped and named, never the end of the import', () => {
  let home: ReturnType<typeof tempHome>;
  let env: NodeJS.ProcessEnv;
  let db: string;
  beforeEach(() => {
    home = tempHome();
    db = join(home.home, 'wacx.db');
    env = { ...home.env, WACX_DB: db, WACX_APP_SECRET: APP_SECRET };
  });
  afterEach(() => home.cleanup());
  const wamids = () => {
    const s = Store.open(db);
    try {
      return (
        s.db.prepare('SELECT wamid FROM message_statuses ORDER BY wamid').all() as { wamid: string }[]
      ).map((r) => r.wamid);
    } finally {
      s.close();
    }
  };

  it('a line nested 5,000 (and 100,000) levels deep: the good lines are imported, the process does not die', async () => {
    const file = join(home.home, 'deep.ndjson');
    const deepSigned = deepPayload(5000);
    writeFileSync(
      file,
      [
        JSON.stringify(statusPayload('wamid.1', 'sent')),
        deepPayload(5000),
        JSON.stringify({ body: deepSigned, signature: sign(deepSigned) }),
        deepPayload(100_000),
        JSON.stringify(statusPayload('wamid.2', 'sent')),
      ].join('\n'),
    );
    const r = await runCli(['webhooks', 'ingest', file, '--json'], { env });
    expect(r.stderr).not.toMatch(/Maximum call stack/i);
    const out = JSON.parse(r.stdout) as IngestJson;
    expect(out.lines).toBe(5);
    expect(wamids()).toEqual(['wamid.1', 'wamid.2']);
    // Deep lines are either stored (raw, unparsed) or skipped as bad lines named by number; never lost silently.
    expect(out.stored + out.bad + out.rejected).toBeGreaterThanOrEqual(4);
    for (const b of out.bad_lines) expect([2, 3, 4]).toContain(b.line);
    expect([0, 3]).toContain(r.code);
  });

  it('lines that are not JSON, not objects or carry a non-JSON body are skipped with their numbers; the summary counts them (exit 3)', async () => {
    const file = join(home.home, 'bad.ndjson');
    writeFileSync(
      file,
      [
        JSON.stringify(statusPayload('wamid.1', 'sent')),
        '{"object": "whatsapp_business_account", "entry": [',
        '[1,2]',
        JSON.stringify({ body: 'oops', signature: sign('oops') }),
        JSON.stringify(echo('wamid.e', '1', 'x')),
        JSON.stringify(statusPayload('wamid.2', 'sent')),
      ].join('\n'),
    );
    const r = await runCli(['webhooks', 'ingest', file], { env });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`${file}:2: skipped: not valid JSON`);
    expect(r.stderr).toContain(`${file}:3: skipped: expected a JSON object`);
    expect(r.stderr).toContain(`${file}:4: skipped: body is not JSON`);
    expect(r.stderr).toMatch(/6 lines: 3 stored \(3 events\), 0 duplicate, 0 rejected, 3 skipped \(bad\)/);
    expect(wamids()).toEqual(['wamid.1', 'wamid.2']);

    const json = await runCli(['webhooks', 'ingest', file, '--json'], { env });
    const out = JSON.parse(json.stdout) as IngestJson;
    expect(out.bad).toBe(3);
    expect(out.bad_lines.map((b) => b.line)).toEqual([2, 3, 4]);
  });

  it('--strict refuses the whole file (exit 2, naming the line) and stores nothing, also for a body-level problem', async () => {
    const file = join(home.home, 'strict.ndjson');
    writeFileSync(file, [JSON.stringify(statusPayload('wamid.1', 'sent')), '[1,2]'].join('\n'));
    const r = await runCli(['webhooks', 'ingest', file, '--strict'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:2:`);
    writeFileSync(
      file,
      [
        JSON.stringify(statusPayload('wamid.1', 'sent')),
        JSON.stringify({ body: 'oops', signature: sign('oops') }),
      ].join('\n'),
    );
    const r2 = await runCli(['webhooks', 'ingest', file, '--strict'], { env });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(`${file}:2: body is not JSON`);
    expect(wamids()).toEqual([]);
  });

  it('only bad lines: nothing imported, exit 1', async () => {
    const file = join(home.home, 'allbad.ndjson');
    writeFileSync(file, 'nope\n[1]\n');
    const r = await runCli(['webhooks', 'ingest', file], { env });
    expect(r.code).toBe(1);
  });
});
