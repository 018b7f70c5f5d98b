/**
 * Two `wacx send` runs of one campaign started at the same moment, as real processes against the sandbox, 20
 * times on SQLite, 10 on PostgreSQL: one sends, the other always ends with the lease message (exit 1), never a raw database
 * error such as "UNIQUE constraint failed: campaigns.id". Needs the build (bin/wacx.js).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEED } from '../../src/sandbox/seed.js';
import { BACKENDS, freshLocation } from '../helpers/postgres.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { dbEnv, orderSendArgs, requireBuild, spawnWacx, writeOrdersCsv } from './helpers.js';

/** 20 rounds on SQLite; 10 on PostgreSQL (its transactions all take one advisory lock: one order whatever the run). */
const ROUNDS_OF = { sqlite: 20, postgres: 10 } as const;

describe.each(BACKENDS)('concurrent starts of one campaign (%s)', (backend) => {
  const ROUNDS = ROUNDS_OF[backend];
  let sb: TestSandbox;
  beforeAll(async () => {
    requireBuild();
    sb = await startTestSandbox({ statusDelayMs: 5 });
    await sb.control(`numbers/${SEED.phoneNumbers.coex.id}`, { mps: 100_000, pair_limit: false });
  });
  afterAll(async () => {
    await sb?.close();
  });

  it(`two sends started together, ${ROUNDS} times: one runs, the other gets the lease message (exit 1)`, async () => {
    // PostgreSQL: a start connects and migrates over the network first; a longer run keeps the two starts overlapping
    const csv = writeOrdersCsv(sb.home, backend === 'sqlite' ? 2 : 8);
    const problems: string[] = [];
    let refused = 0;
    const round = async (round: number): Promise<void> => {
      // a new database each round: the first start also creates it (and runs the migrations)
      const env = sb.env(dbEnv(freshLocation(backend, join(sb.home, `ledger-${round}.db`))));
      // --rate 4: the run lasts half a second (two seconds on PostgreSQL), so the two starts overlap
      const args = [...orderSendArgs(csv), '--campaign', `race-${round}`, '--rate', '4', '--force'];
      const runs = [spawnWacx(args, env), spawnWacx(args, env)];
      const exits = await Promise.all(runs.map((r) => r.exit));
      const codes = exits.map((e) => e.code);
      const stderr = runs.map((r) => r.stderr());
      for (const err of stderr)
        if (/SQLITE|PG_|constraint|already exists|duplicate key/i.test(err))
          problems.push(`round ${round}: ${err}`);
      const loser = codes.indexOf(1);
      if (codes.filter((c) => c === 0).length !== 1 || loser === -1) {
        problems.push(`round ${round}: exit codes ${codes.join(', ')}: ${stderr.join(' | ')}`);
        return;
      }
      if (/already being sent|started by another run/.test(stderr[loser]!)) refused++;
      else problems.push(`round ${round}: loser said ${stderr[loser]}`);
    };
    // two rounds (four processes) at a time, each round with its own database and campaign
    for (let r = 0; r < ROUNDS; r += 2) await Promise.all([round(r), round(r + 1)]);
    expect(problems).toEqual([]);
    expect(refused).toBe(ROUNDS);
  }, 60_000);
});
