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

/** JSON with object keys sorted: the same content always gives the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const object = value as Record<string, unknown>;
    return `{${Object.keys(object)
      .sort()
      .filter((k) => object[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(object[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
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

type ChangeValue = Record<string, unknown>;

function parseMessagesValue(ctx: Ctx, value: ChangeValue): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const pn = ctx.phoneNumberId ?? '';
  const { statuses, messages } = shape.MessagesValue.parse(value);
  for (const raw of statuses ?? []) {
    const s = read(shape.Status, raw);
    if (!s?.id || !s.status) {
      out.push(unparsed(ctx, raw, 'status without id or status'));
      continue;
    }
    const row: StatusRow = {
      wamid: s.id,
      status: s.status,
      timestamp: s.timestamp ?? ctx.entryTime ?? 0,
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
    out.push({ ...base(ctx, key, summary, raw, row.timestamp), kind: 'status', row });
  }
  for (const raw of messages ?? []) {
    const m = read(shape.Message, raw);
    if (!m?.id) {
      out.push(unparsed(ctx, raw, 'message without id'));
      continue;
    }
    const type = m.type ?? 'unknown';
    const text = messageText(m);
    const from = m.from || null;
    const timestamp = m.timestamp ?? ctx.entryTime ?? 0;
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
    out.push({ ...base(ctx, key, summary, raw, timestamp), kind: 'message', row });
  }
  if (statuses === null && messages === null) out.push(unparsed(ctx, value, 'unknown kind'));
  return out;
}

function parseUserPreferences(ctx: Ctx, value: ChangeValue): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const prefs = shape.UserPreferencesValue.parse(value).user_preferences;
  if (prefs.length === 0) return [unparsed(ctx, value, 'unknown kind')];
  for (const raw of prefs) {
    const p = read(shape.UserPreference, raw);
    const recipient = p ? digits(p.wa_id) : null;
    const v = p?.value?.toLowerCase();
    if (!p || !recipient || (v !== 'stop' && v !== 'resume')) {
      out.push(unparsed(ctx, raw, 'unknown user preference'));
      continue;
    }
    const at = p.timestamp ?? ctx.entryTime ?? 0;
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
      ...base(ctx, key, `user preference ${row.category ?? ''} ${v} from ${recipient}`, raw, at),
      kind: 'user_preference',
      row,
    });
  }
  return out;
}

function parseEchoes(ctx: Ctx, value: ChangeValue): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const echoes = shape.EchoesValue.parse(value).message_echoes;
  if (echoes.length === 0) return [unparsed(ctx, value, 'unknown kind')];
  for (const raw of echoes) {
    const m = read(shape.Echo, raw);
    if (!m?.id) {
      out.push(unparsed(ctx, raw, 'echo without id'));
      continue;
    }
    const row: EchoRow = {
      wamid: m.id,
      to: m.to || m.to_user_id,
      type: m.type ?? 'unknown',
      text: messageText(m),
      timestamp: m.timestamp ?? ctx.entryTime ?? 0,
    };
    const key = `smb_message_echoes/${ctx.phoneNumberId ?? ''}/${row.wamid}/${row.type}`;
    out.push({
      ...base(
        ctx,
        key,
        `echo ${row.type} to ${row.to ?? '?'} (sent from the Business App)`,
        raw,
        row.timestamp,
      ),
      kind: 'echo',
      row,
    });
  }
  return out;
}

function parseStateSync(ctx: Ctx, value: ChangeValue): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const items = shape.StateSyncValue.parse(value).state_sync;
  if (items.length === 0) return [unparsed(ctx, value, 'unknown kind')];
  for (const raw of items) {
    const s = read(shape.StateSyncItem, raw);
    if (s?.type !== 'contact' || !s.contact || !s.action) {
      out.push(unparsed(ctx, raw, 'unknown state sync item'));
      continue;
    }
    const c = s.contact;
    const row: ContactRow = {
      action: s.action.toLowerCase(),
      phoneNumber: digits(c.phone_number),
      userId: c.user_id,
      fullName: c.full_name,
      firstName: c.first_name,
      timestamp: s.metadata.timestamp,
    };
    const key = `smb_app_state_sync/${ctx.phoneNumberId ?? ''}/${hashOf(raw)}`;
    const who = row.fullName
      ? `${row.fullName} (${row.phoneNumber ?? row.userId ?? '?'})`
      : (row.phoneNumber ?? row.userId ?? '?');
    out.push({ ...base(ctx, key, `contact ${row.action} ${who}`, raw, row.timestamp), kind: 'contact', row });
  }
  return out;
}

function historyMessage(raw: unknown, threadId: string | null): HistoryMessageRow | null {
  const m = read(shape.HistoryMessage, raw);
  if (!m?.id) return null;
  return {
    threadId,
    wamid: m.id,
    from: m.from,
    to: m.to,
    type: m.type ?? 'unknown',
    text: messageText(m),
    status: m.history_context.status,
    timestamp: m.timestamp,
  };
}

function parseHistory(ctx: Ctx, value: ChangeValue): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const pn = ctx.phoneNumberId ?? '';
  const v = shape.HistoryValue.parse(value);
  for (const raw of v.history) {
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
    for (const t of h.threads) {
      const thread = read(shape.HistoryThread, t);
      if (!thread) continue;
      const threadId = thread.id ?? thread.wa_id ?? thread.user_id;
      for (const m of thread.messages) {
        const row = historyMessage(m, threadId);
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
    out.push({ ...base(ctx, key, summary, data, ctx.entryTime), kind: 'history_chunk', row });
  }
  // Media follow-ups: value.messages[] (user → business) or value.message_echoes[] (business → user)
  for (const raw of [...v.messages, ...v.message_echoes]) {
    const m = read(shape.HistoryMessage, raw);
    if (!m?.id) {
      out.push(unparsed(ctx, raw, 'history media without id'));
      continue;
    }
    const type = m.type ?? 'unknown';
    const media = shape.MediaContent.parse(m[type]);
    const row: HistoryMediaRow = {
      wamid: m.id,
      from: m.from,
      to: m.to,
      type,
      mediaId: media.id,
      mimeType: media.mime_type,
      text: messageText(m),
      timestamp: m.timestamp,
    };
    const key = `history/media/${pn}/${row.wamid}/${row.mediaId ?? hashOf(raw)}`;
    out.push({
      ...base(ctx, key, `history media ${type} for ${row.wamid}`, raw, row.timestamp),
      kind: 'history_media',
      row,
    });
  }
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

const PARSERS: Record<string, (ctx: Ctx, value: ChangeValue) => ParsedEvent[]> = {
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
  const entries = read(shape.Payload, payload)?.entry;
  if (!entries) {
    const ctx: Ctx = { field: '(payload)', wabaId: null, entryTime: null, phoneNumberId: null };
    return [unparsed(ctx, payload, 'not a WhatsApp Business Account payload')];
  }
  for (const entry of entries) {
    const { id: wabaId, time: entryTime, changes } = shape.Entry.parse(entry);
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
      const c = shape.Change.parse(change);
      const field = c.field ?? '(unknown)';
      const meta = shape.ChangeMetadata.parse(c.value?.metadata);
      const ctx: Ctx = { field, wabaId, entryTime, phoneNumberId: meta.phone_number_id };
      const parser = PARSERS[field];
      if (!parser || !c.value) {
        events.push(unparsed(ctx, change, parser ? 'change without value' : `field "${field}" not handled`));
        continue;
      }
      try {
        events.push(...parser(ctx, c.value));
      } catch {
        events.push(unparsed(ctx, change, 'could not be parsed'));
      }
    }
  }
  return events;
}
