import { createHash } from 'node:crypto';
import { optOutKeyword } from './opt-out.js';
import * as shape from './shapes.js';
import { read } from './shapes.js';

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
  /** The recipient's business-scoped user id (BSUID), when Meta sends one. */
  toUserId: string | null;
  type: string;
  /** The text; for an edit, the new text. */
  text: string | null;
  /** The message an edit or a revoke applies to. */
  originalMessageId: string | null;
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
  /** What could not be read (a time out of range, items beyond the cap…); the raw payload keeps it all. */
  problems: string[];
};

/**
 * Items parsed per array (statuses, messages, echoes, history chunks, threads, messages of a thread…). The rest
 * of a longer array is kept in the raw payload only, and the event says so: parsing costs at most linear time and
 * memory in the size of the body, whatever it holds.
 */
export const MAX_ITEMS_PER_ARRAY = 10_000;

/** The largest time a JavaScript Date holds (±8.64e15 ms, about 275,000 years). */
const MAX_TIME_MS = 8.64e15;

/** `ms` when a Date can hold it; otherwise null, and a problem naming `what`. */
function when(ms: number | null, what: string, problems: string[]): number | null {
  if (ms === null) return null;
  if (Number.isFinite(ms) && Math.abs(ms) <= MAX_TIME_MS) return ms;
  problems.push(`${what} out of range (kept in the raw payload only)`);
  return null;
}

type JsonFrame =
  | { items: unknown[]; keys: null; i: number }
  | { items: Record<string, unknown>; keys: string[]; i: number };

/**
 * JSON with object keys sorted: the same content always gives the same text. Iterative, so that no nesting
 * depth can overflow the stack; time and memory linear in the size of the value.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  const stack: JsonFrame[] = [];
  const open = (v: unknown) => {
    if (Array.isArray(v)) {
      out.push('[');
      stack.push({ items: v, keys: null, i: 0 });
    } else if (typeof v === 'object' && v !== null) {
      const object = v as Record<string, unknown>;
      out.push('{');
      stack.push({
        items: object,
        keys: Object.keys(object)
          .sort()
          .filter((k) => object[k] !== undefined),
        i: 0,
      });
    } else {
      out.push(JSON.stringify(v) ?? 'null');
    }
  };
  open(value);
  for (let top = stack.at(-1); top; top = stack.at(-1)) {
    if (top.keys === null) {
      if (top.i >= top.items.length) {
        out.push(']');
        stack.pop();
        continue;
      }
      if (top.i > 0) out.push(',');
      open(top.items[top.i++]);
    } else {
      if (top.i >= top.keys.length) {
        out.push('}');
        stack.pop();
        continue;
      }
      const key = top.keys[top.i++] as string;
      out.push(`${top.i > 1 ? ',' : ''}${JSON.stringify(key)}:`);
      open(top.items[key]);
    }
  }
  return out.join('');
}

export function hashOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 32);
}

/** The human text of a message of any type (text body, caption, button title…): its content is under `type`. */
function messageText(m: { type: string | null; [key: string]: unknown }): string | null {
  const content = m.type ? read(shape.MessageContent, m[m.type]) : undefined;
  if (!content) return null;
  if (m.type === 'text') return content.body;
  if (m.type === 'button') return content.text ?? content.payload;
  if (m.type === 'interactive') {
    const reply = content.button_reply ?? content.list_reply;
    return reply ? reply.title : null;
  }
  return content.caption;
}

const digits = (s: string | null): string | null => (s ? s.replace(/\D/g, '') || null : null);

interface Ctx {
  field: string;
  wabaId: string | null;
  entryTime: number | null;
  phoneNumberId: string | null;
  /** Problems of the entry itself (its time), carried by each of its events. */
  problems: string[];
}

