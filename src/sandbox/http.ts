/** Small node:http helpers for the sandbox server (no client code, no undici). */

import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const NON_ASCII = /[\u0080-\uffff]/g;
const HAS_NON_ASCII = /[\u0080-\uffff]/;

/** JSON with every non-ASCII UTF-16 unit written as \uXXXX (and optionally `/` as `\/`), like Meta's bodies. */
export function asciiJson(value: unknown, escapeSlashes = false): string {
  let s = JSON.stringify(value);
  if (HAS_NON_ASCII.test(s))
    s = s.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (escapeSlashes) s = s.replace(/\//g, '\\/');
  return s;
}

const TRACE_PREFIX = randomBytes(6).toString('base64url');
let traceCounter = 0;
/** A unique, cheap x-fb-trace-id. */
export function newTraceId(): string {
  traceCounter = (traceCounter + 1) % 0x7fffffff;
  return `A${TRACE_PREFIX}${traceCounter.toString(36).padStart(6, '0')}`;
}

export type Params = Record<string, unknown>;

export interface ParsedRequest {
  method: string;
  /** Path without query, e.g. `/v25.0/123/messages`. */
  pathname: string;
  segments: string[];
  query: Record<string, string>;
  body: Params;
  rawBody: string;
  headers: IncomingMessage['headers'];
}

export function parseQuery(qs: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!qs) return out;
  for (const [k, v] of new URLSearchParams(qs)) out[k] = v;
  return out;
}

export const MAX_BODY = 8 * 1024 * 1024;

export class BodyTooLarge extends Error {}

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new BodyTooLarge('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () =>
      resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
  });
}

export class BadBody extends Error {}

/** JSON or form bodies, both as an object (form values stay strings). */
export function parseBody(raw: string, contentType: string | undefined): Params {
  if (!raw) return {};
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('application/x-www-form-urlencoded')) return parseQuery(raw);
  if (ct.includes('multipart/form-data'))
    throw new BadBody('multipart bodies are not supported by the sandbox');
  try {
    const v: unknown = JSON.parse(raw);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Params;
    throw new BadBody('the JSON body must be an object');
  } catch (error) {
    if (error instanceof BadBody) throw error;
    // Graph also accepts form bodies without a content type
    if (!ct.includes('json') && /^[\w.%-]+=/.test(raw)) return parseQuery(raw);
    throw new BadBody('the body is not valid JSON');
  }
}

export function send(
  res: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string>,
  contentType = 'application/json; charset=UTF-8',
): void {
  headers['content-type'] = contentType;
  headers['content-length'] = String(Buffer.byteLength(body));
  res.writeHead(status, headers);
  res.end(body);
}

/** Reads a parameter from the body first, then the query. Graph accepts both for POST. */
export function param(req: ParsedRequest, name: string): unknown {
  const b = req.body[name];
  return b !== undefined ? b : req.query[name];
}

export function strParam(req: ParsedRequest, name: string): string | undefined {
  const v = param(req, name);
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string'
    ? v
    : typeof v === 'number' || typeof v === 'boolean'
      ? String(v)
      : JSON.stringify(v);
}

/** A parameter that may be a JSON string (form bodies) or already an object/array. */
export function jsonParam(req: ParsedRequest, name: string): unknown {
  const v = param(req, name);
  if (typeof v === 'string') {
    const t = v.trim();
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        return JSON.parse(t);
      } catch {
        return v;
      }
    }
  }
  return v;
}
