import { createHash } from 'node:crypto';
import { parseUnixSeconds } from '../graph/time.js';
import { optOutKeyword } from './opt-out.js';

/**
 * Pure parsing of a webhook payload (already verified and JSON-decoded) into events: one event per status,
 * inbound message, echo, history chunk, contact action, account update, template status change… Each event
 * carries a stable dedupe key, so a redelivered payload (or the same change inside another batch) maps to
 * the same keys. Unknown fields and kinds become `unparsed` events keyed by a hash of their canonical JSON.
 * Shapes: meta-cloud-api.md §2 and §6.3.
 */

export type EventKind =
  | 'status'
  | 'message'
  | 'user_preference'
  | 'echo'
  | 'contact'
  | 'history_chunk'
  | 'history_error'
  | 'history_media'
  | 'account_update'
  | 'template_status'
  | 'unparsed';

export interface StatusRow {
  wamid: string;
  status: string;
  timestamp: number;
  recipientId: string | null;
  callbackData: string | null;
  errorCode: number | null;
  errorTitle: string | null;
  errorDetails: string | null;
  pricingCategory: string | null;
  pricingType: string | null;
}
export interface OptOutRow {
  recipient: string;
  optedOut: boolean;
  source: 'keyword' | 'user_preferences';
  keyword: string | null;
  at: number;
}
export interface InboundRow {
  wamid: string;
  from: string | null;
  fromUserId: string | null;
  type: string;
  text: string | null;
  timestamp: number;
  errorCode: number | null;
  optOut: OptOutRow | null;
}
export interface EchoRow {
  wamid: string;
  to: string | null;
  type: string;
  text: string | null;
  timestamp: number;
}
export interface ContactRow {
  action: string;
  phoneNumber: string | null;
  userId: string | null;
  fullName: string | null;
  firstName: string | null;
  timestamp: number | null;
}
export interface HistoryMessageRow {
  threadId: string | null;
  wamid: string;
  from: string | null;
  to: string | null;
  type: string;
  text: string | null;
  status: string | null;
  timestamp: number | null;
}
export interface HistoryChunkRow {
  phase: number | null;
  chunkOrder: number | null;
  progress: number | null;
  threads: number;
  messages: HistoryMessageRow[];
}
export interface HistoryErrorRow {
  code: number | null;
  title: string | null;
  details: string | null;
}
export interface HistoryMediaRow {
  wamid: string;
  from: string | null;
  to: string | null;
  type: string;
  mediaId: string | null;
  mimeType: string | null;
  text: string | null;
  timestamp: number | null;
}
export interface AccountUpdateRow {
  event: string;
  phoneNumber: string | null;
  reason: string | null;
  initiatedBy: string | null;
}
export interface TemplateStatusRow {
  templateId: string | null;
  templateName: string | null;
  language: string | null;
  event: string;
  reason: string | null;
  category: string | null;
}

export type EventDetail =
  | { kind: 'status'; row: StatusRow }
  | { kind: 'message'; row: InboundRow }
  | { kind: 'user_preference'; row: OptOutRow & { category: string | null } }
  | { kind: 'echo'; row: EchoRow }
  | { kind: 'contact'; row: ContactRow }
  | { kind: 'history_chunk'; row: HistoryChunkRow }
  | { kind: 'history_error'; row: HistoryErrorRow }
  | { kind: 'history_media'; row: HistoryMediaRow }
  | { kind: 'account_update'; row: AccountUpdateRow }
  | { kind: 'template_status'; row: TemplateStatusRow }
  | { kind: 'unparsed'; row: null };

export type ParsedEvent = EventDetail & {
  key: string;
  field: string;
  wabaId: string | null;
  phoneNumberId: string | null;
  /** When it happened according to the payload (ms), if the payload says. */
  occurredAt: number | null;
  /** One line for people. */
  summary: string;
  /** The JSON of the item (the change value, or the status/message/chunk inside it). */
  data: unknown;
};

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function str(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}
function int(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v.trim());
  return null;
}

