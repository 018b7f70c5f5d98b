import { ExitCode } from '../errors.js';
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

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function formatDuration(ms: number): string {
  const abs = Math.max(0, ms);
  const h = Math.floor(abs / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min`;
  return `${Math.floor(abs / 1000)} s`;
}

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
  };
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
  if (h.progress === 100 && h.missingChunks.length > 0)
    state += ' (100% reported, waiting for missing chunks)';
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
  lines.push(`  missing     ${h.missingChunks.length === 0 ? 'none' : missingText(h.missingChunks)}`);
  lines.push('Contacts');
  lines.push(
    `  requested   ${c.requestedAt === null ? 'no' : `${iso(c.requestedAt)}${c.requestId ? ` (request id ${c.requestId})` : ''}`}`,
  );
  lines.push(`  state       ${STATE_TEXT[c.state]}`);
  lines.push(`  received    ${c.added} added, ${c.removed} removed (${c.contacts} contacts now)`);
  if (c.error && c.state === 'failed')
    lines.push(`  error       ${c.error.code ?? ''} ${c.error.message ?? ''}`.trimEnd());
  return lines;
}

/** "chunk 2, 5" or "phase 1 chunk 2, phase 2 chunk 1". */
export function missingText(missing: readonly MissingChunk[]): string {
  if (missing.every((m) => m.phase === null)) return `chunk ${missing.map((m) => m.chunkOrder).join(', ')}`;
  return missing.map((m) => `phase ${m.phase} chunk ${m.chunkOrder}`).join(', ');
}

/** One line, for --watch without a TTY. */
export function statusSummary(s: HistoryStatus): string {
  const h = s.history;
  const c = s.contacts;
  let hist = `history ${STATE_TEXT[h.state]}`;
  if (h.progress !== null && h.state !== 'declined') hist += ` ${h.progress}%`;
  hist += `: ${h.chunks} chunks, ${h.messages} messages`;
  if (h.missingChunks.length > 0) hist += `, missing ${missingText(h.missingChunks)}`;
  if (h.declined) hist += ` (${h.declined.code ?? '?'})`;
  return `${hist} · contacts ${STATE_TEXT[c.state]}: ${c.added} added, ${c.removed} removed`;
}
