import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'wacx-tpl-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const NEW_TEMPLATE = `name: delivery_window
language: en_US
category: UTILITY
components:
  - type: BODY
    text: Hi {{1}}, your delivery is planned between {{2}} and 6 pm today.
    example:
      body_text: [["Pablo", "2 pm"]]
`;

const PROMO_AS_UTILITY = `name: flash_discount
language: en_US
category: UTILITY
components:
  - type: BODY
    text: Hi {{1}}, get a 50% discount on your next order with this offer.
    example:
      body_text: [["Pablo"]]
`;

function edit(file: string, from: string, to: string): void {
  const text = readFileSync(file, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} does not contain ${from}`);
  writeFileSync(file, text.replace(from, to));
}

describe('pull → plan round trip', () => {
  let sb: TestSandbox;
  beforeAll(async () => {
    sb = await startTestSandbox();
  });
  afterAll(() => sb.close());

  it('pull writes one file per name and language; plan then shows no change; a second pull writes nothing', async () => {
    const dir = tempDir();
    const pull = await runCli(['templates', 'pull', dir, '--json'], { env: sb.env() });
    expect(pull.code).toBe(0);
    const pulled = JSON.parse(pull.stdout) as { file: string; written: boolean }[];
    const names = readdirSync(dir).sort();
    expect(names).toEqual(sb.seed.templates.map((t) => `${t.name}.${t.language}.yaml`).sort());
    expect(pulled.every((p) => p.written)).toBe(true);

    const lint = await runCli(['templates', 'lint', dir], { env: sb.env() });
    expect(lint.stdout).not.toContain('error:');
    expect(lint.code).toBe(0);

    const plan = await runCli(['templates', 'plan', dir, '--prune', '--json'], { env: sb.env() });
    expect(plan.code).toBe(0);
    const doc = JSON.parse(plan.stdout);
    expect(doc.summary).toEqual({
      create: 0,
      update: 0,
      delete: 0,
      unchanged: sb.seed.templates.length,
      blocked: 0,
    });

    const human = await runCli(['templates', 'plan', dir], { env: sb.env() });
    expect(human.stdout).toBe('');
    expect(human.stderr).toContain(`No changes: ${sb.seed.templates.length} template(s) up to date.`);

    const again = await runCli(['templates', 'pull', dir, '--json'], { env: sb.env() });
    expect((JSON.parse(again.stdout) as { written: boolean }[]).some((p) => p.written)).toBe(false);
  });

  it('the pulled YAML is readable: a named-parameter template', async () => {
    const dir = tempDir();
    await runCli(['templates', 'pull', dir], { env: sb.env() });
    expect(
      readFileSync(join(dir, 'appointment_reminder.en_US.yaml'), 'utf8'),
    ).toBe(`name: appointment_reminder
language: en_US
category: UTILITY
parameter_format: NAMED
components:
  - type: BODY
    text: Hi {{first_name}}, this is a reminder of your appointment on {{date}}.
    example:
      body_text_named_params:
        - param_name: first_name
          example: Pablo
        - param_name: date
          example: May 1
`);
  });
});

