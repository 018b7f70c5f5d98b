import { ExitCode } from '../errors.js';
import type { PeopleCounts } from '../identity/queries.js';
import { formatDuration } from '../io/format.js';
import type { HistoryStatus, MissingChunk, SyncState } from './queries.js';

/**
 * Presentation of the history import status (pure; the command prints it): the JSON shape, the text block,
 * a one-line summary for non-TTY --watch, and the exit code (0 complete, 8 in progress, 1 declined/failed).
 */

export function statusExitCode(s: HistoryStatus): number {
  switch (s.history.state) {
    case 'complete':
      return ExitCode.OK;
    case 'requested':
    case 'in_progress':
      return ExitCode.PENDING;
    default:
      return ExitCode.FAILED;
  }
}

export function isPending(state: SyncState): boolean {
  return state === 'requested' || state === 'in_progress';
}

/** ISO time, or null for a value no date can show (out of range, not a number). */
const iso = (ms: number | null): string | null => {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || Math.abs(ms) > 8.64e15) return null;
  return new Date(ms).toISOString();
};

/** snake_case, every key present (null, not omitted). */
export function statusJson(s: HistoryStatus, now: number): Record<string, unknown> {
  const h = s.history;
  const c = s.contacts;
  return {
    phone_number_id: s.phoneNumberId,
    state: h.state,
    exit_code: statusExitCode(s),
    onboarded_at: iso(s.onboardedAt),
    window_ends_at: iso(s.windowEndsAt),
    window_left_seconds:
      s.windowEndsAt === null ? null : Math.max(0, Math.floor((s.windowEndsAt - now) / 1000)),
    history: {
      state: h.state,
      request_id: h.requestId,
      requested_at: iso(h.requestedAt),
      progress: h.progress,
      done: h.done,
      chunks: h.chunks,
      threads: h.threads,
      messages: h.messages,
      missing_chunks: h.missingChunks.map((m) => ({ phase: m.phase, chunk_order: m.chunkOrder })),
      missing_chunk_count: h.missingChunkCount,
      chunk_numbering: h.chunkNumbering,
      media_follow_ups: h.mediaFollowUps,
      last_event_at: iso(h.lastEventAt),
      declined: h.declined
        ? {
            code: h.declined.code,
            title: h.declined.title,
            details: h.declined.details,
            at: iso(h.declined.at),
            meaning: h.declined.meaning,
          }
        : null,
      request_error: h.error ? { code: h.error.code, message: h.error.message, at: iso(h.error.at) } : null,
      phases: h.phases.map((p) => ({
        phase: p.phase,
        covers: p.covers,
        chunks: p.chunks,
        chunk_orders: p.chunkOrders,
        threads: p.threads,
        messages: p.messages,
        progress: p.progress,
      })),
    },
    contacts: {
      state: c.state,
      request_id: c.requestId,
      requested_at: iso(c.requestedAt),
      added: c.added,
      removed: c.removed,
      contacts: c.contacts,
      last_event_at: iso(c.lastEventAt),
      request_error: c.error ? { code: c.error.code, message: c.error.message, at: iso(c.error.at) } : null,
    },
    people: peopleJson(s.people),
  };
}

/** The people counts in --json (history status, doctor). */
export function peopleJson(p: PeopleCounts): Record<string, unknown> {
  return {
    known: p.known,
    with_phone: p.withPhone,
    bsuid_only: p.bsuidOnly,
    phone_withheld: p.phoneWithheld,
    with_username: p.withUsername,
    identity_changes: p.identityChanges,
    last_identity_change: p.lastIdentityChange
      ? { type: p.lastIdentityChange.type, at: iso(p.lastIdentityChange.at) }
      : null,
  };
}

/** "12 people: 10 with a phone, 2 BSUID-only (no phone known), 3 with a username". */
export function peopleText(p: PeopleCounts): string {
  const parts = [`${p.withPhone} with a phone`, `${p.bsuidOnly} BSUID-only (no phone known)`];
  if (p.withUsername > 0) parts.push(`${p.withUsername} with a username`);
  return `${p.known} ${p.known === 1 ? 'person' : 'people'}: ${parts.join(', ')}`;
}

function windowText(s: HistoryStatus, now: number): string {
  if (s.windowEndsAt === null) return 'sync window: unknown (onboarding time not recorded)';
  const left = s.windowEndsAt - now;
  return left > 0
    ? `sync window: ${formatDuration(left)} left (closes ${iso(s.windowEndsAt)})`
    : `sync window: closed ${formatDuration(-left)} ago`;
}

