import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { DepsInit } from '../../src/cli/deps.js';
import { main } from '../../src/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A temporary HOME / config dir, never the developer's real one. */
export function tempHome(): { home: string; env: NodeJS.ProcessEnv; cleanup: () => void } {
  const home = mkdtempSync(join(tmpdir(), 'wacx-test-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    WACX_KEYCHAIN: '0',
    NO_COLOR: '1',
    CI: 'true',
  };
  return { home, env, cleanup: () => rmSync(home, { recursive: true, force: true }) };
}

type Tty = { isTTY?: boolean };

/**
 * Runs the real `main()` in-process with memory streams. `env` replaces process.env entirely
 * (start from `tempHome().env`).
 */
export async function runCli(
  args: string[],
  options: {
    env: NodeJS.ProcessEnv;
    stdin?: string;
    tty?: boolean;
    signal?: AbortSignal;
    clock?: DepsInit['clock'];
    prompter?: DepsInit['prompter'];
  },
): Promise<CliResult> {
  const stdout = new PassThrough() as PassThrough & Tty;
  const stderr = new PassThrough() as PassThrough & Tty;
  const stdin = Readable.from(options.stdin === undefined ? [] : [options.stdin]) as Readable & Tty;
  if (options.tty) {
    stdout.isTTY = true;
    stderr.isTTY = true;
    stdin.isTTY = true;
  }
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (d: Buffer) => out.push(d));
  stderr.on('data', (d: Buffer) => err.push(d));
  const code = await main(args, {
    env: options.env,
    streams: { stdin, stdout, stderr },
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.prompter ? { prompter: options.prompter } : {}),
  });
  return { code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
}
