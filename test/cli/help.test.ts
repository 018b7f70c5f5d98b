import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS, GROUPS } from '../../src/cli/registry.js';
import { runCli, tempHome } from '../helpers/cli.js';

describe('help of every command (snapshots)', () => {
  const home = tempHome();
  afterAll(() => home.cleanup());

  it.each(Object.keys(GROUPS).map((g) => [g]))('wacx %s --help', async (noun) => {
    const r = await runCli([noun, '--help'], { env: home.env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatchSnapshot();
  });

  it.each(COMMANDS.filter((c) => !c.hidden).map((c) => [c.path.join(' ')]))(
    'wacx %s --help',
    async (path) => {
      const r = await runCli([...path.split(' '), '--help'], { env: home.env });
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatchSnapshot();
    },
  );
});
