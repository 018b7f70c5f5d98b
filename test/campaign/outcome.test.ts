import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyCounts } from '../../src/lib/campaign/ledger.js';
import { stopExitCode, verdict } from '../../src/lib/campaign/outcome.js';
import { ExitCode } from '../../src/lib/errors.js';
import { storeEnv } from '../helpers/backends.js';
import { runCli } from '../helpers/cli.js';
import { BACKENDS, freshLocation } from '../helpers/postgres.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { countBy, ledgerRows, orderSendArgs, writeOrdersCsv } from './helpers.js';

/**
 * The outcome step maps a run's end to the exit code through the same error categories as every other command:
 * a send stopped by a Graph error exits with the code that error gives anywhere else.
 */

let sb: TestSandbox;
let proxy: Server;
let proxyUrl = '';
/** Requests whose method and path match are answered with Graph error 10 (permission denied) instead. */
let deny: { method: string; path: RegExp } | null = null;
let sendsSeen = 0;

const PERMISSION_DENIED = JSON.stringify({
  error: {
    message: '(#10) Application does not have permission for this action',
    type: 'OAuthException',
    code: 10,
    fbtrace_id: 'AbCdEf',
  },
});

beforeAll(async () => {
  sb = await startTestSandbox();
  // a loopback proxy in front of the sandbox that can refuse one kind of call with code 10
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const path = req.url ?? '/';
      if (req.method === 'POST' && /\/messages$/.test(path.split('?')[0]!)) sendsSeen++;
      if (deny && req.method === deny.method && deny.path.test(path.split('?')[0]!)) {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(PERMISSION_DENIED);
        return;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
      }
      const upstream = await fetch(`${sb.url}${path}`, {
        method: req.method ?? 'GET',
        headers,
        ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}),
      });
      const body = Buffer.from(await upstream.arrayBuffer());
      res.writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'text/plain',
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
  await sb?.close();
});

describe.each(BACKENDS)('exit codes of a stopped run (%s)', (backend) => {
  it('Graph code 10 (permission) during a send exits 4, as every other command does for it', async () => {
    await sb.control('reset', {});
    await sb.control(`numbers/${sb.seed.phoneNumbers.coex.id}`, { pair_limit: false });
    const location = freshLocation(backend, join(sb.home, `permission-${backend}.db`));
    const env = sb.env({ ...storeEnv(location), WACX_GRAPH_URL: proxyUrl });

    // another command meeting code 10
    deny = { method: 'GET', path: /\/message_templates$/ };
    const other = await runCli(['templates', 'list'], { env });
    expect(other.stderr).toMatch(/permission/i);
    expect(other.code).toBe(ExitCode.AUTH);

    // the send: the template and the number are looked up fine, the first message meets code 10
    deny = { method: 'POST', path: /\/messages$/ };
    sendsSeen = 0;
    const csv = writeOrdersCsv(sb.home, 5, `permission-${backend}.csv`);
    const r = await runCli([...orderSendArgs(csv), '--rate', '20', '--json'], { env });
    expect(sendsSeen).toBeGreaterThan(0);
    expect(r.code, r.stderr).toBe(other.code);
    const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(summary).toMatchObject({ type: 'summary', status: 'stopped', exit_code: 4 });
    expect(summary.stop).toMatchObject({ kind: 'api', code: 10 });
    // nothing was accepted, and no row is lost: the rows not answered are still to send
    expect(await sb.control('messages')).toHaveLength(0);
    const states = countBy(ledgerRows(location), (x) => x.state);
    expect(states.sent ?? 0).toBe(0);
    deny = null;
  });
});

// pure functions: no store
describe('exit codes of a stopped run: the mapping', () => {
  it('maps each kind of stop through the error categories (auth 4, the rest 1)', () => {
    const api = (code: number) => ({ kind: 'api' as const, code, title: '', message: '', hint: null });
    expect(stopExitCode(api(10))).toBe(ExitCode.AUTH);
    expect(stopExitCode(api(190))).toBe(ExitCode.AUTH);
    expect(stopExitCode(api(0))).toBe(ExitCode.AUTH);
    expect(stopExitCode(api(131048))).toBe(ExitCode.FAILED); // spam rate limit
    expect(stopExitCode(api(132015))).toBe(ExitCode.FAILED); // template paused
    expect(stopExitCode({ ...api(133010), kind: 'offboarded' })).toBe(ExitCode.FAILED);
    expect(stopExitCode({ kind: 'lease', code: null, title: '', message: '', hint: null })).toBe(
      ExitCode.FAILED,
    );
  });

  it('a run that ends with rows failed, unknown or invalid is partial; cancelled wins over a stop', () => {
    const counts = { ...emptyCounts(), sent: 3, total: 3 };
    expect(verdict({ cancelled: false, stop: null }, counts, 0)).toEqual({
      status: 'completed',
      exitCode: 0,
    });
    expect(verdict({ cancelled: false, stop: null }, { ...counts, failed: 1 }, 0)).toEqual({
      status: 'partial',
      exitCode: 3,
    });
    expect(verdict({ cancelled: false, stop: null }, counts, 1).exitCode).toBe(3);
    const stop = { kind: 'api' as const, code: 10, title: '', message: '', hint: null };
    expect(verdict({ cancelled: true, stop }, counts, 0)).toEqual({ status: 'cancelled', exitCode: 130 });
    expect(verdict({ cancelled: false, stop }, counts, 0)).toEqual({ status: 'stopped', exitCode: 4 });
  });
});
