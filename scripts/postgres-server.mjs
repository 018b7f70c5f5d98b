// A throwaway PostgreSQL server for wacx's tests and benchmarks, started from the machine's own PostgreSQL
// binaries (initdb, pg_ctl: on PATH or in /usr/lib/postgresql/*/bin) in a temporary directory, on a free port of
// 127.0.0.1, with trust authentication for the user `wacx`. PostgreSQL refuses to run as root: as root the server
// runs as the `postgres` user (or `nobody`).
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';

function findBinaries() {
  const dirs = [...(process.env.PATH ?? '').split(delimiter)];
  const versions = existsSync('/usr/lib/postgresql')
    ? readdirSync('/usr/lib/postgresql').sort().reverse()
    : [];
  for (const v of versions) dirs.push(join('/usr/lib/postgresql', v, 'bin'));
  const dir = dirs.find((d) => d && existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl')));
  if (!dir)
    throw new Error(
      'PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or in /usr/lib/postgresql/*/bin. ' +
        'Install them (Debian: apt-get install postgresql) to run the PostgreSQL tests.',
    );
  return dir;
}

function account(user) {
  try {
    const id = (flag) => Number(execFileSync('id', [flag, user], { stdio: 'pipe' }).toString());
    return { user, uid: id('-u'), gid: id('-g') };
  } catch {
    return null;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts the server; `fsync` false (tests) trades crash safety of the server's own files for speed, which a
 * test that kills clients, never the server, does not need.
 */
export async function startPostgres({ fsync = false } = {}) {
  const bin = findBinaries();
  const root = process.getuid?.() === 0;
  const owner = root ? (account('postgres') ?? account('nobody')) : null;
  if (root && !owner)
    throw new Error('Running as root, and neither a postgres nor a nobody user exists to run PostgreSQL.');
  const dir = mkdtempSync(join(tmpdir(), 'wacx-pg-'));
  const data = join(dir, 'data');
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const run = (cmd, args) =>
    owner
      ? execFileSync('runuser', ['-u', owner.user, '--', join(bin, cmd), ...args], { stdio: 'pipe' })
      : execFileSync(join(bin, cmd), args, { stdio: 'pipe' });
  const port = await freePort();
  try {
    run('initdb', ['-D', data, '-U', 'wacx', '-A', 'trust', '--no-sync', '--locale=C', '-E', 'UTF8']);
    const options = [
      `-p ${port}`,
      `-k ${dir}`,
      '-c listen_addresses=127.0.0.1',
      '-c max_connections=300',
      `-c fsync=${fsync ? 'on' : 'off'}`,
    ].join(' ');
    run('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start']);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = error.stderr?.toString() ?? '';
    throw new Error(`PostgreSQL did not start: ${stderr || error.message}`);
  }
  return {
    port,
    /** The server's maintenance database; tests create their own databases beside it. */
    url: `postgres://wacx@127.0.0.1:${port}/postgres`,
    user: owner?.user ?? userInfo().username,
    stop() {
      try {
        run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
