import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempHome } from '../helpers/cli.js';

/**
 * Drives the built CLI in a real pseudo-terminal with util-linux `script` (node-pty is not a dependency).
 * The test run builds dist/ first (test/helpers/global-setup.ts).
 */
const root = join(import.meta.dirname, '..', '..');
const bin = join(root, 'bin', 'wacx.js');
const home = tempHome();
afterAll(() => home.cleanup());

const strip = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');

/** Runs `wacx args…` under a pty; answers each prompt (matched in the output) by typing its answer and Enter. */
function inPty(
  args: string[],
  answers: [RegExp, string][],
): Promise<{ code: number | null; output: string }> {
  const quoted = [process.execPath, bin, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const { CI: _ci, ...rest } = home.env;
  const env = { ...rest, NO_COLOR: '1', TERM: 'xterm', COLUMNS: '200' };
  const child = spawn('script', ['-qefc', quoted, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const pending = [...answers];
  const onData = (d: Buffer) => {
    output += d.toString('utf8');
    const next = pending[0];
    if (next?.[0].test(strip(output))) {
      pending.shift();
      // type the answer, then Enter (carriage return in raw mode)
      setTimeout(() => child.stdin.write(`${next[1]}\r`), 50);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: strip(output) });
    });
  });
}

describe('wacx eligibility in a real pseudo-terminal', () => {
  it('asks for the phone, the app version and the start date, then prints the checklist', async () => {
    const r = await inPty(
      ['eligibility', '--offline'],
      [
        [/Phone number \(with country code\)/, '+91 98765 43210'],
        [/WhatsApp Business app version/, '2.24.9'],
        [/In use in the Business App since/, '30'],
      ],
    );
    expect(r.output).toContain('Coexistence eligibility of +91 98765 43210 (IN)');
    expect(r.output).toMatch(/✗ Business App version +2\.24\.9 is older than 2\.24\.17/);
    expect(r.output).toMatch(/✓ Days in use +In use for 30 days/);
    expect(r.output).toContain('Not eligible: 1 check failed.');
    expect(r.code).toBe(1);
  });

  it('re-asks after an invalid answer and accepts a date', async () => {
    const r = await inPty(
      ['eligibility', '+44 20 7946 0958', '--offline', '--policy', '2025-02'],
      [
        [/WhatsApp Business app version/, 'banana'],
        [/is not a version number/, '\x15' + '2.25.3.78'],
        [/In use in the Business App since/, '2025-01-15'],
      ],
    );
    expect(r.output).toContain('"banana" is not a version number');
    expect(r.output).toMatch(/✗ Country +United Kingdom: excluded under 2025-02, lifted on 2025-10-23\./);
    expect(r.output).toMatch(/✓ Business App version +2\.25\.3\.78/);
    expect(r.code).toBe(1);
  });

  it('without a TTY the same call is a usage error naming the flag', () => {
    const r = spawnSync(process.execPath, [bin, 'eligibility', '+44 20 7946 0958', '--offline'], {
      env: home.env,
      encoding: 'utf8',
      input: '',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--app-version');
  });
});