function base(
  ctx: Ctx,
  key: string,
  summary: string,
  data: unknown,
  occurredAt: number | null,
  problems: string[] = [],
) {
  return {
    key,
    field: ctx.field,
    wabaId: ctx.wabaId,
    phoneNumberId: ctx.phoneNumberId,
    occurredAt,
    summary,
    data,
    problems: [...ctx.problems, ...problems],
  };
}

function unparsed(ctx: Ctx, value: unknown, why: string, problems: string[] = []): ParsedEvent {
  const key = `${ctx.field}/raw/${hashOf({ waba: ctx.wabaId, time: ctx.entryTime, value })}`;
  return {
    ...base(ctx, key, `${ctx.field}: ${why} (stored raw)`, value, ctx.entryTime, problems),
    kind: 'unparsed',
    row: null,
  };
}

/**
 * The first MAX_ITEMS_PER_ARRAY items of `items`, and for the rest (if any) one `unparsed` event that says how
 * many `what` were left in the raw payload (keyed by their content, so a redelivery maps to the same key).
 */
function capped(ctx: Ctx, items: unknown[], what: string): [unknown[], ParsedEvent | null] {
  if (items.length <= MAX_ITEMS_PER_ARRAY) return [items, null];
  const rest = items.slice(MAX_ITEMS_PER_ARRAY);
  const problem = `${rest.length} ${what} beyond the first ${MAX_ITEMS_PER_ARRAY} kept in the raw payload only`;
  const key = `${ctx.field}/overflow/${ctx.phoneNumberId ?? ''}/${hashOf({ waba: ctx.wabaId, time: ctx.entryTime, what, rest })}`;
  const event: ParsedEvent = {
    ...base(ctx, key, `${ctx.field}: ${problem}`, { [what]: rest.length }, ctx.entryTime, [problem]),
    kind: 'unparsed',
    row: null,
  };
  return [items.slice(0, MAX_ITEMS_PER_ARRAY), event];
}

type ChangeValue = Record<string, unknown>;

function parseMessagesValue(ctx: Ctx, value: ChangeValue): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const pn = ctx.phoneNumberId ?? '';
  const { statuses, messages } = shape.MessagesValue.parse(value);
  const [someStatuses, moreStatuses] = capped(ctx, statuses ?? [], 'statuses');
  const [someMessages, moreMessages] = capped(ctx, messages ?? [], 'messages');
  for (const raw of someStatuses) {
    const s = read(shape.Status, raw);
    if (!s?.id || !s.status) {
      out.push(unparsed(ctx, raw, 'status without id or status'));
      continue;
    }
    const problems: string[] = [];
    const at = when(s.timestamp, 'timestamp', problems) ?? ctx.entryTime;
    const row: StatusRow = {
      wamid: s.id,
      status: s.status,
      timestamp: at ?? 0,
      recipientId: s.recipient_id || s.recipient_user_id,
      callbackData: s.biz_opaque_callback_data,
      errorCode: s.errors?.code ?? null,
      errorTitle: s.errors ? (s.errors.title ?? s.errors.message) : null,
      errorDetails: s.errors?.error_data.details ?? null,
      pricingCategory: s.pricing.category,
      pricingType: s.pricing.type,
    };
    const key = `messages/status/${pn}/${row.wamid}/${row.status}/${row.timestamp}/${row.errorCode ?? ''}`;
    const summary = `status ${row.status} ${row.wamid}${row.recipientId ? ` to ${row.recipientId}` : ''}${
      row.errorCode !== null ? ` error ${row.errorCode}` : ''
    }${row.callbackData ? ` [${row.callbackData}]` : ''}`;
    out.push({ ...base(ctx, key, summary, raw, at, problems), kind: 'status', row });
  }
  for (const raw of someMessages) {
    const m = read(shape.Message, raw);
    if (!m?.id) {
      out.push(unparsed(ctx, raw, 'message without id'));
      continue;
    }
    const type = m.type ?? 'unknown';
    const text = messageText(m);
    const from = m.from || null;
    const problems: string[] = [];
    const at = when(m.timestamp, 'timestamp', problems) ?? ctx.entryTime;
    const timestamp = at ?? 0;
    const keyword =
      type === 'text' || type === 'button' || type === 'interactive' ? optOutKeyword(text) : null;
    const recipient = digits(from);
    const row: InboundRow = {
      wamid: m.id,
      from,
      fromUserId: m.from_user_id,
      type,
      text,
      timestamp,
      errorCode: m.errors?.code ?? null,
      optOut:
        keyword && recipient
          ? { recipient, optedOut: keyword.optOut, source: 'keyword', keyword: keyword.word, at: timestamp }
          : null,
    };
    const key = `messages/message/${pn}/${row.wamid}`;
    const summary = `message ${type} from ${from ?? row.fromUserId ?? '?'}${
      row.optOut ? (row.optOut.optedOut ? ` (opt-out: ${keyword?.word})` : ` (opt-in: ${keyword?.word})`) : ''
    }`;
    out.push({ ...base(ctx, key, summary, raw, at, problems), kind: 'message', row });
  }
  if (moreStatuses) out.push(moreStatuses);
  if (moreMessages) out.push(moreMessages);
  if (statuses === null && messages === null) out.push(unparsed(ctx, value, 'unknown kind'));
  return out;
}

