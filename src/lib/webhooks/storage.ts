import { createHash } from 'node:crypto';
import { sha256 } from '../audit/chain.js';
import { type AuditEntry, AuditJournal, type AuditKind } from '../audit/journal.js';
import { recordSightings } from '../identity/store.js';
import { getLater } from '../store/database.js';
import type { Db } from '../store/store.js';
import { type EventKind, type ParsedEvent, parsePayload, reason } from './parse.js';
import { REJECT_STATUS, type RejectReason } from './rejections.js';
import { verifySignature } from './signature.js';

/** Meta sends up to 3 MB (meta-cloud-api.md §2.1): the default limit (`webhooks serve --max-body`). */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

/** Refused bodies: every one is counted (webhook_rejection_counts), the most recent this many are kept as rows. */
export const REJECTION_LOG_ROWS = 1000;

export interface StoredEvent {
  id: number;
  key: string;
  field: string;
  kind: EventKind;
  parsed: boolean;
  wabaId: string | null;
  phoneNumberId: string | null;
  occurredAt: number | null;
  receivedAt: number;
  summary: string;
  /** What could not be read (stored in webhook_events.problems; the raw payload keeps everything). */
  problems: string[];
}

export interface IngestOptions {
  /** The X-Hub-Signature-256 header (`sha256=<hex>`). */
  signature?: string | null;
  appSecret?: string;
  /** Refuse a body without a valid signature (the HTTP receiver always does). Default: true when appSecret is set. */
  requireSignature?: boolean;
  /** ms; default Date.now(). */
  receivedAt?: number;
  /** Where the body came from, kept with the payload and rejections. Default 'http'. */
  source?: 'http' | 'ingest' | string;
  /** Body size limit in bytes. Default MAX_BODY_BYTES. */
  maxBytes?: number;
  /** Record rejections in webhook_rejections (default true). */
  recordRejection?: boolean;
  /**
   * One body of the caller's batch (the receiver's group commit): its audit records go to `audited`, for the caller
   * to append once for the batch (on PostgreSQL, each read of the chain's head is a round trip).
   */
  batch?: { audited: AuditEntry[] };
}

export interface IngestResult {
  outcome: 'stored' | 'duplicate' | 'rejected';
  reason?: RejectReason;
  /** The events stored by this call (new ones only; empty for a duplicate or a rejection). */
  events: StoredEvent[];
  /** Events in the payload that were already stored. */
  duplicates: number;
  /** HTTP status the receiver answers for this outcome. */
  httpStatus: number;
}

/** Prepared statements, cached per database connection. */
class Statements {
  readonly insertPayload;
  readonly insertEvent;
  readonly insertRejection;
  readonly countRejection;
  readonly pruneRejections;
  readonly recordRejection: (at: number, reason: string, source: string) => void;
  readonly insertStatus;
  readonly callbackForWamid;
  readonly insertInbound;
  readonly insertOptOut;
  readonly insertEcho;
  readonly insertContact;
  readonly insertChunk;
  readonly insertHistoryMessage;
  readonly updateHistoryMedia;
  readonly insertHistoryError;
  readonly insertAccountUpdate;
  readonly insertTemplateStatus;
  readonly insertIdentityChange;
  readonly deletePayload;
  readonly countVerified;
  readonly insertConsent;
  readonly audit: AuditJournal;
  /** Runs a closure in a transaction (a savepoint inside an outer one); built once per connection. */
  readonly inTransaction: (fn: () => IngestResult) => IngestResult;

