/**
 * X-Business-Use-Case-Usage (meta-cloud-api.md §4.3): push stops sending management writes once the WABA's hourly
 * budget is used up (rather than collecting 80007 answers) and says when to run again; --verbose shows the header.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';

const template = (name: string) => `name: ${name}
language: en_US
category: UTILITY
components:
  - type: BODY
    text: Hi {{1}}, your delivery is planned for today.
    example:
      body_text: [["Pablo"]]
`;

describe('templates push and the management usage header', () => {
  let sb: TestSandbox;
  let dir: string;
  beforeAll(async () => {
    sb = await startTestSandbox();
    dir = mkdtempSync(join(tmpdir(), 'wacx-usage-'));
    for (const n of ['delivery_a', 'delivery_b', 'delivery_c'])
      writeFileSync(join(dir, `${n}.yaml`), template(n));
  });
  afterAll(async () => {
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('at 100 % the remaining writes are not sent, each saying why and when to run again (exit 3)', async () => {
    // plan reads the WABA twice (templates, Direct Send templates); the first create then uses the last call
    await sb.control('limits', { management_per_hour: 3 });
    const r = await runCli(['templates', 'push', dir, '--json', '--verbose'], { env: sb.env() });
    expect(r.code).toBe(3);
    const results = JSON.parse(r.stdout).results as { name: string; outcome: string; error: string | null }[];
    expect(results.map((x) => `${x.name} ${x.outcome}`)).toEqual([
      'delivery_a applied',
      'delivery_b failed',
      'delivery_c failed',
    ]);
    expect(results[1]!.error).toMatch(
      /^not sent: the WABA's management API budget is used up \(whatsapp_business_management 100% .*\); run the push again within the hour$/,
    );
    expect(r.stderr).toContain('Management API usage of the WABA is high: whatsapp_business_management 100%');
    expect(r.stderr).toMatch(/< x-business-use-case-usage \d+: whatsapp_business_management 67% \(calls 67%/);
    // no write was refused by the API
    expect(results.filter((x) => x.error?.includes('code 80007'))).toEqual([]);
    const world = await sb.control<{ templates: { name: string }[] }>('world');
    expect(world.templates.map((t) => t.name)).not.toContain('delivery_b');
  });
});