function parseUserPreferences(ctx: Ctx, value: ChangeValue): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const prefs = shape.UserPreferencesValue.parse(value).user_preferences;
  if (prefs.length === 0) return [unparsed(ctx, value, 'unknown kind')];
  const [some, more] = capped(ctx, prefs, 'user_preferences');
  for (const raw of some) {
    const p = read(shape.UserPreference, raw);
    const recipient = p ? digits(p.wa_id) : null;
    const v = p?.value?.toLowerCase();
    if (!p || !recipient || (v !== 'stop' && v !== 'resume')) {
      out.push(unparsed(ctx, raw, 'unknown user preference'));
      continue;
    }
    const problems: string[] = [];
    const occurred = when(p.timestamp, 'timestamp', problems) ?? ctx.entryTime;
    const at = occurred ?? 0;
    const row = {
      recipient,
      optedOut: v === 'stop',
      source: 'user_preferences' as const,
      keyword: v,
      at,
      category: p.category,
    };
    const key = `user_preferences/${ctx.phoneNumberId ?? ''}/${hashOf(raw)}`;
    out.push({
      ...base(
        ctx,
        key,
        `user preference ${row.category ?? ''} ${v} from ${recipient}`,
        raw,
        occurred,
        problems,
      ),
      kind: 'user_preference',
      row,
    });
  }
  if (more) out.push(more);
  return out;
}

function parseEchoes(ctx: Ctx, value: ChangeValue): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const echoes = shape.EchoesValue.parse(value).message_echoes;
  if (echoes.length === 0) return [unparsed(ctx, value, 'unknown kind')];
  const [some, more] = capped(ctx, echoes, 'message_echoes');
  for (const raw of some) {
    const m = read(shape.Echo, raw);
    if (!m?.id) {
      out.push(unparsed(ctx, raw, 'echo without id'));
      continue;
    }
    const problems: string[] = [];
    const at = when(m.timestamp, 'timestamp', problems) ?? ctx.entryTime;
    const type = m.type ?? 'unknown';
    // An edit carries the new message under edit.message; an edit or a revoke names the message it changes.
    const change = type === 'edit' || type === 'revoke' ? read(shape.EchoChange, m[type]) : undefined;
    const edited = type === 'edit' ? read(shape.EditedMessage, change?.message) : undefined;
    const row: EchoRow = {
      wamid: m.id,
      to: m.to || m.to_user_id,
      toUserId: m.to_user_id || null,
      type,
      text: edited ? messageText(edited) : messageText(m),
      originalMessageId: change?.original_message_id ?? null,
      timestamp: at ?? 0,
    };
    const key = `smb_message_echoes/${ctx.phoneNumberId ?? ''}/${row.wamid}/${row.type}`;
    out.push({
      ...base(
        ctx,
        key,
        `echo ${row.type} to ${row.to ?? '?'} (sent from the Business App)`,
        raw,
        at,
        problems,
      ),
      kind: 'echo',
      row,
    });
  }
  if (more) out.push(more);
  return out;
}