/** JSON with object keys sorted: the same content always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isObj(value)) {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 32);
}

/** The human text of a message object of any type (text body, caption, button title…). */
export function messageText(m: Obj): string | null {
  const type = str(m.type);
  const inner = type && isObj(m[type]) ? (m[type] as Obj) : undefined;
  if (type === 'text' && inner) return str(inner.body);
  if (type === 'button' && inner) return str(inner.text) ?? str(inner.payload);
  if (type === 'interactive' && inner) {
    const reply = (
      isObj(inner.button_reply) ? inner.button_reply : isObj(inner.list_reply) ? inner.list_reply : undefined
    ) as Obj | undefined;
    return reply ? str(reply.title) : null;
  }
  if (inner && typeof inner.caption === 'string') return inner.caption;
  return null;
}

function errorOf(v: unknown): { code: number | null; title: string | null; details: string | null } | null {
  const e = arr(v)[0];
  if (!isObj(e)) return null;
  const data = isObj(e.error_data) ? e.error_data : undefined;
  return {
    code: int(e.code),
    title: str(e.title) ?? str(e.message),
    details: data ? str(data.details) : null,
  };
}

const digits = (s: string | null): string | null => (s ? s.replace(/\D/g, '') || null : null);

interface Ctx {
  field: string;
  wabaId: string | null;
  entryTime: number | null;
  phoneNumberId: string | null;
}

function base(ctx: Ctx, key: string, summary: string, data: unknown, occurredAt: number | null) {
  return {
    key,
    field: ctx.field,
    wabaId: ctx.wabaId,
    phoneNumberId: ctx.phoneNumberId,
    occurredAt,
    summary,
    data,
  };
}

function unparsed(ctx: Ctx, value: unknown, why: string): ParsedEvent {
  const key = `${ctx.field}/raw/${hashOf({ waba: ctx.wabaId, time: ctx.entryTime, value })}`;
  return {
    ...base(ctx, key, `${ctx.field}: ${why} (stored raw)`, value, ctx.entryTime),
    kind: 'unparsed',
    row: null,
  };
}

function parseMessagesValue(ctx: Ctx, value: Obj): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const pn = ctx.phoneNumberId ?? '';
  for (const s of arr(value.statuses)) {
    if (!isObj(s) || !str(s.id) || !str(s.status)) {
      out.push(unparsed(ctx, s, 'status without id or status'));
      continue;
    }
    const err = errorOf(s.errors);
    const pricing = isObj(s.pricing) ? s.pricing : {};
    const row: StatusRow = {
      wamid: str(s.id)!,
      status: str(s.status)!,
      timestamp: parseUnixSeconds(s.timestamp) ?? ctx.entryTime ?? 0,
      recipientId: str(s.recipient_id) || str(s.recipient_user_id),
      callbackData: str(s.biz_opaque_callback_data),
      errorCode: err?.code ?? null,
      errorTitle: err?.title ?? null,
      errorDetails: err?.details ?? null,
      pricingCategory: str(pricing.category),
      pricingType: str(pricing.type),
    };
    const key = `messages/status/${pn}/${row.wamid}/${row.status}/${row.timestamp}/${row.errorCode ?? ''}`;
    const summary = `status ${row.status} ${row.wamid}${row.recipientId ? ` to ${row.recipientId}` : ''}${
      row.errorCode !== null ? ` error ${row.errorCode}` : ''
    }${row.callbackData ? ` [${row.callbackData}]` : ''}`;
    out.push({ ...base(ctx, key, summary, s, row.timestamp), kind: 'status', row });
  }
  for (const m of arr(value.messages)) {
    if (!isObj(m) || !str(m.id)) {
      out.push(unparsed(ctx, m, 'message without id'));
      continue;
    }
    const type = str(m.type) ?? 'unknown';
    const text = messageText(m);
    const from = str(m.from) || null;
    const timestamp = parseUnixSeconds(m.timestamp) ?? ctx.entryTime ?? 0;
    const keyword =
      type === 'text' || type === 'button' || type === 'interactive' ? optOutKeyword(text) : null;
    const recipient = digits(from);
    const row: InboundRow = {
      wamid: str(m.id)!,
      from,
      fromUserId: str(m.from_user_id),
      type,
      text,
      timestamp,
      errorCode: errorOf(m.errors)?.code ?? null,
      optOut:
        keyword && recipient
          ? { recipient, optedOut: keyword.optOut, source: 'keyword', keyword: keyword.word, at: timestamp }
          : null,
    };
    const key = `messages/message/${pn}/${row.wamid}`;
    const summary = `message ${type} from ${from ?? row.fromUserId ?? '?'}${
      row.optOut ? (row.optOut.optedOut ? ` (opt-out: ${keyword?.word})` : ` (opt-in: ${keyword?.word})`) : ''
    }`;
    out.push({ ...base(ctx, key, summary, m, timestamp), kind: 'message', row });
  }
  if (!Array.isArray(value.statuses) && !Array.isArray(value.messages))
    out.push(unparsed(ctx, value, 'unknown kind'));
  return out;
}