describe('plan categories against the sandbox, including each blocked case', () => {
  let sb: TestSandbox;
  let dir: string;
  beforeAll(async () => {
    sb = await startTestSandbox();
    dir = tempDir();
    expect((await runCli(['templates', 'pull', dir], { env: sb.env() })).code).toBe(0);
  });
  afterAll(() => sb.close());

  it('create / update / delete / unchanged / blocked, sorted, each blocked entry with why', async () => {
    // create
    writeFileSync(join(dir, 'delivery_window.en_US.yaml'), NEW_TEMPLATE);
    // update (APPROVED, first edit)
    edit(join(dir, 'order_update.en_US.yaml'), 'has shipped.', 'has shipped today.');
    // blocked: category change of an APPROVED template
    edit(join(dir, 'hello_world.en_US.yaml'), 'category: UTILITY', 'category: MARKETING');
    // delete (with --prune): spring_sale has no file any more; blocked: DISABLED legacy_welcome cannot be deleted
    unlinkSync(join(dir, 'spring_sale.en_US.yaml'));
    unlinkSync(join(dir, 'legacy_welcome.en_US.yaml'));
    // update of a PAUSED template: allowed
    edit(join(dir, 'seasonal_promo.en_US.yaml'), 'take a look!', 'take a look today!');

    const r = await runCli(['templates', 'plan', dir, '--prune', '--json'], { env: sb.env() });
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    const rows = plan.entries.map(
      (e: { name: string; language: string; action: string }) => `${e.action} ${e.name} ${e.language}`,
    );
    expect(rows).toEqual([
      'unchanged appointment_reminder en_US',
      'create delivery_window en_US',
      'blocked hello_world en_US',
      'blocked legacy_welcome en_US',
      'unchanged order_receipt en_US',
      'update order_update en_US',
      'unchanged order_update pt_BR',
      'update seasonal_promo en_US',
      'delete spring_sale en_US',
    ]);
    const byName = (n: string) => plan.entries.find((e: { name: string }) => e.name === n);
    expect(byName('hello_world').blocked).toEqual({
      code: 'category_change_approved',
      reason:
        'the category of an APPROVED template cannot change (UTILITY → MARKETING); create a new template name instead',
    });
    expect(byName('legacy_welcome').blocked).toEqual({
      code: 'delete_disabled',
      reason: 'DISABLED templates cannot be deleted',
    });
    expect(byName('order_update').changes).toEqual(['components']);
    expect(byName('order_update').details).toEqual(['BODY.text']);
    expect(plan.summary).toEqual({ create: 1, update: 2, delete: 1, unchanged: 3, blocked: 2 });

    // without --prune nothing is deleted, and the remote-only templates are counted
    const noPrune = JSON.parse(
      (await runCli(['templates', 'plan', dir, '--json'], { env: sb.env() })).stdout,
    );
    expect(noPrune.summary.delete).toBe(0);
    expect(noPrune.remoteOnly).toBe(2);

    // the human table is deterministic
    const a = await runCli(['templates', 'plan', dir, '--prune'], { env: sb.env() });
    const b = await runCli(['templates', 'plan', dir, '--prune'], { env: sb.env() });
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout.split('\n')[0]).toBe(
      '+ create\tdelivery_window\ten_US\t-\t-\t' + join(dir, 'delivery_window.en_US.yaml'),
    );
    expect(a.stderr).toContain('Plan: 1 to create, 2 to update, 1 to delete, 3 unchanged, 2 blocked.');
  });

  it('an APPROVED template edited in the last 24 h is blocked (local edit history), and so is a deleted approved name', async () => {
    // apply the hello_world fix first so it is not blocked any more
    edit(join(dir, 'hello_world.en_US.yaml'), 'category: MARKETING', 'category: UTILITY');
    const push = await runCli(['templates', 'push', dir, '--json'], { env: sb.env() });
    expect(push.code).toBe(0);
    await sb.flush(); // reviews done: the edited template is APPROVED again

    edit(join(dir, 'order_update.en_US.yaml'), 'has shipped today.', 'has shipped this morning.');
    const del = await runCli(['templates', 'delete', 'appointment_reminder', '--yes'], { env: sb.env() });
    expect(del.code).toBe(0);

    const r = await runCli(['templates', 'plan', dir, '--json'], { env: sb.env() });
    const plan = JSON.parse(r.stdout);
    const byName = (n: string) =>
      plan.entries.find((e: { name: string; language: string }) => e.name === n && e.language === 'en_US');
    expect(byName('order_update')).toMatchObject({
      action: 'blocked',
      intended: 'update',
      blocked: { code: 'edit_limit_24h' },
    });
    expect(byName('order_update').blocked.reason).toMatch(
      /^APPROVED templates can be edited once per 24 h; last edited at \S+Z, next edit after \S+Z$/,
    );
    expect(byName('appointment_reminder')).toMatchObject({
      action: 'blocked',
      intended: 'create',
      blocked: { code: 'name_reuse_30d' },
    });

    // push does not send blocked entries, and says why
    const blocked = await runCli(['templates', 'push', dir], { env: sb.env() });
    expect(blocked.code).toBe(1);
    expect(blocked.stderr).toContain(
      'update order_update (en_US) blocked: APPROVED templates can be edited once per 24 h',
    );
    expect(blocked.stderr).toContain(
      'create appointment_reminder (en_US) blocked: the APPROVED template appointment_reminder (en_US) was deleted',
    );
  });

  it('a template under review cannot be edited', async () => {
    const id = sb.seed.templates.find((t) => t.name === 'order_update' && t.language === 'pt_BR')!.id;
    await sb.control(`templates/${id}`, { status: 'PENDING' });
    edit(join(dir, 'order_update.pt_BR.yaml'), 'foi enviado.', 'foi enviado hoje.');
    const plan = JSON.parse((await runCli(['templates', 'plan', dir, '--json'], { env: sb.env() })).stdout);
    const e = plan.entries.find(
      (x: { name: string; language: string }) => x.name === 'order_update' && x.language === 'pt_BR',
    );
    expect(e).toMatchObject({ action: 'blocked', blocked: { code: 'under_review' } });
  });
});