function parseStateSync(ctx: Ctx, value: ChangeValue): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const items = shape.StateSyncValue.parse(value).state_sync;
  if (items.length === 0) return [unparsed(ctx, value, 'unknown kind')];
  const [some, more] = capped(ctx, items, 'state_sync');
  for (const raw of some) {
    const s = read(shape.StateSyncItem, raw);
    if (s?.type !== 'contact' || !s.contact || !s.action) {
      out.push(unparsed(ctx, raw, 'unknown state sync item'));
      continue;
    }
    const c = s.contact;
    const problems: string[] = [];
    const row: ContactRow = {
      action: s.action.toLowerCase(),
      phoneNumber: digits(c.phone_number),
      userId: c.user_id,
      fullName: c.full_name,
      firstName: c.first_name,
      timestamp: when(s.metadata.timestamp, 'metadata.timestamp', problems),
    };
    const key = `smb_app_state_sync/${ctx.phoneNumberId ?? ''}/${hashOf(raw)}`;
    const who = row.fullName
      ? `${row.fullName} (${row.phoneNumber ?? row.userId ?? '?'})`
      : (row.phoneNumber ?? row.userId ?? '?');
    out.push({
      ...base(ctx, key, `contact ${row.action} ${who}`, raw, row.timestamp, problems),
      kind: 'contact',
      row,
    });
  }
  if (more) out.push(more);
  return out;
}

function historyMessage(raw: unknown, threadId: string | null, problems: string[]): HistoryMessageRow | null {
  const m = read(shape.HistoryMessage, raw);
  if (!m?.id) return null;
  const timestamp = when(m.timestamp, `timestamp of ${m.id}`, problems);
  return {
    threadId,
    wamid: m.id,
    from: m.from,
    to: m.to,
    type: m.type ?? 'unknown',
    text: messageText(m),
    status: m.history_context.status,
    timestamp,
  };
}