  constructor(db: Db) {
    this.inTransaction = db.transaction((fn: () => IngestResult) => fn());
    this.audit = new AuditJournal(db);
    this.insertConsent = db.prepare(
      `INSERT INTO consent_events (subject, scope, action, at, source, proof, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.deletePayload = db.prepare('DELETE FROM webhook_payloads WHERE id = ?');
    this.countVerified = db.prepare(
      `INSERT INTO webhook_verified_deliveries (source, count, last_at) VALUES (?, 1, ?)
       ON CONFLICT (source) DO UPDATE SET count = webhook_verified_deliveries.count + 1,
         last_at = MAX(webhook_verified_deliveries.last_at, excluded.last_at)`,
    );
    // the new row's id comes back with the insert (on PostgreSQL, lastInsertRowid would be a second round trip)
    this.insertPayload = db
      .prepare(
        'INSERT INTO webhook_payloads (received_at, body_sha256, body, signature_verified, source) VALUES (?, ?, ?, ?, ?) RETURNING id',
      )
      .pluck();
    this.insertEvent = db
      .prepare(
        `INSERT INTO webhook_events (payload_id, dedupe_key, field, kind, parsed, waba_id, phone_number_id, occurred_at,
         received_at, summary, data, problems)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
      )
      .pluck();
    this.insertRejection = db.prepare('INSERT INTO webhook_rejections (at, reason, source) VALUES (?, ?, ?)');
    this.countRejection = db.prepare(
      `INSERT INTO webhook_rejection_counts (reason, source, count, first_at, last_at) VALUES (?, ?, 1, ?, ?)
       ON CONFLICT (reason, source) DO UPDATE SET count = webhook_rejection_counts.count + 1,
         last_at = MAX(webhook_rejection_counts.last_at, excluded.last_at)`,
    );
    this.pruneRejections = db.prepare('DELETE FROM webhook_rejections WHERE id <= ?');
    this.recordRejection = db.transaction((at: number, reason: string, source: string) => {
      const id = Number(this.insertRejection.run(at, reason, source).lastInsertRowid);
      this.countRejection.run(reason, source, at, at);
      if (id > REJECTION_LOG_ROWS) this.pruneRejections.run(id - REJECTION_LOG_ROWS);
    });
    this.insertStatus = db.prepare(
      `INSERT INTO message_statuses (event_id, phone_number_id, wamid, status, timestamp, recipient_id, callback_data,
         error_code, error_title, error_details, pricing_category, pricing_type, recipient_user_id,
         recipient_parent_user_id, pricing_billable, pricing_model)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.callbackForWamid = db.prepare(
      'SELECT callback_data FROM message_statuses WHERE wamid = ? AND callback_data IS NOT NULL LIMIT 1',
    );
    this.insertInbound = db.prepare(
      `INSERT INTO inbound_messages (event_id, phone_number_id, wamid, from_wa_id, from_user_id, type, text, timestamp,
         error_code, from_parent_user_id, username)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertOptOut = db.prepare(
      `INSERT INTO opt_outs (event_id, phone_number_id, recipient, opted_out, source, keyword, at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertEcho = db.prepare(
      `INSERT INTO message_echoes (event_id, phone_number_id, wamid, to_wa_id, type, text, timestamp, to_user_id,
         original_message_id, to_parent_user_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertContact = db.prepare(
      `INSERT INTO contact_syncs (event_id, phone_number_id, action, phone_number, user_id, full_name, first_name, timestamp,
         parent_user_id, username)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertChunk = db.prepare(
      `INSERT INTO history_chunks (event_id, phone_number_id, phase, chunk_order, progress, threads, messages, received_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertHistoryMessage = db.prepare(
      `INSERT INTO history_messages (event_id, phone_number_id, thread_id, wamid, from_wa_id, to_wa_id, type, text, status,
         timestamp, phase, from_user_id, to_user_id)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (phone_number_id, wamid) DO NOTHING`,
    );
    this.updateHistoryMedia = db.prepare(
      `INSERT INTO history_messages (event_id, phone_number_id, thread_id, wamid, from_wa_id, to_wa_id, type, text, status,
         timestamp, phase, media_id, media_mime_type, from_user_id, to_user_id)
       VALUES (?, ?, NULL, ?, ?, ?, ?, ?, NULL, ?, NULL, ?, ?, ?, ?)
       ON CONFLICT (phone_number_id, wamid) DO UPDATE SET type = excluded.type, media_id = excluded.media_id,
         media_mime_type = excluded.media_mime_type, text = COALESCE(excluded.text, history_messages.text),
         from_user_id = COALESCE(history_messages.from_user_id, excluded.from_user_id),
         to_user_id = COALESCE(history_messages.to_user_id, excluded.to_user_id)`,
    );
    this.insertHistoryError = db.prepare(
      'INSERT INTO history_errors (event_id, phone_number_id, code, title, details, received_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insertAccountUpdate = db.prepare(
      `INSERT INTO account_updates (event_id, waba_id, phone_number, event, reason, initiated_by, at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertIdentityChange = db.prepare(
      `INSERT INTO identity_changes (event_id, phone_number_id, type, previous_phone, phone, previous_user_id, user_id,
         previous_parent_user_id, parent_user_id, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertTemplateStatus = db.prepare(
      `INSERT INTO template_status_updates (event_id, waba_id, template_id, template_name, language, event, reason, category, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
  }
}

const cache = new WeakMap<Db, Statements>();
function statements(db: Db): Statements {
  let s = cache.get(db);
  if (!s) {
    s = new Statements(db);
    cache.set(db, s);
  }
  return s;
}

/**
 * Records a refused body: only when and why, nothing from the body itself. Every rejection is counted per reason
 * and source (webhook_rejection_counts); only the most recent REJECTION_LOG_ROWS stay as rows, pruned in the same
 * write, so a flood of forgeries cannot grow the database.
 */
export function recordRejection(db: Db, reason: RejectReason, at: number, source = 'http'): void {
  statements(db).recordRejection(at, reason, source);
}

function reject(db: Db, reason: RejectReason, opts: IngestOptions, at: number): IngestResult {
  if (opts.recordRejection !== false) recordRejection(db, reason, at, opts.source ?? 'http');
  return { outcome: 'rejected', reason, events: [], duplicates: 0, httpStatus: REJECT_STATUS[reason] };
}

/**
 * Verifies (before parsing), parses, deduplicates (after verifying) and stores one webhook body, in one
 * transaction (a savepoint when the caller already holds one). An authentic JSON body always ends as
 * `stored` or `duplicate` (HTTP 200), whatever fields it has; only unsigned, forged, oversized and non-JSON
 * bodies are `rejected`, and nothing from them is stored.
 */
export function ingestPayload(db: Db, rawBody: Buffer | string, opts: IngestOptions = {}): IngestResult {
  const ingest = readBody(db, rawBody, opts);
  if (!(ingest instanceof BodyIngest)) return ingest;
  return statements(db).inTransaction(() => {
    ingest.insertPayload();
    ingest.insertEvents();
    return ingest.finish();
  });
}

/**
 * Verifies (before parsing) and parses one body: its rejection, or what stores it. `BodyIngest`'s three steps run
 * inside the caller's transaction, in order; a batch takes each step for all its bodies before the next, so that
 * on PostgreSQL a whole batch waits for the server a few times, not a few times per body.
 */
export function readBody(
  db: Db,
  rawBody: Buffer | string,
  opts: IngestOptions = {},
): IngestResult | BodyIngest {
  const receivedAt = opts.receivedAt ?? Date.now();
  const raw = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  if (raw.length > (opts.maxBytes ?? MAX_BODY_BYTES)) return reject(db, 'too_large', opts, receivedAt);

  const requireSignature = opts.requireSignature ?? Boolean(opts.appSecret);
  let verified = false;
  if (opts.appSecret && (requireSignature || opts.signature)) {
    const check = verifySignature(raw, opts.signature, opts.appSecret);
    if (!check.ok) return reject(db, check.reason, opts, receivedAt);
    verified = true;
  } else if (requireSignature) {
    return reject(db, 'no_app_secret', opts, receivedAt);
  }

  // Only now is the body looked at.
  let text: string;
  let payload: unknown;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
    payload = JSON.parse(text);
  } catch {
    return reject(db, 'invalid_json', opts, receivedAt);
  }
  return new BodyIngest(db, raw, text, parseTotally(payload, raw), verified, receivedAt, opts);
}

interface PendingEvent {
  ev: ParsedEvent;
  data: string | null;
  problems: string[];
  /** The new event's id; undefined when it was stored before (a redelivery). */
  id: () => number | undefined;
}

export class BodyIngest {
  private readonly s: Statements;
  private payloadId: (() => number) | undefined;
  private readonly events: PendingEvent[] = [];

  constructor(
    private readonly db: Db,
    private readonly raw: Buffer,
    private readonly text: string,
    private readonly parsed: ParsedEvent[],
    private readonly verified: boolean,
    private readonly receivedAt: number,
    private readonly opts: IngestOptions,
  ) {
    this.s = statements(db);
  }

  /** Counts the verified delivery and writes the raw payload (none for a body without events). */
  insertPayload(): void {
    const { s, opts } = this;
    // A redelivery stores no event, but it proves the receiver checks with the right secret (doctor reads this).
    if (this.verified) s.countVerified.run(opts.source ?? 'http', this.receivedAt);
    if (this.parsed.length === 0) return;
    const sha = createHash('sha256').update(this.raw).digest('hex');
    this.payloadId = getLater(s.insertPayload, [
      this.receivedAt,
      sha,
      this.text,
      this.verified ? 1 : 0,
      opts.source ?? 'http',
    ]) as () => number;
  }

  /** Writes each event unless its key is stored already (dedupe). */
  insertEvents(): void {
    const payloadId = this.payloadId?.();
    for (const ev of this.parsed) {
      const data = jsonOf(ev.data);
      if (data === null) ev.problems.push('too deeply nested to copy (kept in the raw payload only)');
      const problems = capProblems(ev.problems);
      const id = getLater(this.s.insertEvent, [
        payloadId,
        ev.key,
        ev.field,
        ev.kind,
        ev.kind === 'unparsed' ? 0 : 1,
        ev.wabaId,
        ev.phoneNumberId,
        ev.occurredAt,
        this.receivedAt,
        ev.summary,
        data ?? 'null',
        problems.length ? JSON.stringify(problems) : null,
      ]) as () => number | undefined;
      this.events.push({ ev, data, problems, id });
    }
  }

  /** Writes each new event's details, sightings and audit record; a body whose events were all stored goes. */
  finish(): IngestResult {
    const { s, receivedAt } = this;
    const stored: StoredEvent[] = [];
    const audited: AuditEntry[] = [];
    let duplicates = 0;
    for (const { ev, data, problems, id } of this.events) {
      const eventId = id();
      if (eventId === undefined) {
        duplicates++;
        continue;
      }
      writeDetail(s, eventId, ev, receivedAt, audited);
      const entry = auditEntry(ev, data, receivedAt);
      if (entry) audited.push(entry);
      recordSightings(this.db, ev.people, receivedAt);
      stored.push({
        id: eventId,
        key: ev.key,
        field: ev.field,
        kind: ev.kind,
        parsed: ev.kind !== 'unparsed',
        wabaId: ev.wabaId,
        phoneNumberId: ev.phoneNumberId,
        occurredAt: ev.occurredAt,
        receivedAt,
        summary: ev.summary,
        problems,
      });
    }
    if (this.opts.batch) this.opts.batch.audited.push(...audited);
    else s.audit.append(audited);
    if (stored.length === 0) {
      // A redelivery: keep nothing of it (the payload row goes too).
      if (this.payloadId) s.deletePayload.run(this.payloadId());
      return { outcome: 'duplicate', events: [], duplicates, httpStatus: 200 };
    }
    return { outcome: 'stored', events: stored, duplicates, httpStatus: 200 };
  }
}

/** Appends the audit records a batch of `ingestPayload` calls collected, inside the batch's transaction. */
export function appendAudit(db: Db, entries: readonly AuditEntry[]): void {
  statements(db).audit.append(entries);
}

/**
 * parsePayload, made total: should it throw all the same (a stack overflow on some shape nobody foresaw), the
 * payload becomes one `unparsed` event keyed by the hash of its bytes, with the reason as its problem.
 */
function parseTotally(payload: unknown, raw: Buffer): ParsedEvent[] {
  try {
    return parsePayload(payload);
  } catch (error) {
    const why = `could not be parsed: ${reason(error)}`;
    return [
      {
        kind: 'unparsed',
        row: null,
        key: `(payload)/raw/${createHash('sha256').update(raw).digest('hex').slice(0, 32)}`,
        field: '(payload)',
        wabaId: null,
        phoneNumberId: null,
        occurredAt: null,
        summary: `payload ${why} (stored raw)`,
        data: null,
        problems: [why],
        people: [],
      },
    ];
  }
}

/** Problems kept per event: the first ones, then how many more (a chunk of 10,000 messages with bad times). */
const MAX_PROBLEMS = 20;
function capProblems(problems: string[]): string[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  return [...problems.slice(0, MAX_PROBLEMS), `and ${problems.length - MAX_PROBLEMS} more problems`];
}

/** JSON text of an event's data, or null when it cannot be written (nested deeper than the stack allows). */
function jsonOf(value: unknown): string | null {
  try {
    return JSON.stringify(value ?? null);
  } catch {
    return null;
  }
}

const AUDITED: Partial<Record<ParsedEvent['kind'], AuditKind>> = {
  message: 'inbound',
  echo: 'echo',
  status: 'status',
};

/**
 * The audit record of a stored message, echo or status: who it concerns, its key, and a hash of the data as stored
 * (not the text itself, so that retention can remove the text and the record still proves what was there).
 */
function auditEntry(ev: ParsedEvent, data: string | null, receivedAt: number): AuditEntry | null {
  const kind = AUDITED[ev.kind];
  if (!kind) return null;
  const person = ev.people[0];
  return {
    at: receivedAt,
    kind,
    subject: person?.phone ?? person?.userId ?? person?.parentUserId ?? '',
    content: {
      key: ev.key,
      phone_number_id: ev.phoneNumberId,
      occurred_at: ev.occurredAt,
      data_sha256: sha256(data ?? 'null'),
    },
  };
}

/**
 * An opt-out or opt-in word, or a marketing preference, is a consent change with its source: into the consent
 * register, and into the audit trail.
 */
function recordConsent(
  s: Statements,
  o: { recipient: string; optedOut: boolean; source: string; keyword: string | null; at: number },
  receivedAt: number,
  audited: AuditEntry[],
): void {
  const scope = o.source === 'user_preferences' ? 'marketing' : 'all';
  const action = o.optedOut ? 'revoke' : 'grant';
  const source = o.keyword ? `webhook: ${o.source} "${o.keyword}"` : `webhook: ${o.source}`;
  s.insertConsent.run(o.recipient, scope, action, o.at, source, null, receivedAt);
  audited.push({
    at: receivedAt,
    kind: 'consent',
    subject: o.recipient,
    content: { action, scope, at: new Date(o.at).toISOString(), source, proof: null },
  });
}

function writeDetail(
  s: Statements,
  eventId: number,
  ev: ParsedEvent,
  receivedAt: number,
  audited: AuditEntry[],
): void {
  const pn = ev.phoneNumberId;
  switch (ev.kind) {
    case 'status': {
      const r = ev.row;
      const callback =
        r.callbackData ??
        (s.callbackForWamid.get(r.wamid) as { callback_data: string } | undefined)?.callback_data ??
        null;
      s.insertStatus.run(
        eventId,
        pn,
        r.wamid,
        r.status,
        r.timestamp,
        r.recipientId,
        callback,
        r.errorCode,
        r.errorTitle,
        r.errorDetails,
        r.pricingCategory,
        r.pricingType,
        r.recipientUserId,
        r.recipientParentUserId,
        r.pricingBillable === null ? null : Number(r.pricingBillable),
        r.pricingModel,
      );
      return;
    }
    case 'message': {
      const r = ev.row;
      s.insertInbound.run(
        eventId,
        pn,
        r.wamid,
        r.from,
        r.fromUserId,
        r.type,
        r.text,
        r.timestamp,
        r.errorCode,
        r.fromParentUserId,
        r.username,
      );
      if (r.optOut) {
        const o = r.optOut;
        s.insertOptOut.run(eventId, pn, o.recipient, o.optedOut ? 1 : 0, o.source, o.keyword, o.at);
        recordConsent(s, o, receivedAt, audited);
      }
      const c = r.identityChange;
      if (c) {
        s.insertIdentityChange.run(
          eventId,
          pn,
          c.type,
          c.previousPhone,
          c.phone,
          c.previousUserId,
          c.userId,
          c.previousParentUserId,
          c.parentUserId,
          r.timestamp || receivedAt,
        );
      }
      return;
    }
    case 'user_preference': {
      const o = ev.row;
      s.insertOptOut.run(eventId, pn, o.recipient, o.optedOut ? 1 : 0, o.source, o.keyword, o.at);
      recordConsent(s, o, receivedAt, audited);
      return;
    }
    case 'echo': {
      const r = ev.row;
      s.insertEcho.run(
        eventId,
        pn,
        r.wamid,
        r.to,
        r.type,
        r.text,
        r.timestamp,
        r.toUserId,
        r.originalMessageId,
        r.toParentUserId,
      );
      return;
    }
    case 'contact': {
      const r = ev.row;
      s.insertContact.run(
        eventId,
        pn,
        r.action,
        r.phoneNumber,
        r.userId,
        r.fullName,
        r.firstName,
        r.timestamp,
        r.parentUserId,
        r.username,
      );
      return;
    }
    case 'history_chunk': {
      const r = ev.row;
      s.insertChunk.run(
        eventId,
        pn,
        r.phase,
        r.chunkOrder,
        r.progress,
        r.threads,
        r.messages.length,
        receivedAt,
      );
      for (const m of r.messages) {
        s.insertHistoryMessage.run(
          eventId,
          pn,
          m.threadId,
          m.wamid,
          m.from,
          m.to,
          m.type,
          m.text,
          m.status,
          m.timestamp,
          r.phase,
          m.fromUserId,
          m.toUserId,
        );
      }
      return;
    }
    case 'history_media': {
      const r = ev.row;
      s.updateHistoryMedia.run(
        eventId,
        pn,
        r.wamid,
        r.from,
        r.to,
        r.type,
        r.text,
        r.timestamp,
        r.mediaId,
        r.mimeType,
        r.fromUserId,
        r.toUserId,
      );
      return;
    }
    case 'history_error': {
      const r = ev.row;
      s.insertHistoryError.run(eventId, pn, r.code, r.title, r.details, receivedAt);
      return;
    }
    case 'account_update': {
      const r = ev.row;
      s.insertAccountUpdate.run(
        eventId,
        ev.wabaId,
        r.phoneNumber,
        r.event,
        r.reason,
        r.initiatedBy,
        ev.occurredAt ?? receivedAt,
      );
      return;
    }
    case 'template_status': {
      const r = ev.row;
      s.insertTemplateStatus.run(
        eventId,
        ev.wabaId,
        r.templateId,
        r.templateName,
        r.language,
        r.event,
        r.reason,
        r.category,
        ev.occurredAt ?? receivedAt,
      );
      return;
    }
    case 'unparsed':
      return;
  }
}
