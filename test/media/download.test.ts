/** `wacx media download`: media of a history import (and of an echo) fetched from the sandbox like from Meta. */
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startTestSandbox, type TestSandbox } from '../helpers/sandbox.js';
import { graph } from '../sandbox/util.js';

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

interface HistoryImage {
  id: string;
  sha256: string;
  mime_type: string;
}

describe('wacx media download', () => {
  let sb: TestSandbox;
  let image: HistoryImage;
  let dir: string;

  beforeAll(async () => {
    sb = await startTestSandbox({ seedActivity: true });
    dir = mkdtempSync(join(tmpdir(), 'wacx-media-'));
    // the media follow-up of the history import: value.messages[] on field history
    const hooks =
      await sb.control<{ body: { entry: { changes: { value: Record<string, unknown> }[] }[] } }[]>(
        'webhooks?field=history',
      );
    const followUp = hooks
      .map((h) => h.body.entry[0]!.changes[0]!.value)
      .find((v) => Array.isArray(v.messages)) as { messages: { image: HistoryImage }[] };
    image = followUp.messages[0]!.image;
  });
  afterAll(async () => {
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('downloads a history media id: the bytes match the webhook sha256; --json prints the metadata', async () => {
    const r = await runCli(['media', 'download', image.id, '-o', dir, '--json'], { env: sb.env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const file = join(dir, `${image.id}.jpg`);
    expect(JSON.parse(r.stdout)).toEqual({
      id: image.id,
      mime_type: 'image/jpeg',
      sha256: image.sha256,
      file_size: statSync(file).size,
      file,
    });
    expect(sha256(file)).toBe(image.sha256);
    expect(readdirSync(dir)).toEqual([`${image.id}.jpg`]);
  });

  it('refuses to overwrite without --force (exit 2, nothing fetched), and replaces with it', async () => {
    const file = join(dir, 'photo.jpg');
    writeFileSync(file, 'keep me');
    // a Graph URL on which any request would fail: exit 2 proves none was made
    const offline = sb.env({ WACX_GRAPH_URL: 'http://127.0.0.1:9' });
    const refused = await runCli(['media', 'download', image.id, '-o', file], { env: offline });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${file} exists; nothing was downloaded.`);
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(file, 'utf8')).toBe('keep me');

    const forced = await runCli(['media', 'download', image.id, '-o', file, '--force'], { env: sb.env() });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toBe(`${file}\n`);
    expect(forced.stderr).toContain('sha256 verified');
    expect(sha256(file)).toBe(image.sha256);
    expect(readdirSync(dir).filter((n) => n.endsWith('.part'))).toEqual([]);
  });

  it('a bad -o path or media id is exit 2 before any request', async () => {
    const offline = sb.env({ WACX_GRAPH_URL: 'http://127.0.0.1:9' });
    const missing = join(dir, 'no', 'such', 'dir', 'x.jpg');
    const r = await runCli(['media', 'download', image.id, '-o', missing], { env: offline });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`-o/--output ${missing}`);
    expect(r.stderr).toContain('Nothing was downloaded.');
    expect(existsSync(join(dir, 'no'))).toBe(false);

    const notFile = join(dir, 'plain');
    writeFileSync(notFile, '');
    const under = await runCli(['media', 'download', image.id, '-o', join(notFile, 'x.jpg')], {
      env: offline,
    });
    expect(under.code).toBe(2);

    const badId = await runCli(['media', 'download', 'wamid.abc'], { env: offline });
    expect(badId.code).toBe(2);
    expect(badId.stderr).toContain('is not a media id');
  });

  it('an unknown media id is the API error (exit 1), and no file is left', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'wacx-media-none-'));
    try {
      const r = await runCli(['media', 'download', '999999999', '-o', empty], { env: sb.env() });
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("Object with ID '999999999' does not exist");
      expect(readdirSync(empty)).toEqual([]);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('media of an echo (registered in the sandbox) downloads with its extension', async () => {
    const m = await sb.control<{ id: string; sha256: string }>('media', { mime_type: 'application/pdf' });
    const sub = join(dir, 'docs');
    mkdirSync(sub);
    const r = await runCli(['media', 'download', m.id, '-o', `${sub}/`], { env: sb.env() });
    expect(r.code).toBe(0);
    expect(sha256(join(sub, `${m.id}.pdf`))).toBe(m.sha256);
  });
});

describe('the sandbox media node and URL', () => {
  let sb: TestSandbox;
  beforeAll(async () => {
    sb = await startTestSandbox();
  });
  afterAll(() => sb.close());

  it('the URL serves the bytes only with a token, and only for 5 minutes', async () => {
    const g = graph(sb.url);
    const node = await g.get('24230790383178626');
    expect(node.status).toBe(200);
    expect(node.body).toMatchObject({
      messaging_product: 'whatsapp',
      mime_type: 'image/jpeg',
      id: '24230790383178626',
    });
    expect(typeof node.body.file_size).toBe('string');
    const url: string = node.body.url;

    const anonymous = await fetch(url);
    expect(anonymous.status).toBe(400);
    const withToken = await fetch(url, { headers: { authorization: `Bearer ${sb.seed.token}` } });
    expect(withToken.status).toBe(200);
    expect(withToken.headers.get('content-type')).toBe('image/jpeg');
    const bytes = Buffer.from(await withToken.arrayBuffer());
    expect(bytes.length).toBe(Number(node.body.file_size));
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(node.body.sha256);

    const wrongNumber = await g.get('24230790383178626?phone_number_id=5000000000000002');
    expect(wrongNumber.body.error.code).toBe(100);

    await sb.control('clock', { advance_ms: 5 * 60_000 });
    const late = await fetch(url, { headers: { authorization: `Bearer ${sb.seed.token}` } });
    expect(late.status).toBe(404);
    expect(((await late.json()) as { error: { message: string } }).error.message).toContain('expired');
  });
});
