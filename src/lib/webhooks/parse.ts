import { createHash } from 'node:crypto';
import { isBsuid } from '../identity/bsuid.js';
import { bsuidKey, phoneKey } from '../identity/keys.js';
import { type Sighting, sighting } from '../identity/sighting.js';
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
  /** The recipient's phone, or (sent to a BSUID, no phone given) its BSUID. */
  recipientId: string | null;
  recipientUserId: string | null;
  recipientParentUserId: string | null;
  callbackData: string | null;
  errorCode: number | null;
  errorTitle: string | null;
  errorDetails: string | null;
  pricingCategory: string | null;
  pricingType: string | null;
  pricingBillable: boolean | null;
  pricingModel: string | null;
}
export interface OptOutRow {
  /** A recipient key: the phone (E.164 digits), else the BSUID or parent BSUID verbatim. */
  recipient: string;
  optedOut: boolean;
  source: 'keyword' | 'user_preferences';
  keyword: string | null;
  at: number;
}
export interface InboundRow {
  wamid: string;
  /** The sender's phone (E.164 digits); null when Meta withheld it. */
  from: string | null;
  fromUserId: string | null;
  fromParentUserId: string | null;
  username: string | null;
  type: string;
  text: string | null;
  timestamp: number;
  errorCode: number | null;
  optOut: OptOutRow | null;
  identityChange: IdentityChangeRow | null;
}
/** A `system` message `user_changed_number` or `user_changed_user_id` (meta-cloud-api.md §15.1). */
export interface IdentityChangeRow {
  type: 'user_changed_number' | 'user_changed_user_id';
  previousPhone: string | null;
  phone: string | null;
  previousUserId: string | null;
  userId: string | null;
  previousParentUserId: string | null;
  parentUserId: string | null;
}
export interface EchoRow {
  wamid: string;
  /** The recipient's phone (E.164 digits); null when Meta withheld it. */
  to: string | null;
  /** The recipient's business-scoped user id (BSUID), when Meta sends one. */
  toUserId: string | null;
  toParentUserId: string | null;
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
  parentUserId: string | null;
  username: string | null;
  fullName: string | null;
  firstName: string | null;
  timestamp: number | null;
}
export interface HistoryMessageRow {
  /** The thread's person: the BSUID when the thread has one, else its phone. */
  threadId: string | null;
  wamid: string;
  from: string | null;
  to: string | null;
  fromUserId: string | null;
  toUserId: string | null;
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
  fromUserId: string | null;
  toUserId: string | null;
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
  /** The people the event names, with the keys it shows together (phones, BSUIDs, usernames). */
  people: Sighting[];
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

const nonEmpty = (s: string | null | undefined): string | null => s?.trim() || null;

type ContactEntry = NonNullable<ReturnType<typeof readContact>>;
const readContact = (raw: unknown) => read(shape.Contact, raw);

/**
 * The entry of `contacts[]` naming the person with this phone or BSUID; else the only entry, unless it names
 * someone else.
 */
function contactFor(contacts: unknown[], phone: string | null, userId: string | null): ContactEntry | null {
  const all = contacts.map(readContact).filter((c): c is ContactEntry => c !== undefined);
  const match = all.find(
    (c) => (phone && phoneKey(c.wa_id) === phone) || (userId && bsuidKey(c.user_id) === userId),
  );
  if (match || all.length !== 1) return match ?? null;
  const only = all[0]!;
  const other =
    (phone && phoneKey(only.wa_id) && phoneKey(only.wa_id) !== phone) ||
    (userId && bsuidKey(only.user_id) && bsuidKey(only.user_id) !== userId);
  return other ? null : only;
}

/** Who a message, status or echo names: its own fields first, then its entry in `contacts[]`. */
function personOf(
  own: { phone: string | null; userId: string | null; parentUserId: string | null },
  contacts: unknown[],
) {
  const phone = phoneKey(own.phone);
  const userId = bsuidKey(own.userId);
  const c = contacts.length ? contactFor(contacts, phone, userId) : null;
  return {
    phone: phone ?? phoneKey(c?.wa_id),
    userId: userId ?? bsuidKey(c?.user_id),
    parentUserId: bsuidKey(own.parentUserId) ?? bsuidKey(c?.parent_user_id),
    username: nonEmpty(c?.profile.username) ?? nonEmpty(c?.username),
  };
}

/** What a `system` message says of an identity change, or null for other system messages. */
function identityChange(m: { from: string | null; system?: unknown }): IdentityChangeRow | null {
  const c = read(shape.SystemChange, m.system);
  if (c?.type !== 'user_changed_number' && c?.type !== 'user_changed_user_id') return null;
  const phone = phoneKey(c.wa_id) ?? phoneKey(c.new_wa_id);
  const from = phoneKey(m.from);
  return {
    type: c.type,
    previousPhone: from !== phone ? from : null,
    phone,
    previousUserId: bsuidKey(c.previous_user_id),
    userId: bsuidKey(c.user_id),
    previousParentUserId: bsuidKey(c.previous_parent_user_id),
    parentUserId: bsuidKey(c.parent_user_id),
  };
}

/** The people of a list of sightings that name someone. */
const people = (...all: (Sighting | null)[]): Sighting[] => all.filter((p): p is Sighting => p !== null);

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
    people: [] as Sighting[],
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
  const { statuses, messages, contacts } = shape.MessagesValue.parse(value);
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
    const who = personOf(
      { phone: s.recipient_id, userId: s.recipient_user_id, parentUserId: s.recipient_parent_user_id },
      s.contacts.length ? s.contacts : contacts,
    );
    const row: StatusRow = {
      wamid: s.id,
      status: s.status,
      timestamp: at ?? 0,
      recipientId: s.recipient_id || s.recipient_user_id,
      recipientUserId: who.userId,
      recipientParentUserId: who.parentUserId,
      callbackData: s.biz_opaque_callback_data,
      errorCode: s.errors?.code ?? null,
      errorTitle: s.errors ? (s.errors.title ?? s.errors.message) : null,
      errorDetails: s.errors?.error_data.details ?? null,
      pricingCategory: s.pricing.category,
      pricingType: s.pricing.type,
      pricingBillable: s.pricing.billable,
      pricingModel: s.pricing.pricing_model,
    };
    const key = `messages/status/${pn}/${row.wamid}/${row.status}/${row.timestamp}/${row.errorCode ?? ''}`;
    const summary = `status ${row.status} ${row.wamid}${row.recipientId ? ` to ${row.recipientId}` : ''}${
      row.errorCode !== null ? ` error ${row.errorCode}` : ''
    }${row.callbackData ? ` [${row.callbackData}]` : ''}`;
    // A status without a BSUID links nobody: the phone is the one the message was sent to.
    const named = who.userId || who.parentUserId ? people(sighting(who, at)) : [];
    out.push({ ...base(ctx, key, summary, raw, at, problems), kind: 'status', row, people: named });
  }
  for (const raw of someMessages) {
    const m = read(shape.Message, raw);
    if (!m?.id) {
      out.push(unparsed(ctx, raw, 'message without id'));
      continue;
    }
    const type = m.type ?? 'unknown';
    const text = messageText(m);
    const problems: string[] = [];
    const at = when(m.timestamp, 'timestamp', problems) ?? ctx.entryTime;
    const timestamp = at ?? 0;
    const keyword =
      type === 'text' || type === 'button' || type === 'interactive' ? optOutKeyword(text) : null;
    const change = type === 'system' ? identityChange(m) : null;
    const who = change
      ? { phone: change.phone, userId: change.userId, parentUserId: change.parentUserId, username: null }
      : personOf({ phone: m.from, userId: m.from_user_id, parentUserId: m.from_parent_user_id }, contacts);
    // A BSUID-only sender's STOP is theirs all the same: it is recorded under their BSUID.
    const recipient = who.phone ?? who.userId ?? who.parentUserId;
    const row: InboundRow = {
      wamid: m.id,
      from: change ? phoneKey(m.from) : who.phone,
      fromUserId: who.userId,
      fromParentUserId: who.parentUserId,
      username: who.username,
      type,
      text,
      timestamp,
      errorCode: m.errors?.code ?? null,
      optOut:
        keyword && recipient
          ? { recipient, optedOut: keyword.optOut, source: 'keyword', keyword: keyword.word, at: timestamp }
          : null,
      identityChange: change,
    };
    const key = `messages/message/${pn}/${row.wamid}`;
    const summary = change
      ? `${change.type} ${change.previousPhone ?? change.previousUserId ?? '?'} → ${change.phone ?? change.userId ?? '?'}`
      : `message ${type} from ${row.from ?? row.fromUserId ?? row.fromParentUserId ?? '?'}${
          row.optOut
            ? row.optOut.optedOut
              ? ` (opt-out: ${keyword?.word})`
              : ` (opt-in: ${keyword?.word})`
            : ''
        }`;
    const previous = change
      ? {
          phone: change.previousPhone,
          userId: change.previousUserId,
          parentUserId: change.previousParentUserId,
          phoneChanged: true,
        }
      : null;
    out.push({
      ...base(ctx, key, summary, raw, at, problems),
      kind: 'message',
      row,
      people: people(sighting(who, at, previous)),
    });
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
    const who = p
      ? { phone: phoneKey(p.wa_id), userId: bsuidKey(p.user_id), parentUserId: bsuidKey(p.parent_user_id) }
      : null;
    const recipient = who ? (who.phone ?? who.userId ?? who.parentUserId) : null;
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
      people: people(who && sighting(who, occurred)),
    });
  }
  if (more) out.push(more);
  return out;
}

