import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/lib/errors.js';
import { runCli } from '../helpers/cli.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { orderSendArgs, writeOrdersCsv } from './helpers.js';

/**
 * Before its first send, `wacx send` needs the template and the phone number's throughput: it asks for both at once
 * (one round trip less to graph.facebook.com), and when both fail, the template's error is the one reported.
 */

let sb: TestSandbox;
let proxy: Server;
let proxyUrl = '';
/** What the proxy does with the two lookups. */
let mode: 'hold-template' | 'both-fail' = 'hold-template';
let numberSeen = false;
let numberAsked: () => void = () => {};
let numberAskedBeforeTemplateAnswered: boolean | null = null;

const graphError = (code: number, message: string) =>
  JSON.stringify({ error: { message, type: 'OAuthException', code, fbtrace_id: 'AbCdEf' } });

async function forward(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
  }
  const upstream = await fetch(`${sb.url}${req.url ?? '/'}`, {
    method: req.method ?? 'GET',
    headers,
    ...(body.length > 0 ? { body } : {}),
  });
  res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
  res.end(Buffer.from(await upstream.arrayBuffer()));
}

beforeAll(async () => {
  sb = await startTestSandbox();
  const numberPath = `/${sb.seed.phoneNumbers.coex.id}`;
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const path = (req.url ?? '/').split('?')[0]!;
      const isTemplates = req.method === 'GET' && path.endsWith('/message_templates');
      const isNumber = req.method === 'GET' && path.endsWith(numberPath);
      if (mode === 'both-fail' && (isTemplates || isNumber)) {
        res.writeHead(isTemplates ? 403 : 400, { 'content-type': 'application/json' });
        res.end(
          isTemplates
            ? graphError(10, '(#10) Application does not have permission for this action')
            : graphError(100, 'Unsupported get request. Object with ID does not exist'),
        );
        return;
      }
      if (isNumber) {
        numberSeen = true;
        numberAsked();
      }
      if (isTemplates && numberAskedBeforeTemplateAnswered === null) {
        // the template's answer waits for the number's request, 3 s at most
        const asked =
          numberSeen ||
          (await Promise.race([
            new Promise<boolean>((resolve) => {
              numberAsked = () => resolve(true);
            }),
            new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 3000)),
          ]));
        numberAskedBeforeTemplateAnswered = asked;
      }
      await forward(req, res, Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => proxy?.close(resolve));
  await sb?.close();
});
beforeEach(async () => {
  await sb.control('reset', {});
  numberSeen = false;
  numberAsked = () => {};
  numberAskedBeforeTemplateAnswered = null;
});

/** `wacx send` of 3 rows through the proxy, into a store of its own. */
function sendThroughProxy(name: string) {
  const csv = writeOrdersCsv(sb.home, 3, `${name}.csv`);
  const env = sb.env({ WACX_GRAPH_URL: proxyUrl, WACX_DB: join(sb.home, `${name}.db`) });
  return runCli([...orderSendArgs(csv), '--json'], { env });
}

describe('wacx send before its first message', () => {
  it("asks for the phone number's throughput while the template's answer is still on its way", async () => {
    mode = 'hold-template';
    const r = await sendThroughProxy('together');
    expect(r.code, r.stderr).toBe(ExitCode.OK);
    expect(numberAskedBeforeTemplateAnswered).toBe(true);
    expect(await sb.control('messages')).toHaveLength(3);
  });

  it("when both lookups fail, the template's error is the one reported, and nothing is sent", async () => {
    mode = 'both-fail';
    const r = await sendThroughProxy('both-fail');
    expect(r.code, r.stderr).toBe(ExitCode.AUTH);
    expect(r.stderr).toMatch(/permission/i);
    expect(r.stderr).not.toMatch(/does not exist/);
    expect(await sb.control('messages')).toHaveLength(0);
  });
});