describe('push', () => {
  let sb: TestSandbox;
  beforeAll(async () => {
    sb = await startTestSandbox();
  });
  afterAll(() => sb.close());

  const world = async () =>
    (
      await sb.control<{ templates: { id: string; name: string; language: string; status: string }[] }>(
        'world',
      )
    ).templates;

  it('--dry-run sends nothing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'delivery_window.en_US.yaml'), NEW_TEMPLATE);
    const before = await world();
    const r = await runCli(['templates', 'push', dir, '--dry-run', '--json'], { env: sb.env() });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.dryRun).toBe(true);
    expect(doc.results).toEqual([
      expect.objectContaining({ action: 'create', name: 'delivery_window', outcome: 'dry_run' }),
    ]);
    expect(await world()).toEqual(before);
  });

  it('applies the plan and --wait reports APPROVED (exit 0); a second push has nothing to do', async () => {
    const dir = tempDir();
    await runCli(['templates', 'pull', dir], { env: sb.env() });
    writeFileSync(join(dir, 'delivery_window.en_US.yaml'), NEW_TEMPLATE);
    edit(
      join(dir, 'order_receipt.en_US.yaml'),
      'your receipt is attached.',
      'your receipt is attached below.',
    );
    unlinkSync(join(dir, 'seasonal_promo.en_US.yaml'));

    const r = await runCli(
      ['templates', 'push', dir, '--prune', '--yes', '--wait', '--timeout', '20s', '--json'],
      {
        env: sb.env(),
      },
    );
    expect(r.stderr).toBe(
      '! 1 warning(s) in the template files; run `wacx templates lint ' + dir + '` to see them.\n',
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({ dryRun: false, applied: 3, failed: 0, rejected: 0, pending: 0 });
    const applied = doc.results.filter((x: { outcome: string }) => x.outcome === 'applied');
    expect(
      applied.map(
        (x: { action: string; name: string; status: string }) => `${x.action} ${x.name} ${x.status}`,
      ),
    ).toEqual([
      'create delivery_window APPROVED',
      'update order_receipt APPROVED',
      'delete seasonal_promo PAUSED',
    ]);
    const names = (await world()).map((t) => t.name);
    expect(names).toContain('delivery_window');
    expect(names).not.toContain('seasonal_promo');
    // each change made is an audit record, and the trail verifies
    const exported = join(tempDir(), 'audit.jsonl');
    expect((await runCli(['audit', 'export', '-o', exported], { env: sb.env() })).code).toBe(0);
    const records = readFileSync(exported, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind: string; subject: string; content: string });
    expect(records.map((x) => [x.kind, x.subject, JSON.parse(x.content).action])).toEqual([
      ['template_change', 'delivery_window', 'create'],
      ['template_change', 'order_receipt', 'edit'],
      ['template_change', 'seasonal_promo', 'delete'],
    ]);
    expect((await runCli(['audit', 'verify'], { env: sb.env() })).code).toBe(0);

    const again = await runCli(['templates', 'push', dir, '--prune'], { env: sb.env() });
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('No changes');
  });

  it('--wait exits 1 and prints the reason when a review is REJECTED', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'flash_discount.en_US.yaml'), PROMO_AS_UTILITY);
    const r = await runCli(['templates', 'push', dir, '--wait', '--timeout', '20s'], { env: sb.env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('created flash_discount (en_US)');
    expect(r.stderr).toContain('flash_discount (en_US) REJECTED: INCORRECT_CATEGORY');
  });

  it('a write the API refuses is reported, the others still go (exit 3)', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'delivery_slot.en_US.yaml'),
      NEW_TEMPLATE.replace('delivery_window', 'delivery_slot'),
    );
    writeFileSync(
      join(dir, 'delivery_time.en_US.yaml'),
      NEW_TEMPLATE.replace('delivery_window', 'delivery_time'),
    );
    await sb.control('limits', {
      templates_per_hour: (await sb.control<{ limits: { templatesPerHour: number } }>('world')).limits
        .templatesPerHour,
    });
    // allow exactly one more create this hour
    const created = (await world()).length;
    await sb.control('limits', { template_count: created + 1 });
    const r = await runCli(['templates', 'push', dir, '--json'], { env: sb.env() });
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.stdout);
    expect(doc.results.map((x: { name: string; outcome: string }) => `${x.name} ${x.outcome}`)).toEqual([
      'delivery_slot applied',
      'delivery_time failed',
    ]);
    expect(doc.results[1].error).toContain('2388019');
  });
});

