import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/lib/clock.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { NOW, seedStore } from './seed.js';

const home = tempHome();
const db = join(home.home, 'wacx.db');
const env = { ...home.env, WACX_DB: db };
const report = (args: string[], tty = false) =>
  runCli(['report', ...args], { env, clock: new FakeClock(NOW), tty });

beforeAll(async () => {
  await seedStore(home.env, home.home, db);
});
afterAll(() => home.cleanup());

describe('wacx report on a seeded store', () => {
  it('prints', async () => {
    const r = await report(['--json']);
    console.log(r.stdout, r.stderr);
    const t = await report([], true);
    console.log(t.stdout, t.stderr);
  });
});