const STATE_TEXT: Record<SyncState, string> = {
  not_requested: 'not requested',
  requested: 'requested, waiting for the first webhook',
  in_progress: 'in progress',
  complete: 'complete',
  declined: 'declined',
  failed: 'failed',
};

/** The full text block (for a TTY or a one-shot run). */
export function statusLines(s: HistoryStatus, now: number): string[] {
  const h = s.history;
  const c = s.contacts;
  const lines: string[] = [];
  lines.push(`History import${s.phoneNumberId ? ` (phone number ${s.phoneNumberId})` : ''}`);
  lines.push(
    `  requested   ${h.requestedAt === null ? 'no' : `${iso(h.requestedAt)}${h.requestId ? ` (request id ${h.requestId})` : ''}`}`,
  );
  lines.push(`  ${windowText(s, now)}`);
  let state = STATE_TEXT[h.state];
  if (h.progress !== null && h.state !== 'declined') state += ` — ${h.progress}%`;
  if (h.progress === 100 && h.missingChunkCount > 0) state += ' (100% reported, waiting for missing chunks)';
  lines.push(`  state       ${state}`);
  if (h.declined) {
    lines.push(`  declined    ${h.declined.code ?? '?'}: ${h.declined.title ?? h.declined.details ?? ''}`);
    lines.push(`              ${h.declined.meaning}`);
  }
  if (h.error && h.state === 'failed')
    lines.push(`  error       ${h.error.code ?? ''} ${h.error.message ?? ''}`.trimEnd());
  for (const p of h.phases) {
    const body =
      p.chunks === 0
        ? 'nothing yet'
        : `${p.chunks} chunks, ${p.threads} threads, ${p.messages} messages, progress ${p.progress ?? '?'}%`;
    lines.push(`  phase ${p.phase}     ${p.covers.padEnd(26)} ${body}`);
  }
  lines.push(
    `  received    ${h.chunks} chunks, ${h.threads} conversations, ${h.messages} messages, ${h.mediaFollowUps} media follow-ups`,
  );
  lines.push(
    `  missing     ${h.missingChunkCount === 0 ? 'none' : missingText(h.missingChunks, h.missingChunkCount)}`,
  );
  lines.push('Contacts');
  lines.push(
    `  requested   ${c.requestedAt === null ? 'no' : `${iso(c.requestedAt)}${c.requestId ? ` (request id ${c.requestId})` : ''}`}`,
  );
  lines.push(`  state       ${STATE_TEXT[c.state]}`);
  lines.push(`  received    ${c.added} added, ${c.removed} removed (${c.contacts} contacts now)`);
  if (c.error && c.state === 'failed')
    lines.push(`  error       ${c.error.code ?? ''} ${c.error.message ?? ''}`.trimEnd());
  lines.push('People (all numbers)');
  lines.push(`  known       ${peopleText(s.people)}`);
  const change = s.people.lastIdentityChange;
  if (change) {
    lines.push(
      `  changes     ${s.people.identityChanges} number or user-id changes, the last ${change.type} at ${iso(change.at)}`,
    );
  }
  return lines;
}

/**
 * "chunk 2, 5" or "phase 1 chunk 2, phase 2 chunk 1"; at most 10 listed, then "and N more" (`total` counts every
 * missing number, including those beyond the list).
 */
export function missingText(missing: readonly MissingChunk[], total: number = missing.length): string {
  const shown = missing.slice(0, 10);
  const more = total - shown.length;
  const tail = more > 0 ? ` and ${more} more` : '';
  if (shown.every((m) => m.phase === null))
    return `chunk ${shown.map((m) => m.chunkOrder).join(', ')}${tail}`;
  return `${shown.map((m) => `phase ${m.phase} chunk ${m.chunkOrder}`).join(', ')}${tail}`;
}

/** One line, for --watch without a TTY. */
export function statusSummary(s: HistoryStatus): string {
  const h = s.history;
  const c = s.contacts;
  let hist = `history ${STATE_TEXT[h.state]}`;
  if (h.progress !== null && h.state !== 'declined') hist += ` ${h.progress}%`;
  hist += `: ${h.chunks} chunks, ${h.messages} messages`;
  if (h.missingChunkCount > 0) hist += `, missing ${missingText(h.missingChunks, h.missingChunkCount)}`;
  if (h.declined) hist += ` (${h.declined.code ?? '?'})`;
  return `${hist} · contacts ${STATE_TEXT[c.state]}: ${c.added} added, ${c.removed} removed`;
}