describe('push --wait timeout', () => {
  let sb: TestSandbox;
  beforeAll(async () => {
    sb = await startTestSandbox({ reviewDelayMs: 600_000 });
  });
  afterAll(() => sb.close());

  it('exits 8 when a review is still PENDING at the timeout', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'delivery_window.en_US.yaml'), NEW_TEMPLATE);
    const r = await runCli(['templates', 'push', dir, '--wait', '--timeout', '1s'], { env: sb.env() });
    expect(r.code).toBe(8);
    expect(r.stderr).toContain('delivery_window (en_US) is still PENDING after 1s');
  });
});

describe('pull into a place it cannot write: exit 2 naming the directory, before any request', () => {
  const home = tempHome();
  afterAll(() => home.cleanup());
  // A closed port: a request would fail with a network error (exit 1) instead.
  const env = {
    ...home.env,
    WACX_GRAPH_URL: 'http://127.0.0.1:9',
    WACX_TOKEN: 'EAAT0KEN',
    WACX_WABA_ID: '123',
  };
  const pull = (dir: string) => runCli(['templates', 'pull', dir], { env });

  it('a file', async () => {
    const r = await pull('/etc/passwd');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      '/etc/passwd: Cannot create a directory for the templates here: it exists and is not a directory.',
    );
  });

  it('a read-only directory', async () => {
    // permission bits do not stop root: then a kernel directory that refuses new files
    const dir = process.getuid?.() === 0 ? '/sys' : join(tempDir(), 'locked');
    if (dir !== '/sys') mkdirSync(dir, { mode: 0o555 });
    const r = await pull(dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${dir}: Cannot write templates into this directory: permission denied.`);
    const sub = await pull(join(dir, 'templates'));
    expect(sub.code).toBe(2);
    expect(sub.stderr).toContain(
      `${join(dir, 'templates')}: Cannot create a directory for the templates here:`,
    );
  });

  it('under /proc it fails at once instead of retrying forever', { timeout: 10_000 }, async () => {
    for (const [dir, what] of [
      ['/proc/wacx-test', 'Cannot create a directory for the templates here'],
      ['/proc/wacx-test/templates', 'Cannot create a directory for the templates here'],
      ['/proc', 'Cannot write templates into this directory'],
    ]) {
      const r = await pull(dir!);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`${dir}: ${what}:`);
    }
  });
});
