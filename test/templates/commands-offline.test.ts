import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'lint');

/** Checks that happen before any network call: nothing is sent, exit 2. */
describe('templates commands: usage errors, nothing sent', () => {
  const home = tempHome();
  // An unreachable Graph URL: any request would fail with exit 1, not 2.
  const env = { ...home.env, WACX_GRAPH_URL: 'http://127.0.0.1:9', WACX_TOKEN: 'EAAtest', WACX_WABA_ID: '1' };
  afterAll(() => home.cleanup());

  it('delete without --yes when not on a terminal names --yes', async () => {
    const r = await runCli(['templates', 'delete', 'old_promo'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--yes');
    expect(r.stderr).toContain('Refusing to delete old_promo without confirmation');
  });

  it('create without --file when not on a terminal names --file', async () => {
    const r = await runCli(['templates', 'create'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--file');
  });

  it('create --file with a rule error prints file:line:col and sends nothing', async () => {
    const file = join(FIXTURES, 'footer-variable.yaml');
    const r = await runCli(['templates', 'create', '--file', file], { env });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`${file}:9:11: error: footer text cannot contain variables [2388073]`);
    expect(r.stderr).toContain('nothing was sent');
  });

  it('update --file with a rule error sends nothing', async () => {
    const file = join(FIXTURES, 'variable-at-end.yaml');
    const r = await runCli(['templates', 'update', 'trailing', '--file', file], { env });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`${file}:7:11: error: body text cannot end with a variable`);
  });

  it('push --timeout must be a duration', async () => {
    const r = await runCli(['templates', 'push', FIXTURES, '--timeout', 'soon'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--timeout');
  });

  it('plan of invalid files exits 2 before calling the API', async () => {
    const r = await runCli(['templates', 'plan', FIXTURES], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('No plan');
  });
});