function parseHistory(ctx: Ctx, value: ChangeValue): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const pn = ctx.phoneNumberId ?? '';
  const v = shape.HistoryValue.parse(value);
  const [items, moreItems] = capped(ctx, v.history, 'history');
  const [media, moreMedia] = capped(ctx, [...v.messages, ...v.message_echoes], 'media follow-ups');
  for (const raw of items) {
    const h = read(shape.HistoryItem, raw);
    if (!h) {
      out.push(unparsed(ctx, raw, 'unknown history item'));
      continue;
    }
    const err = h.errors;
    if (err) {
      const row: HistoryErrorRow = {
        code: err.code,
        title: err.title ?? err.message,
        details: err.error_data.details,
      };
      const key = `history/error/${pn}/${hashOf(raw)}`;
      const summary =
        row.code === 2593109
          ? 'history declined (2593109): the business turned off history sharing in the Business App'
          : `history error ${row.code ?? '?'}: ${row.title ?? ''}`;
      out.push({ ...base(ctx, key, summary, raw, ctx.entryTime), kind: 'history_error', row });
      continue;
    }
    const messages: HistoryMessageRow[] = [];
    const problems: string[] = [];
    if (h.threads.length > MAX_ITEMS_PER_ARRAY)
      problems.push(
        `${h.threads.length - MAX_ITEMS_PER_ARRAY} threads beyond the first ${MAX_ITEMS_PER_ARRAY} kept in the raw payload only`,
      );
    for (const t of h.threads.slice(0, MAX_ITEMS_PER_ARRAY)) {
      const thread = read(shape.HistoryThread, t);
      if (!thread) continue;
      const threadId = thread.id ?? thread.wa_id ?? thread.user_id;
      if (thread.messages.length > MAX_ITEMS_PER_ARRAY)
        problems.push(
          `${thread.messages.length - MAX_ITEMS_PER_ARRAY} messages of thread ${threadId ?? '?'} beyond the first ${MAX_ITEMS_PER_ARRAY} kept in the raw payload only`,
        );
      for (const m of thread.messages.slice(0, MAX_ITEMS_PER_ARRAY)) {
        const row = historyMessage(m, threadId, problems);
        if (row) messages.push(row);
      }
    }
    const row: HistoryChunkRow = {
      phase: h.metadata.phase,
      chunkOrder: h.metadata.chunk_order,
      progress: h.metadata.progress,
      threads: h.threads.length,
      messages,
    };
    if (row.phase === null && row.chunkOrder === null && row.progress === null && row.threads === 0) {
      out.push(unparsed(ctx, raw, 'unknown history item'));
      continue;
    }
    const key = `history/chunk/${pn}/${hashOf(raw)}`;
    const summary = `history phase ${row.phase ?? '?'} chunk ${row.chunkOrder ?? '?'} progress ${row.progress ?? '?'}% (${
      row.threads
    } threads, ${messages.length} messages)`;
    // the chunk itself stays in the raw payload; the event keeps its metadata (chunks can be large)
    const data = {
      metadata: (raw as { metadata?: unknown }).metadata ?? null,
      threads: row.threads,
      messages: messages.length,
    };
    out.push({ ...base(ctx, key, summary, data, ctx.entryTime, problems), kind: 'history_chunk', row });
  }
  // Media follow-ups: value.messages[] (user → business) or value.message_echoes[] (business → user)
  for (const raw of media) {
    const m = read(shape.HistoryMessage, raw);
    if (!m?.id) {
      out.push(unparsed(ctx, raw, 'history media without id'));
      continue;
    }
    const type = m.type ?? 'unknown';
    const content = shape.MediaContent.parse(m[type]);
    const problems: string[] = [];
    const row: HistoryMediaRow = {
      wamid: m.id,
      from: m.from,
      to: m.to,
      type,
      mediaId: content.id,
      mimeType: content.mime_type,
      text: messageText(m),
      timestamp: when(m.timestamp, 'timestamp', problems),
    };
    const key = `history/media/${pn}/${row.wamid}/${row.mediaId ?? hashOf(raw)}`;
    out.push({
      ...base(ctx, key, `history media ${type} for ${row.wamid}`, raw, row.timestamp, problems),
      kind: 'history_media',
      row,
    });
  }
  if (moreItems) out.push(moreItems);
  if (moreMedia) out.push(moreMedia);
  if (out.length === 0) out.push(unparsed(ctx, value, 'unknown kind'));
  return out;
}

function parseAccountUpdate(ctx: Ctx, value: ChangeValue): ParsedEvent[] {
  const u = shape.AccountUpdate.parse(value);
  if (!u.event) return [unparsed(ctx, value, 'unknown kind')];
  const row: AccountUpdateRow = {
    event: u.event,
    phoneNumber: digits(u.phone_number),
    reason: u.disconnection_info.reason ?? u.ban_info.waba_ban_state,
    initiatedBy: u.disconnection_info.initiated_by,
  };
  const key = `account_update/${hashOf({ waba: ctx.wabaId, time: ctx.entryTime, value })}`;
  const summary = `account ${row.event}${row.phoneNumber ? ` ${row.phoneNumber}` : ''}${row.reason ? ` reason ${row.reason}` : ''}${
    row.initiatedBy ? ` by ${row.initiatedBy}` : ''
  }`;
  return [{ ...base(ctx, key, summary, value, ctx.entryTime), kind: 'account_update', row }];
}

