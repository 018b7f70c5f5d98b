import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StoreLocation } from '../../src/lib/store/location.js';
import { Store } from '../../src/lib/store/store.js';
import { describeBackends, storeEnv } from '../helpers/backends.js';
import { runCli, tempHome } from '../helpers/cli.js';
import { freePort, retryUntil } from '../helpers/net.js';
import {
  APP_SECRET,
  asciiJson,
  contactSync,
  echo,
  historyChunk,
  inboundText,
  sign,
  statusPayload,
} from './fixtures.js';
import { post, signedStatus } from './load-client.js';

describeBackends('wacx webhooks ingest', (b) => {
  let home: ReturnType<typeof tempHome>;
  let env: NodeJS.ProcessEnv;
  let db: StoreLocation;
  beforeEach(() => {
    home = tempHome();
    db = b.location();
    env = { ...home.env, ...storeEnv(db), WACX_APP_SECRET: APP_SECRET };
  });
  afterEach(() => home.cleanup());
  const count = (table: string) => {
    const s = Store.open(db);
    try {
      return (s.db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    } finally {
      s.close();
    }
  };

  it('imports bare and signed lines, dedupes, reports rejected line numbers (exit 3)', async () => {
    const signedBody = asciiJson(inboundText('wamid.in1', '16505551234', 'Ça va? 👍'));
    const forgedBody = JSON.stringify(statusPayload('wamid.forged', 'sent'));
    const lines = [
      JSON.stringify(statusPayload('wamid.1', 'sent', { callback: 'c:1' })),
      '',
      '# a comment',
      JSON.stringify({ body: signedBody, signature: sign(signedBody) }),
      JSON.stringify(statusPayload('wamid.1', 'sent', { callback: 'c:1' })), // duplicate of line 1
      JSON.stringify({ body: forgedBody, signature: sign(forgedBody, 'evil') }),
      JSON.stringify(contactSync('add', '16505550001', 'Ana')),
    ];
    const file = join(home.home, 'in.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await runCli(['webhooks', 'ingest', file, '--json'], { env });
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toEqual({
      file,
      lines: 5,
      stored: 3,
      duplicate: 1,
      rejected: 1,
      bad: 0,
      events: 3,
      duplicate_events: 1,
      unverified_signatures: 0,
      rejected_lines: [{ line: 6, reason: 'bad_signature', message: expect.any(String) }],
      bad_lines: [],
    });
    expect(count('webhook_events')).toBe(3);
    // running it again stores nothing new
    const again = await runCli(['webhooks', 'ingest', file], { env });
    expect(again.code).toBe(3);
    expect(again.stderr).toContain(`${file}:6: rejected`);
    expect(again.stderr).toMatch(/0 stored \(0 events\), 4 duplicate, 1 rejected/);
    expect(count('webhook_events')).toBe(3);
  });

  it('with --strict, a bad line is a usage error naming the line, and nothing is written', async () => {
    const file = join(home.home, 'bad.ndjson');
    const notJsonBody = 'oops';
    writeFileSync(
      file,
      [
        JSON.stringify(statusPayload('wamid.1', 'sent')),
        JSON.stringify(echo('wamid.e', '1', 'x')),
        '{"object": "whatsapp_business_account", "entry": [',
      ].join('\n'),
    );
    const r = await runCli(['webhooks', 'ingest', file, '--strict'], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:3:`);
    expect(count('webhook_events')).toBe(0);

    writeFileSync(
      file,
      [
        JSON.stringify(statusPayload('wamid.1', 'sent')),
        JSON.stringify({ body: notJsonBody, signature: sign(notJsonBody) }),
      ].join('\n'),
    );
    const r2 = await runCli(['webhooks', 'ingest', file, '--strict'], { env });
    expect(r2.code).toBe(2);
    expect(r2.stderr).toContain(`${file}:2: body is not JSON`);
    expect(count('webhook_events')).toBe(0);
    expect(count('webhook_payloads')).toBe(0);

    writeFileSync(file, '[1,2]\n');
    expect((await runCli(['webhooks', 'ingest', file, '--strict'], { env })).stderr).toContain(
      `${file}:1: expected a JSON object`,
    );
    expect((await runCli(['webhooks', 'ingest', join(home.home, 'missing.ndjson')], { env })).code).toBe(2);
  });

  it('reads standard input with -, and --require-signature rejects unsigned lines', async () => {
    const stdin = `${JSON.stringify(historyChunk(0, 1, 100, [{ id: '1', messages: [{ id: 'w1', from: '1' }] }]))}\n`;
    const r = await runCli(['webhooks', 'ingest', '-'], { env, stdin });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('1 stored (1 events)');
    const body = JSON.stringify(statusPayload('wamid.9', 'read'));
    const stdin2 = `${body}\n${JSON.stringify({ body, signature: sign(body) })}\n`;
    const r2 = await runCli(['webhooks', 'ingest', '-', '--require-signature', '--json'], {
      env,
      stdin: stdin2,
    });
    expect(r2.code).toBe(3);
    expect(JSON.parse(r2.stdout)).toMatchObject({
      stored: 1,
      rejected: 1,
      rejected_lines: [{ line: 1, reason: 'missing_signature' }],
    });
  });

  it('without an app secret, signatures cannot be checked: imported and flagged', async () => {
    const body = JSON.stringify(statusPayload('wamid.9', 'read'));
    const { WACX_APP_SECRET: _, ...noSecret } = env;
    const r = await runCli(['webhooks', 'ingest', '-'], {
      env: noSecret,
      stdin: JSON.stringify({ body, signature: sign(body, 'whatever') }),
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('1 signed lines were not verified');
    const r2 = await runCli(['webhooks', 'ingest', '-', '--require-signature'], { env: noSecret, stdin: '' });
    expect(r2.code).toBe(4);
  });
});

describe('wacx webhooks serve (in-process)', () => {
  let home: ReturnType<typeof tempHome>;
  beforeEach(() => {
    home = tempHome();
  });
  afterEach(() => home.cleanup());

  it('needs the app secret (config error, exit 4)', async () => {
    const r = await runCli(['webhooks', 'serve', '--port', '0'], { env: home.env });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/No app secret/);
    expect(r.stderr).toMatch(/WACX_APP_SECRET/);
    expect(
      (await runCli(['webhooks', 'serve', '--port', 'x'], { env: { ...home.env, WACX_APP_SECRET: 'x' } }))
        .code,
    ).toBe(2);
  });

  it('serves, prints one line per event (NDJSON with --json), and stops cleanly on abort', async () => {
    const db = join(home.home, 'wacx.db');
    const port = await freePort();
    const controller = new AbortController();
    const env = { ...home.env, WACX_DB: db, WACX_APP_SECRET: APP_SECRET, WACX_VERIFY_TOKEN: 'vt' };
    const running = runCli(['webhooks', 'serve', '--port', String(port), '--path', '/hook', '--json'], {
      env,
      signal: controller.signal,
    });
    const url = `http://127.0.0.1:${port}/hook`;
    const hs = await retryUntil(async () => {
      const res = await fetch(`${url}?hub.mode=subscribe&hub.verify_token=vt&hub.challenge=42`);
      return { status: res.status, text: await res.text() };
    });
    expect(hs).toEqual({ status: 200, text: '42' });
    const a = signedStatus('wamid.c1');
    expect((await post(url, a.body, { 'x-hub-signature-256': a.signature })).status).toBe(200);
    const b = JSON.stringify(echo('wamid.c2', '16505551234', 'hi from the app'));
    expect((await post(url, b, { 'x-hub-signature-256': sign(b) })).status).toBe(200);
    expect((await post(url, b, { 'x-hub-signature-256': sign(b, 'bad') })).status).toBe(401);
    controller.abort();
    const r = await running;
    expect(r.code).toBe(0);
    const out = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out.map((o) => o.type)).toEqual(['listening', 'event', 'event', 'rejected', 'stopped']);
    expect(out[1]).toMatchObject({ field: 'messages', kind: 'status', parsed: true });
    expect(out[2]).toMatchObject({ field: 'smb_message_echoes', kind: 'echo' });
    expect(out[4]).toMatchObject({ events: 2, rejected: 1 });
    expect(r.stderr).toContain('status delivered wamid.c1');
    expect(r.stderr).toContain('echo text to 16505551234');
    const s = Store.open(db);
    expect((s.db.prepare('SELECT COUNT(*) AS n FROM webhook_events').get() as { n: number }).n).toBe(2);
    s.close();
  });
});

describe('wacx webhooks serve under pressure (built CLI, child process)', () => {
  let home: ReturnType<typeof tempHome>;
  beforeEach(() => {
    home = tempHome();
  });
  afterEach(() => home.cleanup());

  /** A raw client that sends `data` and keeps the connection open; `received()` is what came back. */
  async function rawClient(port: number, data: string) {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString();
    });
    socket.on('error', () => {});
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    await new Promise<void>((r, j) => {
      socket.once('connect', () => r());
      socket.once('error', j);
    });
    if (data) socket.write(data);
    return { socket, closed, received: () => got };
  }
  const until = async (what: string, ok: () => boolean, ms = 20_000) => {
    const end = Date.now() + ms;
    while (!ok()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  // `npm test` builds first; run `npm run build` before running this file alone.
  it('prints 503 busy, 408 timeouts and refused connections (line, --json, summary) with what to do', async () => {
    const db = join(home.home, 'wacx.db');
    const child = spawn(
      process.execPath,
      [
        join(import.meta.dirname, '..', '..', 'bin', 'wacx.js'),
        ...['webhooks', 'serve', '--port', '0', '--json', '--max-body', '1kb'],
        ...['--max-buffered', '2kb', '--max-connections', '4'],
      ],
      { env: { ...home.env, WACX_DB: db, WACX_APP_SECRET: APP_SECRET }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const lines: Record<string, unknown>[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (l) => {
        const o = JSON.parse(l) as Record<string, unknown>;
        lines.push(o);
        if (o.type === 'listening') resolve(o.url as string);
      });
      child.once('exit', () => reject(new Error(`exited early: ${stderr}`)));
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const port = Number(new URL(url).port);
    const t0 = Date.now();
    try {
      // a client that never finishes its headers: cut at the header timeout (10 s) with 408
      const slow = await rawClient(port, 'POST /webhook HTTP/1.1\r\nHost: localhost\r\n');
      // two chunked uploads that stall after their headers: each reserves the body limit (1 KB) of the 2 KB budget
      const head = `POST /webhook HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256=${'0'.repeat(64)}\r\nTransfer-Encoding: chunked\r\n\r\n`;
      const held = [await rawClient(port, head), await rawClient(port, head)];
      // an authentic delivery does not fit: 503 + Retry-After, nothing read
      const a = signedStatus('wamid.busy');
      expect(Buffer.byteLength(a.body)).toBeLessThan(1024);
      const busy = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-hub-signature-256': a.signature },
        body: a.body,
      });
      expect(busy.status).toBe(503);
      expect(busy.headers.get('retry-after')).toBe('5');
      await busy.text();
      // 3 connections open (slow + 2 held); one more fills the cap of 4, the next is closed unread
      // (time for the server to close the answered connection, then to count the new one)
      await new Promise((r) => setTimeout(r, 1000));
      const idle = await rawClient(port, '');
      await new Promise((r) => setTimeout(r, 500));
      const over = await rawClient(port, '');
      await over.closed;
      expect(over.received()).toBe('');
      await until('the 503 and refused-connection lines', () =>
        ['overloaded', 'connections_refused'].every((t) => lines.some((l) => l.type === t)),
      );
      // (a connection that sends nothing is cut at the header timeout too: this one goes first)
      idle.socket.destroy();
      await slow.closed;
      expect(slow.received()).toMatch(/^HTTP\/1\.1 408 /);
      expect(Date.now() - t0).toBeGreaterThan(9000);
      await until('the 408 line', () => lines.some((l) => l.type === 'timed_out'));
      // once the uploads go, Meta's retry of the same delivery fits and is stored
      for (const c of held) c.socket.destroy();
      await Promise.all(held.map((c) => c.closed));
      await retryUntil(async () => {
        const r = await post(url, a.body, { 'x-hub-signature-256': a.signature });
        if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
      });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);

    expect(lines.find((l) => l.type === 'overloaded')).toEqual({
      type: 'overloaded',
      status: 503,
      retry_after_s: 5,
      max_buffered_bytes: 2048,
    });
    expect(lines.find((l) => l.type === 'connections_refused')).toEqual({
      type: 'connections_refused',
      count: 1,
      max_connections: 4,
    });
    expect(lines.find((l) => l.type === 'timed_out')).toEqual({ type: 'timed_out', status: 408, count: 1 });
    expect(lines.at(-1)).toMatchObject({
      type: 'stopped',
      events: 1,
      overloaded: 1,
      timed_out: 1,
      connections_refused: 1,
    });
    expect(stderr).toContain(
      '503 busy (1 request): the bodies in flight already hold the buffer budget (2 KB, --max-buffered), so nothing was read or stored; Meta retries later (Retry-After 5 s). If this repeats, raise --max-buffered or add replicas.',
    );
    expect(stderr).toContain(
      '1 connection refused: 4 were already open (--max-connections), so it was closed unread; Meta retries what it could not deliver. If this repeats, raise --max-connections or add replicas.',
    );
    expect(stderr).toContain(
      '408 timeout (1 request): the client did not send its headers within 10 s or its whole request within 30 s',
    );
    expect(stderr).toContain(
      'Stopped. 1 events stored from 1 deliveries, 0 duplicate deliveries, 0 rejected, 1 answered 503 busy, 1 timed out (408), 1 connection refused.',
    );
    const s = Store.open(db, { readonly: true });
    expect(s.db.prepare('SELECT wamid FROM message_statuses').all()).toEqual([{ wamid: 'wamid.busy' }]);
    s.close();
  }, 60_000);
});