function parseUserPreferences(ctx: Ctx, value: Obj): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const prefs = arr(value.user_preferences);
  if (prefs.length === 0) return [unparsed(ctx, value, 'unknown kind')];
  for (const p of prefs) {
    const recipient = isObj(p) ? digits(str(p.wa_id)) : null;
    const v = isObj(p) ? str(p.value)?.toLowerCase() : null;
    if (!isObj(p) || !recipient || (v !== 'stop' && v !== 'resume')) {
      out.push(unparsed(ctx, p, 'unknown user preference'));
      continue;
    }
    const at = parseUnixSeconds(p.timestamp) ?? ctx.entryTime ?? 0;
    const row = {
      recipient,
      optedOut: v === 'stop',
      source: 'user_preferences' as const,
      keyword: v,
      at,
      category: str(p.category),
    };
    const key = `user_preferences/${ctx.phoneNumberId ?? ''}/${hashOf(p)}`;
    out.push({
      ...base(ctx, key, `user preference ${row.category ?? ''} ${v} from ${recipient}`, p, at),
      kind: 'user_preference',
      row,
    });
  }
  return out;
}

function parseEchoes(ctx: Ctx, value: Obj): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const echoes = arr(value.message_echoes);
  if (echoes.length === 0) return [unparsed(ctx, value, 'unknown kind')];
  for (const m of echoes) {
    if (!isObj(m) || !str(m.id)) {
      out.push(unparsed(ctx, m, 'echo without id'));
      continue;
    }
    const row: EchoRow = {
      wamid: str(m.id)!,
      to: str(m.to) || str(m.to_user_id),
      type: str(m.type) ?? 'unknown',
      text: messageText(m),
      timestamp: parseUnixSeconds(m.timestamp) ?? ctx.entryTime ?? 0,
    };
    const key = `smb_message_echoes/${ctx.phoneNumberId ?? ''}/${row.wamid}/${row.type}`;
    out.push({
      ...base(
        ctx,
        key,
        `echo ${row.type} to ${row.to ?? '?'} (sent from the Business App)`,
        m,
        row.timestamp,
      ),
      kind: 'echo',
      row,
    });
  }
  return out;
}

function parseStateSync(ctx: Ctx, value: Obj): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const items = arr(value.state_sync);
  if (items.length === 0) return [unparsed(ctx, value, 'unknown kind')];
  for (const s of items) {
    if (!isObj(s) || str(s.type) !== 'contact' || !isObj(s.contact) || !str(s.action)) {
      out.push(unparsed(ctx, s, 'unknown state sync item'));
      continue;
    }
    const c = s.contact;
    const meta = isObj(s.metadata) ? s.metadata : {};
    const row: ContactRow = {
      action: str(s.action)!.toLowerCase(),
      phoneNumber: digits(str(c.phone_number)),
      userId: str(c.user_id),
      fullName: str(c.full_name),
      firstName: str(c.first_name),
      timestamp: parseUnixSeconds(meta.timestamp),
    };
    const key = `smb_app_state_sync/${ctx.phoneNumberId ?? ''}/${hashOf(s)}`;
    const who = row.fullName
      ? `${row.fullName} (${row.phoneNumber ?? row.userId ?? '?'})`
      : (row.phoneNumber ?? row.userId ?? '?');
    out.push({ ...base(ctx, key, `contact ${row.action} ${who}`, s, row.timestamp), kind: 'contact', row });
  }
  return out;
}