function parseTemplateStatus(ctx: Ctx, value: ChangeValue): ParsedEvent[] {
  const u = shape.TemplateStatusUpdate.parse(value);
  if (!u.event) return [unparsed(ctx, value, 'unknown kind')];
  const row: TemplateStatusRow = {
    templateId: u.message_template_id,
    templateName: u.message_template_name,
    language: u.message_template_language,
    event: u.event,
    reason: u.reason,
    category: u.message_template_category,
  };
  const key = `message_template_status_update/${hashOf({ waba: ctx.wabaId, time: ctx.entryTime, value })}`;
  const summary = `template ${row.templateName ?? row.templateId ?? '?'} (${row.language ?? '?'}) ${row.event}${
    row.reason && row.reason !== 'NONE' ? ` reason ${row.reason}` : ''
  }`;
  return [{ ...base(ctx, key, summary, value, ctx.entryTime), kind: 'template_status', row }];
}

/**
 * `standby`: what Meta Business Agent handles while it holds a conversation (meta-cloud-api.md §15.5), in the
 * `messages` value shape, with the agent's replies as echoes. Stored like messages, under their own field.
 */
function parseStandby(ctx: Ctx, value: ChangeValue): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  if (Array.isArray(value.messages) || Array.isArray(value.statuses))
    out.push(...parseMessagesValue(ctx, value));
  if (Array.isArray(value.message_echoes)) out.push(...parseEchoes(ctx, value));
  return out.length > 0 ? out : [unparsed(ctx, value, 'unknown kind')];
}

const PARSERS: Record<string, (ctx: Ctx, value: ChangeValue) => ParsedEvent[]> = {
  messages: parseMessagesValue,
  user_preferences: parseUserPreferences,
  smb_message_echoes: parseEchoes,
  smb_app_state_sync: parseStateSync,
  history: parseHistory,
  account_update: parseAccountUpdate,
  message_template_status_update: parseTemplateStatus,
  standby: parseStandby,
};

export const PARSED_FIELDS = Object.keys(PARSERS);

/** Every event in a decoded payload. Never throws: what it cannot understand becomes an `unparsed` event. */
export function parsePayload(payload: unknown): ParsedEvent[] {
  const events: ParsedEvent[] = [];
  const all = read(shape.Payload, payload)?.entry;
  if (!all) {
    const ctx: Ctx = { field: '(payload)', wabaId: null, entryTime: null, phoneNumberId: null, problems: [] };
    return [unparsed(ctx, payload, 'not a WhatsApp Business Account payload')];
  }
  const top: Ctx = { field: '(payload)', wabaId: null, entryTime: null, phoneNumberId: null, problems: [] };
  const [entries, moreEntries] = capped(top, all, 'entries');
  for (const entry of entries) {
    const { id: wabaId, time, changes: allChanges } = shape.Entry.parse(entry);
    const problems: string[] = [];
    const entryTime = when(time, 'entry.time', problems);
    const entryCtx: Ctx = { field: '(entry)', wabaId, entryTime, phoneNumberId: null, problems };
    if (allChanges.length === 0) {
      events.push(unparsed(entryCtx, entry, 'entry without changes'));
      continue;
    }
    const [changes, moreChanges] = capped(entryCtx, allChanges, 'changes');
    for (const change of changes) {
      const c = shape.Change.parse(change);
      const field = c.field ?? '(unknown)';
      const meta = shape.ChangeMetadata.parse(c.value?.metadata);
      const ctx: Ctx = { field, wabaId, entryTime, phoneNumberId: meta.phone_number_id, problems };
      const parser = PARSERS[field];
      if (!parser || !c.value) {
        events.push(unparsed(ctx, change, parser ? 'change without value' : `field "${field}" not handled`));
        continue;
      }
      try {
        events.push(...parser(ctx, c.value));
      } catch (error) {
        events.push(unparsed(ctx, change, 'could not be parsed', [`could not be parsed: ${reason(error)}`]));
      }
    }
    if (moreChanges) events.push(moreChanges);
  }
  if (moreEntries) events.push(moreEntries);
  return events;
}

/** Why parsing failed, in a few words (an error's message, without a stack). */
export function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > 200 ? `${message.slice(0, 200)}…` : message;
}
