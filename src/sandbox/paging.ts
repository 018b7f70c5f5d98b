/** Graph cursor paging: `limit`, `after`, `before`, answers `paging{cursors{before,after},next,previous}`. */
import type { Ctx, SandboxCore } from './core.js';
import { gerr } from './errors.js';

export function encodeCursor(id: string): string {
  return Buffer.from(`sbx:${id}`).toString('base64url');
}

function decodeCursor(cursor: string): string {
  const s = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!s.startsWith('sbx:'))
    throw gerr(100, `Invalid cursor: ${cursor}`, { details: 'The after/before cursor is not valid.' });
  return s.slice(4);
}

export function paginate<T extends { id: string }>(
  core: SandboxCore,
  ctx: Ctx,
  items: T[],
  render: (item: T) => Record<string, unknown>,
  defaultLimit = 25,
  maxLimit = 1000,
): { data: Record<string, unknown>[]; paging?: Record<string, unknown> } {
  const q = ctx.req.query;
  let limit = defaultLimit;
  if (q.limit !== undefined) {
    const n = Number(q.limit);
    if (!Number.isInteger(n) || n < 0)
      throw gerr(100, 'Invalid parameter', { details: `limit must be a positive integer, got ${q.limit}` });
    limit = Math.min(Math.max(n, 1), maxLimit);
  }
  let start = 0;
  let end = items.length;
  if (q.after) {
    const id = decodeCursor(q.after);
    const idx = items.findIndex((i) => i.id === id);
    start = idx === -1 ? items.length : idx + 1;
    end = Math.min(items.length, start + limit);
  } else if (q.before) {
    const id = decodeCursor(q.before);
    const idx = items.findIndex((i) => i.id === id);
    end = idx === -1 ? 0 : idx;
    start = Math.max(0, end - limit);
  } else {
    end = Math.min(items.length, limit);
  }
  const page = items.slice(start, end);
  const data = page.map(render);
  if (page.length === 0) return { data };
  const first = encodeCursor(page[0]!.id);
  const last = encodeCursor(page[page.length - 1]!.id);
  const paging: Record<string, unknown> = { cursors: { before: first, after: last } };
  const base = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (
      k === 'after' ||
      k === 'before' ||
      k === 'access_token' ||
      k === 'appsecret_proof' ||
      k === 'appsecret_time'
    )
      continue;
    base.set(k, v);
  }
  if (!base.has('limit')) base.set('limit', String(limit));
  const url = `${core.url}${ctx.req.pathname}`;
  if (end < items.length) {
    const p = new URLSearchParams(base);
    p.set('after', last);
    paging.next = `${url}?${p}`;
  }
  if (start > 0) {
    const p = new URLSearchParams(base);
    p.set('before', first);
    paging.previous = `${url}?${p}`;
  }
  return { data, paging };
}