function historyMessage(m: Obj, threadId: string | null): HistoryMessageRow | null {
  const wamid = str(m.id);
  if (!wamid) return null;
  const hc = isObj(m.history_context) ? m.history_context : {};
  return {
    threadId,
    wamid,
    from: str(m.from),
    to: str(m.to),
    type: str(m.type) ?? 'unknown',
    text: messageText(m),
    status: str(hc.status),
    timestamp: parseUnixSeconds(m.timestamp),
  };
}

function parseHistory(ctx: Ctx, value: Obj): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const pn = ctx.phoneNumberId ?? '';
  for (const h of arr(value.history)) {
    if (!isObj(h)) {
      out.push(unparsed(ctx, h, 'unknown history item'));
      continue;
    }
    const err = errorOf(h.errors);
    if (err) {
      const key = `history/error/${pn}/${hashOf(h)}`;
      const summary =
        err.code === 2593109
          ? 'history declined (2593109): the business turned off history sharing in the Business App'
          : `history error ${err.code ?? '?'}: ${err.title ?? ''}`;
      out.push({ ...base(ctx, key, summary, h, ctx.entryTime), kind: 'history_error', row: err });
      continue;
    }
    const meta = isObj(h.metadata) ? h.metadata : {};
    const threads = arr(h.threads);
    const messages: HistoryMessageRow[] = [];
    for (const t of threads) {
      if (!isObj(t)) continue;
      const threadId = str(t.id) ?? str(t.wa_id) ?? str(t.user_id);
      for (const m of arr(t.messages)) {
        const row = isObj(m) ? historyMessage(m, threadId) : null;
        if (row) messages.push(row);
      }
    }
    const row: HistoryChunkRow = {
      phase: int(meta.phase),
      chunkOrder: int(meta.chunk_order),
      progress: int(meta.progress),
      threads: threads.length,
      messages,
    };
    if (row.phase === null && row.chunkOrder === null && row.progress === null && threads.length === 0) {
      out.push(unparsed(ctx, h, 'unknown history item'));
      continue;
    }
    const key = `history/chunk/${pn}/${hashOf(h)}`;
    const summary = `history phase ${row.phase ?? '?'} chunk ${row.chunkOrder ?? '?'} progress ${row.progress ?? '?'}% (${
      row.threads
    } threads, ${messages.length} messages)`;
    // the chunk itself stays in the raw payload; the event keeps its metadata (chunks can be large)
    const data = { metadata: h.metadata ?? null, threads: row.threads, messages: messages.length };
    out.push({ ...base(ctx, key, summary, data, ctx.entryTime), kind: 'history_chunk', row });
  }
  // Media follow-ups: value.messages[] (user → business) or value.message_echoes[] (business → user)
  for (const listKey of ['messages', 'message_echoes'] as const) {
    for (const m of arr(value[listKey])) {
      if (!isObj(m) || !str(m.id)) {
        out.push(unparsed(ctx, m, 'history media without id'));
        continue;
      }
      const type = str(m.type) ?? 'unknown';
      const media = isObj(m[type]) ? (m[type] as Obj) : {};
      const row: HistoryMediaRow = {
        wamid: str(m.id)!,
        from: str(m.from),
        to: str(m.to),
        type,
        mediaId: str(media.id),
        mimeType: str(media.mime_type),
        text: messageText(m),
        timestamp: parseUnixSeconds(m.timestamp),
      };
      const key = `history/media/${pn}/${row.wamid}/${row.mediaId ?? hashOf(m)}`;
      out.push({
        ...base(ctx, key, `history media ${type} for ${row.wamid}`, m, row.timestamp),
        kind: 'history_media',
        row,
      });
    }
  }
  if (out.length === 0) out.push(unparsed(ctx, value, 'unknown kind'));
  return out;
}

