/**
 * Media (OpenAPI `/{Version}/{Media-ID}`): the media node with a short-lived URL, and that URL serving the bytes to
 * a caller with a valid token. The sandbox holds the media of its history imports (and any registered through the
 * control API, e.g. for echoes), with deterministic bytes whose sha256 the node reports.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Ctx, Result, SandboxCore } from './core.js';
import { gerr, invalidParam, SandboxGraphError } from './errors.js';
import { asciiJson, type ParsedRequest, send } from './http.js';
import { SEED } from './seed.js';
import type { World } from './world.js';

/** The image that the history import's media follow-up carries. */
export const HISTORY_MEDIA_ID = '24230790383178626';
/** Where the media URLs point (Meta's are on lookaside.fbsbx.com with the same path). */
export const MEDIA_DOWNLOAD_PATH = '/whatsapp_business/attachments/';
/** Meta: "The URL is only valid for 5 minutes." */
const URL_TTL_MS = 5 * 60_000;

export interface MediaState {
  id: string;
  mimeType: string;
  bytes: Buffer;
  sha256: string;
  phoneNumberId: string;
}

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'audio/ogg': 'ogg',
  'video/mp4': 'mp4',
  'application/pdf': 'pdf',
};

/** Deterministic content for a media id: a JPEG-looking header, then bytes derived from the id. */
function contentOf(id: string, mimeType: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash('sha256').update(`${mimeType}:${id}`).digest();
  for (let at = 0; at < size; at += block.length) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  if (mimeType === 'image/jpeg') Buffer.from([0xff, 0xd8, 0xff, 0xe0]).copy(out, 0);
  return out;
}

function makeMedia(id: string, mimeType: string, phoneNumberId: string, size: number): MediaState {
  const bytes = contentOf(id, mimeType, size);
  return { id, mimeType, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), phoneNumberId };
}

const registries = new WeakMap<World, Map<string, MediaState>>();

function registry(core: SandboxCore): Map<string, MediaState> {
  let r = registries.get(core.world);
  if (!r) {
    r = new Map();
    r.set(
      HISTORY_MEDIA_ID,
      makeMedia(HISTORY_MEDIA_ID, 'image/jpeg', SEED.phoneNumbers.coex.id, 48 * 1024 + 17),
    );
    registries.set(core.world, r);
  }
  return r;
}

export function mediaOf(core: SandboxCore, id: string): MediaState | undefined {
  return registry(core).get(id);
}

let mediaCounter = 0;
/** Registers media (control API), e.g. for an echo or inbound message a test emits. */
export function addMedia(
  core: SandboxCore,
  spec: { mime_type?: unknown; phone_number_id?: unknown; file_size?: unknown },
): MediaState {
  const mime = typeof spec.mime_type === 'string' ? spec.mime_type : 'image/jpeg';
  const size = Math.max(1, Math.min(8 * 1024 * 1024, Number(spec.file_size ?? 20_000) || 20_000));
  const pn = typeof spec.phone_number_id === 'string' ? spec.phone_number_id : SEED.phoneNumbers.coex.id;
  mediaCounter++;
  const id = String(27_000_000_000_000_000n + BigInt(mediaCounter));
  const m = makeMedia(id, mime, pn, size);
  registry(core).set(id, m);
  return m;
}

function signature(core: SandboxCore, id: string, expires: number): string {
  return createHmac('sha256', core.appSecret).update(`${id}:${expires}`).digest('hex').slice(0, 32);
}

/** `GET /{media-id}[?phone_number_id]`: the node with a URL valid for 5 minutes. */
export function getMedia(core: SandboxCore, ctx: Ctx, m: MediaState): Result {
  core.authenticate(ctx);
  const pn = ctx.req.query.phone_number_id;
  if (pn !== undefined && pn !== m.phoneNumberId) {
    throw invalidParam(`Media ${m.id} does not belong to phone number ${pn}`);
  }
  const expires = Math.floor((core.clock.now() + URL_TTL_MS) / 1000);
  const url = new URL(MEDIA_DOWNLOAD_PATH, core.url);
  url.searchParams.set('mid', m.id);
  url.searchParams.set('ext', String(expires));
  url.searchParams.set('hash', signature(core, m.id, expires));
  return {
    json: {
      messaging_product: 'whatsapp',
      url: url.href,
      mime_type: m.mimeType,
      sha256: m.sha256,
      file_size: String(m.bytes.length),
      id: m.id,
    },
  };
}

/** `DELETE /{media-id}`. */
export function deleteMedia(core: SandboxCore, ctx: Ctx, m: MediaState): Result {
  core.authenticate(ctx);
  registry(core).delete(m.id);
  return { json: { success: true } };
}

/** The media URL: the bytes, only with a valid token and before the URL expires. */
export function serveMediaDownload(
  core: SandboxCore,
  req: ParsedRequest,
  res: ServerResponse,
  headers: Record<string, string>,
  traceId: string,
): void {
  const fail = (e: SandboxGraphError) => send(res, e.status, asciiJson(e.body(traceId)), headers);
  try {
    if (req.method !== 'GET') throw gerr(100, 'Unsupported request method');
    core.authenticate({ req, version: '', traceId, headers });
    const id = req.query.mid ?? '';
    const expires = Number(req.query.ext);
    const given = Buffer.from(req.query.hash ?? '');
    const expected = Buffer.from(signature(core, id, expires));
    const m = mediaOf(core, id);
    if (!m || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw gerr(100, 'Invalid media URL', { status: 404 });
    }
    if (core.clock.now() >= expires * 1000) {
      throw gerr(100, 'The media URL has expired: retrieve the media node again for a new URL', {
        status: 404,
      });
    }
    headers['content-disposition'] = `attachment; filename=${m.id}.${EXTENSIONS[m.mimeType] ?? 'bin'}`;
    headers['content-type'] = m.mimeType;
    headers['content-length'] = String(m.bytes.length);
    res.writeHead(200, headers);
    res.end(m.bytes);
  } catch (error) {
    if (error instanceof SandboxGraphError) fail(error);
    else throw error;
  }
}
