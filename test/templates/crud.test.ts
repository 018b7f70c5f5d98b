import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Prompter } from '../../src/lib/io/prompter.js';
import { runCli } from '../helpers/cli.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';

let sb: TestSandbox;
let dir: string;
beforeAll(async () => {
  sb = await startTestSandbox();
  dir = mkdtempSync(join(tmpdir(), 'wacx-crud-'));
});
afterAll(async () => {
  await sb.close();
  rmSync(dir, { recursive: true, force: true });
});

const world = async () =>
  (await sb.control<{ templates: { id: string; name: string; language: string; status: string }[] }>('world'))
    .templates;

/** Answers prompts from a script: the first entry whose key is in the question's message. */
function scriptedPrompter(answers: [string, string | boolean][]): Prompter & { asked: string[] } {
  const asked: string[] = [];
  const answer = (message: string) => {
    asked.push(message);
    const hit = answers.find(([k]) => message.includes(k));
    if (!hit) throw new Error(`unexpected prompt: ${message}`);
    return hit[1];
  };
  return {
    asked,
    input: async (q) => String(answer(q.message)),
    password: async (q) => String(answer(q.message)),
    confirm: async (q) => Boolean(answer(q.message)),
    select: async (q) => answer(q.message) as never,
  };
}

describe('templates list', () => {
  it('prints a table (TSV when piped) and filters by status', async () => {
    const r = await runCli(['templates', 'list'], { env: sb.env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('hello_world\ten_US\tUTILITY\tAPPROVED\t');
    expect(r.stdout.trim().split('\n')).toHaveLength(sb.seed.templates.length);
    const paused = await runCli(['templates', 'list', '--status', 'paused'], { env: sb.env() });
    expect(
      paused.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t')[0]),
    ).toEqual(['seasonal_promo']);
  });

  it('--json gives every key, --limit shows the first page and says there are more', async () => {
    const r = await runCli(['templates', 'list', '--json', '--language', 'pt_BR'], { env: sb.env() });
    const list = JSON.parse(r.stdout);
    expect(list).toHaveLength(1);
    expect(Object.keys(list[0]).sort()).toEqual(
      [
        'category',
        'components',
        'id',
        'language',
        'message_send_ttl_seconds',
        'name',
        'parameter_format',
        'quality_score',
        'rejected_reason',
        'status',
      ].sort(),
    );
    const limited = await runCli(['templates', 'list', '--limit', '3'], { env: sb.env() });
    expect(limited.stdout.trim().split('\n')).toHaveLength(3);
    expect(limited.stderr).toContain('pass --all');
  });

  it('--all follows every page', async () => {
    await sb.control('limits', { templates_per_hour: 1000, template_count: 1000 });
    const graphUrl = `${sb.url}/v25.0/${sb.seed.waba.id}/message_templates`;
    for (let i = 0; i < 105; i++) {
      const res = await fetch(graphUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${sb.seed.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: `bulk_${String(i).padStart(3, '0')}`,
          language: 'en_US',
          category: 'UTILITY',
          components: [{ type: 'BODY', text: `Notice number ${i} for your account is ready.` }],
        }),
      });
      expect(res.status).toBe(200);
    }
    const all = JSON.parse(
      (await runCli(['templates', 'list', '--all', '--json'], { env: sb.env() })).stdout,
    );
    expect(all).toHaveLength(sb.seed.templates.length + 105);
    const first = JSON.parse((await runCli(['templates', 'list', '--json'], { env: sb.env() })).stdout);
    expect(first).toHaveLength(100);
    // clean up for the other tests
    for (let i = 0; i < 105; i++) {
      await fetch(`${graphUrl}?name=bulk_${String(i).padStart(3, '0')}`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${sb.seed.token}` },
      });
    }
    expect((await world()).length).toBe(sb.seed.templates.length);
  });
});

describe('templates get', () => {
  it('asks for --language when the name exists in several languages', async () => {
    const r = await runCli(['templates', 'get', 'order_update'], { env: sb.env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('order_update exists in 2 languages (en_US, pt_BR); pass --language.');
  });

  it('prints the template as a file on stdout, its status on stderr', async () => {
    const r = await runCli(['templates', 'get', 'order_update', '--language', 'pt_BR'], { env: sb.env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`name: order_update
language: pt_BR
category: UTILITY
parameter_format: POSITIONAL
components:
  - type: BODY
    text: Olá {{1}}, seu pedido {{2}} foi enviado.
    example:
      body_text: [[Pablo, A-1001]]
`);
    expect(r.stderr).toContain('order_update (pt_BR) · APPROVED · UTILITY · id 6000000000000003');
  });

  it('by id, as JSON', async () => {
    const r = await runCli(['templates', 'get', '6000000000000004', '--json'], { env: sb.env() });
    expect(JSON.parse(r.stdout)).toMatchObject({
      id: '6000000000000004',
      name: 'appointment_reminder',
      parameter_format: 'NAMED',
    });
  });
});

describe('templates create / update / delete', () => {
  it('create --file sends the template and prints its id', async () => {
    const file = join(dir, 'shipping_notice.en_US.yaml');
    writeFileSync(
      file,
      'name: shipping_notice\nlanguage: en_US\ncategory: UTILITY\ncomponents:\n  - type: BODY\n    text: Your parcel left our warehouse this morning.\n',
    );
    const r = await runCli(['templates', 'create', '--file', file], { env: sb.env() });
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    expect((await world()).find((t) => t.id === id)).toMatchObject({
      name: 'shipping_notice',
      status: 'PENDING',
    });
  });

  it('create asks the questions on a terminal', async () => {
    const prompter = scriptedPrompter([
      ['Template name', 'pickup_ready'],
      ['Category', 'UTILITY'],
      ['Language', 'en_GB'],
      ['Header', ''],
      ['Body', 'Hi {{1}}, your order is ready for pickup at {{2}} until closing time.'],
      ['Footer', ''],
      ['body {{1}}', 'Pablo'],
      ['body {{2}}', 'our Main Street store'],
      ['Create this template?', true],
    ]);
    const r = await runCli(['templates', 'create', '--json'], { env: sb.env(), tty: true, prompter });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      name: 'pickup_ready',
      language: 'en_GB',
      status: 'PENDING',
    });
    expect(prompter.asked.some((q) => q.includes('Example for body {{2}}'))).toBe(true);
  });

  it('update edits only what changed, then refuses a second edit of an APPROVED template within 24 h', async () => {
    const file = join(dir, 'order_update.en_US.yaml');
    writeFileSync(
      file,
      'name: order_update\nlanguage: en_US\ncategory: UTILITY\ncomponents:\n  - type: BODY\n    text: Hi {{1}}, your order {{2}} has shipped today.\n    example:\n      body_text: [["Pablo", "A-1001"]]\n',
    );
    const r = await runCli(['templates', 'update', 'order_update', '--file', file, '--json'], {
      env: sb.env(),
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      id: '6000000000000002',
      changes: ['components'],
      updated: true,
    });
    await sb.flush();
    writeFileSync(file, readFile(file).replace('today', 'this morning'));
    const again = await runCli(['templates', 'update', 'order_update', '--file', file], { env: sb.env() });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      'Cannot edit order_update (en_US): APPROVED templates can be edited once per 24 h',
    );
    // a file equal to the WABA's template: nothing to send
    const pt = join(dir, 'order_update.pt_BR.yaml');
    writeFileSync(pt, (await runCli(['templates', 'get', '6000000000000003'], { env: sb.env() })).stdout);
    const same = await runCli(['templates', 'update', '6000000000000003', '--file', pt], { env: sb.env() });
    expect(same.code).toBe(0);
    expect(same.stderr).toContain('already matches');
  });

  it('update refuses a file for another template', async () => {
    const file = join(dir, 'hello.yaml');
    writeFileSync(
      file,
      'name: hello_world\nlanguage: en_US\ncategory: UTILITY\ncomponents:\n  - type: BODY\n    text: Welcome to the shop, we are glad you are here.\n',
    );
    const r = await runCli(['templates', 'update', '6000000000000003', '--file', file], { env: sb.env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Template 6000000000000003 is order_update (pt_BR) but');
  });

  it('delete refuses DISABLED templates, deletes one language with --id, and asks on a terminal', async () => {
    const disabled = await runCli(['templates', 'delete', 'legacy_welcome', '--yes'], { env: sb.env() });
    expect(disabled.code).toBe(1);
    expect(disabled.stderr).toContain('DISABLED');
    expect((await world()).some((t) => t.name === 'legacy_welcome')).toBe(true);

    const one = await runCli(['templates', 'delete', 'order_update', '--id', '6000000000000003', '--yes'], {
      env: sb.env(),
    });
    expect(one.code).toBe(0);
    const left = (await world()).filter((t) => t.name === 'order_update').map((t) => t.language);
    expect(left).toEqual(['en_US']);

    const no = await runCli(['templates', 'delete', 'hello_world'], {
      env: sb.env({ CI: '' }),
      tty: true,
      prompter: scriptedPrompter([['Delete hello_world', false]]),
    });
    expect(no.code).toBe(130);
    expect((await world()).some((t) => t.name === 'hello_world')).toBe(true);

    const yes = await runCli(['templates', 'delete', 'hello_world', '--json'], {
      env: sb.env({ CI: '' }),
      tty: true,
      prompter: scriptedPrompter([
        ['Delete hello_world: en_US (APPROVED)? The name cannot be reused for 30 days.', true],
      ]),
    });
    expect(yes.code).toBe(0);
    expect(JSON.parse(yes.stdout)).toEqual({
      name: 'hello_world',
      deleted: [{ id: '6000000000000001', language: 'en_US', status: 'APPROVED' }],
    });
    expect((await world()).some((t) => t.name === 'hello_world')).toBe(false);
  });
});

function readFile(p: string): string {
  return readFileSync(p, 'utf8');
}

describe('templates push --prune: deletes are confirmed like `templates delete`', () => {
  const NEW = `name: delivery_window
language: en_US
category: UTILITY
components:
  - type: BODY
    text: Hi {{1}}, your delivery is planned between {{2}} and 6 pm today.
    example:
      body_text: [["Pablo", "2 pm"]]
`;
  let tpl: string;
  beforeAll(async () => {
    await sb.control('reset', {});
    // the WABA's templates as files, minus two (deleted by --prune), plus one new (created)
    tpl = mkdtempSync(join(dir, 'push-'));
    expect((await runCli(['templates', 'pull', tpl], { env: sb.env() })).code).toBe(0);
    rmSync(join(tpl, 'hello_world.en_US.yaml'));
    rmSync(join(tpl, 'seasonal_promo.en_US.yaml'));
    writeFileSync(join(tpl, 'delivery_window.en_US.yaml'), NEW);
  });
  const names = async () => (await world()).map((t) => t.name);

  it('off a terminal, without --yes: exit 2 naming --yes, the plan shown, nothing applied (not even the create)', async () => {
    const before = await world();
    const r = await runCli(['templates', 'push', tpl, '--prune'], { env: sb.env() });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('--yes: Refusing to delete 2 template(s) without confirmation: pass --yes.');
    expect(r.stderr).toMatch(/cannot be reused for 30 days/);
    expect(r.stdout).toMatch(/delete\thello_world\ten_US/);
    expect(r.stdout).toMatch(/create\tdelivery_window\ten_US/);
    expect(await world()).toEqual(before);
    const noInput = await runCli(['templates', 'push', tpl, '--prune', '--no-input'], {
      env: sb.env({ CI: '' }),
      tty: true,
    });
    expect(noInput.code, noInput.stderr).toBe(2);
    expect(await world()).toEqual(before);
  });

  it('--dry-run and plan need no --yes', async () => {
    const before = await world();
    const dry = await runCli(['templates', 'push', tpl, '--prune', '--dry-run', '--json'], { env: sb.env() });
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout).summary).toMatchObject({ create: 1, delete: 2 });
    expect((await runCli(['templates', 'plan', tpl, '--prune'], { env: sb.env() })).code).toBe(0);
    expect(await world()).toEqual(before);
  });

  it('on a terminal it shows the plan and asks; "no" applies nothing (exit 130)', async () => {
    const before = await world();
    const prompter = scriptedPrompter([['Delete 2 template(s)', false]]);
    const r = await runCli(['templates', 'push', tpl, '--prune'], {
      env: sb.env({ CI: '' }),
      tty: true,
      prompter,
    });
    expect(r.code, r.stderr).toBe(130);
    expect(prompter.asked).toEqual([
      'Delete 2 template(s): hello_world (en_US, APPROVED), seasonal_promo (en_US, PAUSED)? Deleting is permanent, and the name of a deleted APPROVED template cannot be reused for 30 days.',
    ]);
    expect(r.stdout).toMatch(/delete\s+hello_world/);
    expect(r.stderr).toContain('Nothing was applied.');
    expect(await world()).toEqual(before);
  });

  it('"yes" on a terminal, or --yes anywhere, applies the plan', async () => {
    const r = await runCli(['templates', 'push', tpl, '--prune'], {
      env: sb.env({ CI: '' }),
      tty: true,
      prompter: scriptedPrompter([['Delete 2 template(s)', true]]),
    });
    expect(r.code, r.stderr).toBe(0);
    expect(await names()).toContain('delivery_window');
    expect(await names()).not.toContain('hello_world');
    expect(await names()).not.toContain('seasonal_promo');

    rmSync(join(tpl, 'order_receipt.en_US.yaml'));
    const yes = await runCli(['templates', 'push', tpl, '--prune', '--yes', '--json'], { env: sb.env() });
    expect(yes.code, yes.stderr).toBe(0);
    expect(JSON.parse(yes.stdout)).toMatchObject({ applied: 1, failed: 0 });
    expect(await names()).not.toContain('order_receipt');
  });
});