function parseAccountUpdate(ctx: Ctx, value: Obj): ParsedEvent[] {
  const event = str(value.event);
  if (!event) return [unparsed(ctx, value, 'unknown kind')];
  const info = isObj(value.disconnection_info) ? value.disconnection_info : {};
  const row: AccountUpdateRow = {
    event,
    phoneNumber: digits(str(value.phone_number)),
    reason: str(info.reason) ?? (isObj(value.ban_info) ? str(value.ban_info.waba_ban_state) : null),
    initiatedBy: str(info.initiated_by),
  };
  const key = `account_update/${hashOf({ waba: ctx.wabaId, time: ctx.entryTime, value })}`;
  const summary = `account ${event}${row.phoneNumber ? ` ${row.phoneNumber}` : ''}${row.reason ? ` reason ${row.reason}` : ''}${
    row.initiatedBy ? ` by ${row.initiatedBy}` : ''
  }`;
  return [{ ...base(ctx, key, summary, value, ctx.entryTime), kind: 'account_update', row }];
}

function parseTemplateStatus(ctx: Ctx, value: Obj): ParsedEvent[] {
  const event = str(value.event);
  if (!event) return [unparsed(ctx, value, 'unknown kind')];
  const row: TemplateStatusRow = {
    templateId: str(value.message_template_id),
    templateName: str(value.message_template_name),
    language: str(value.message_template_language),
    event,
    reason: str(value.reason),
    category: str(value.message_template_category),
  };
  const key = `message_template_status_update/${hashOf({ waba: ctx.wabaId, time: ctx.entryTime, value })}`;
  const summary = `template ${row.templateName ?? row.templateId ?? '?'} (${row.language ?? '?'}) ${event}${
    row.reason && row.reason !== 'NONE' ? ` reason ${row.reason}` : ''
  }`;
  return [{ ...base(ctx, key, summary, value, ctx.entryTime), kind: 'template_status', row }];
}

const PARSERS: Record<string, (ctx: Ctx, value: Obj) => ParsedEvent[]> = {
  messages: parseMessagesValue,
  user_preferences: parseUserPreferences,
  smb_message_echoes: parseEchoes,
  smb_app_state_sync: parseStateSync,
  history: parseHistory,
  account_update: parseAccountUpdate,
  message_template_status_update: parseTemplateStatus,
};

export const PARSED_FIELDS = Object.keys(PARSERS);

/** Every event in a decoded payload. Never throws: what it cannot understand becomes an `unparsed` event. */
export function parsePayload(payload: unknown): ParsedEvent[] {
  const events: ParsedEvent[] = [];
  const entries = isObj(payload) ? payload.entry : undefined;
  if (!Array.isArray(entries) || entries.length === 0) {
    const ctx: Ctx = { field: '(payload)', wabaId: null, entryTime: null, phoneNumberId: null };
    return [unparsed(ctx, payload, 'not a WhatsApp Business Account payload')];
  }
  for (const entry of entries) {
    const entryObj = isObj(entry) ? entry : {};
    const wabaId = str(entryObj.id);
    const entryTime = parseUnixSeconds(entryObj.time);
    const changes = arr(entryObj.changes);
    if (changes.length === 0) {
      events.push(
        unparsed(
          { field: '(entry)', wabaId, entryTime, phoneNumberId: null },
          entry,
          'entry without changes',
        ),
      );
      continue;
    }
    for (const change of changes) {
      const field = (isObj(change) ? str(change.field) : null) ?? '(unknown)';
      const value = isObj(change) ? change.value : undefined;
      const meta = isObj(value) && isObj(value.metadata) ? value.metadata : {};
      const ctx: Ctx = { field, wabaId, entryTime, phoneNumberId: str(meta.phone_number_id) };
      const parser = PARSERS[field];
      if (!parser || !isObj(value)) {
        events.push(unparsed(ctx, change, parser ? 'change without value' : `field "${field}" not handled`));
        continue;
      }
      try {
        events.push(...parser(ctx, value));
      } catch {
        events.push(unparsed(ctx, change, 'could not be parsed'));
      }
    }
  }
  return events;
}