function parseEchoes(ctx: Ctx, value: ChangeValue): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  const { message_echoes: echoes, contacts } = shape.EchoesValue.parse(value);
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
    const who = personOf({ phone: m.to, userId: m.to_user_id, parentUserId: m.to_parent_user_id }, contacts);
    const row: EchoRow = {
      wamid: m.id,
      to: who.phone,
      toUserId: who.userId,
      toParentUserId: who.parentUserId,
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
        `echo ${row.type} to ${row.to ?? row.toUserId ?? row.toParentUserId ?? '?'} (sent from the Business App)`,
        raw,
        at,
        problems,
      ),
      kind: 'echo',
      row,
      people: people(sighting(who, at)),
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
      phoneNumber: phoneKey(c.phone_number),
      userId: bsuidKey(c.user_id),
      parentUserId: bsuidKey(c.parent_user_id),
      username: nonEmpty(c.username),
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
      people: people(
        sighting(
          {
            phone: row.phoneNumber,
            userId: row.userId,
            parentUserId: row.parentUserId,
            username: row.username,
          },
          row.timestamp,
        ),
      ),
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
    from: m.from || null,
    to: m.to || null,
    fromUserId: bsuidKey(m.from_user_id),
    toUserId: bsuidKey(m.to_user_id),
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
  const userSent = v.messages.length;
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
    const threadPeople: Sighting[] = [];
    const problems: string[] = [];
    if (h.threads.length > MAX_ITEMS_PER_ARRAY)
      problems.push(
        `${h.threads.length - MAX_ITEMS_PER_ARRAY} threads beyond the first ${MAX_ITEMS_PER_ARRAY} kept in the raw payload only`,
      );
    for (const t of h.threads.slice(0, MAX_ITEMS_PER_ARRAY)) {
      const thread = read(shape.HistoryThread, t);
      if (!thread) continue;
      // `id` is documented as the user's phone; what it holds when no phone can be shared is not documented, so
      // a thread is keyed by its BSUID when it has one (meta-cloud-api.md §15.1).
      const who = {
        phone: phoneKey(thread.wa_id) ?? phoneKey(thread.id),
        userId: bsuidKey(thread.user_id) ?? (isBsuid(thread.id ?? '') ? thread.id : null),
        parentUserId: bsuidKey(thread.parent_user_id),
        username: nonEmpty(thread.username) ?? nonEmpty(thread.profile.username),
      };
      const threadId = who.userId ?? who.phone ?? who.parentUserId ?? nonEmpty(thread.id);
      const seen = sighting(who, null);
      if (seen) threadPeople.push(seen);
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
    out.push({
      ...base(ctx, key, summary, data, ctx.entryTime, problems),
      kind: 'history_chunk',
      row,
      people: threadPeople,
    });
  }
  // Media follow-ups: value.messages[] (user → business) or value.message_echoes[] (business → user)
  for (const [i, raw] of media.entries()) {
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
      from: m.from || null,
      to: m.to || null,
      fromUserId: bsuidKey(m.from_user_id),
      toUserId: bsuidKey(m.to_user_id),
      type,
      mediaId: content.id,
      mimeType: content.mime_type,
      text: messageText(m),
      timestamp: when(m.timestamp, 'timestamp', problems),
    };
    const key = `history/media/${pn}/${row.wamid}/${row.mediaId ?? hashOf(raw)}`;
    // user → business (messages[]) names the user as sender; business → user (message_echoes[]) as recipient
    const who =
      i < userSent
        ? personOf({ phone: m.from, userId: m.from_user_id, parentUserId: null }, v.contacts)
        : personOf({ phone: m.to, userId: m.to_user_id, parentUserId: null }, v.contacts);
    out.push({
      ...base(ctx, key, `history media ${type} for ${row.wamid}`, raw, row.timestamp, problems),
      kind: 'history_media',
      row,
      people: people(sighting(who, row.timestamp)),
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
