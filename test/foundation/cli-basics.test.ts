import { afterEach, describe, expect, it } from 'vitest';
import { runCli, tempHome } from '../helpers/cli.js';

describe('cli basics', () => {
  const home = tempHome();
  afterEach(() => undefined);

  it('prints help and exits 0', async () => {
    const r = await runCli(['--help'], { env: home.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: wacx');
    expect(r.stdout).toContain('templates');
  });

  it('exits 2 with the usage line on an unknown option', async () => {
    const r = await runCli(['--bogus'], { env: home.env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown option '--bogus'");
    expect(r.stderr).toContain('Usage: wacx');
  });

  it('prints the exit-code table', async () => {
    const r = await runCli(['help', 'exit-codes'], { env: home.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^130\tcancelled/m);
  });
});
