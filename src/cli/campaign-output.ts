import type { EngineNotice } from '../lib/campaign/engine.js';
import type { SendEvents, SendStart, Snapshot, Summary } from '../lib/campaign/events.js';
import { outcomeIdentity } from '../lib/campaign/recipient.js';
import { INVALID_REASONS, type RowOutcome, type SkipReason } from '../lib/campaign/types.js';
import { formatDuration } from '../lib/io/format.js';
import type { Io } from '../lib/io/io.js';
import { recordedHint } from './hints.js';

/**
 * 1234567 → "1,234,567" (counts). Not toLocaleString: its first call loads ICU's locale data, ~5 MB of memory for
 * the rest of a long send.
 */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** What the run learnt about the rate the API accepts (from the engine's throttled and throughput notices). */
export interface ThroughputView {
  target: number;
  /** The sender's rate now. */
  rate: number;
  /** About the highest rate the API accepted, or null (not known yet). */
  allowed: number | null;
  refusedAbove: number | null;
  storm: boolean;
  code: number | null;
  title: string;
  /** The lowest `allowed` seen while below the target (for the summary). */
  lowest: number | null;
}

/** "~10/s", "~1,000/s" */
function perSecond(n: number): string {
  return n >= 100 ? `${formatCount(n)}/s` : `${Number(n.toFixed(1))}/s`;
}

/** Why the sender is below its target, or null when it is not. */
export function throughputReason(t: ThroughputView | null): string | null {
  if (!t || t.rate >= t.target * 0.999) return null;
  const code = t.code !== null ? ` (${t.code})` : '';
  if (t.storm) return `the API refuses every message at the moment${code}: backing off`;
  const limit = t.allowed ?? t.refusedAbove;
  return limit !== null
    ? `the API throttles above ~${perSecond(limit)}${code}`
    : `the API throttles${code}: looking for the rate it accepts`;
}

/** NDJSON row lines are written once this many are waiting, or 25 ms after the first. */
const FLUSH_LINES = 64;

/**
 * Renders what `wacx send` and `wacx campaigns resume` report: on a TTY a progress bar on stderr (rate, counts, ETA);
 * without a TTY one plain line every 10 s; with --json one NDJSON line per row outcome and a summary line on stdout.
 */
export class SendOutput implements SendEvents {
  private readonly json: boolean;
  private readonly maxInvalid: number;
  private invalidShown = 0;
  private invalidHidden = 0;
  private lastNoticeAt = 0;
  private barShown = false;
  private timer: NodeJS.Timeout | undefined;
  /** NDJSON lines waiting to be written (one write every few ms, not one per row). */
  private pending: string[] = [];
  private flushTimer: NodeJS.Timeout | undefined;
  private throughput: ThroughputView | null = null;

  constructor(
    private readonly io: Io,
    options: { json: boolean; maxInvalidShown?: number } = { json: false },
  ) {
    this.json = options.json;
    this.maxInvalid = options.maxInvalidShown ?? 20;
  }

  /** One row outcome: an NDJSON line with --json; invalid rows as warnings for people. */
  row(campaign: string, o: RowOutcome, csvName: string): void {
    if (this.json) {
      this.pending.push(JSON.stringify(rowJson(campaign, o)));
      // written by the few dozen, not left to pile up: lines kept across collections are copied and promoted
      if (this.pending.length >= FLUSH_LINES) this.flushRows();
      else this.flushTimer ??= setTimeout(() => this.flushRows(), 25);
      return;
    }
    if (o.state === 'skipped' && o.reason) {
      const kind = o.reason.split(':')[0] as SkipReason;
      if (INVALID_REASONS.has(kind)) {
        if (this.invalidShown < this.maxInvalid) {
          this.invalidShown++;
          this.warn(`${csvName}:${o.line}: skipped, ${o.reason.slice(kind.length + 2)}`);
        } else this.invalidHidden++;
      }
    }
  }

  /** Throttling and retries, for people (at most one line every 5 s). */
  notice(n: EngineNotice, now: number): void {
    if (
      (n.type === 'throttled' || n.type === 'throughput') &&
      n.rate !== undefined &&
      n.target !== undefined
    ) {
      this.learn(n);
      if (n.type === 'throughput') return; // shown by the progress line and the summary
    }
    if (this.json || now - this.lastNoticeAt < 5000) return;
    this.lastNoticeAt = now;
    const wait = n.waitMs !== undefined ? ` (waiting ${(n.waitMs / 1000).toFixed(1)} s)` : '';
    const why = throughputReason(this.throughput);
    this.warn(
      n.type === 'throttled'
        ? `Throughput limit hit (${n.code} ${n.title}): sending ${n.rate?.toFixed(1)} msg/s${
            n.target !== undefined ? ` of ${perSecond(n.target)}` : ''
          }${why ? `, ${why}` : ''}; probing back toward the target${wait}.`
        : n.type === 'pair'
          ? `Pair rate limit for one recipient (row ${n.row}): that recipient waits${wait}.`
          : n.type === 'network'
            ? `Network error, nothing was sent: retrying${wait}. ${n.title}`
            : `Temporary error ${n.code ?? ''} ${n.title}: retrying${wait}.`,
    );
  }

  /** What a throttled or throughput notice says about the rate the API accepts. */
  private learn(n: EngineNotice): void {
    const target = n.target!;
    const rate = n.rate!;
    const allowed = n.allowed ?? null;
    const below = rate < target * 0.999;
    const prev = this.throughput;
    const lowest =
      below && allowed !== null
        ? Math.min(allowed, prev?.lowest ?? Number.POSITIVE_INFINITY)
        : (prev?.lowest ?? null);
    this.throughput = {
      target,
      rate,
      allowed,
      refusedAbove: n.refusedAbove ?? null,
      storm: n.type === 'throttled' ? Boolean(n.storm) : false,
      code: n.code,
      title: n.title,
      lowest,
    };
  }

  /** Lines for people go above the progress bar, never through it. */
  info(text: string): void {
    this.clearBar();
    this.io.info(text);
  }

  warn(text: string): void {
    this.clearBar();
    this.io.warn(text);
  }

  sending(start: SendStart, snapshot: () => Snapshot): void {
    if (!this.json) {
      this.info(
        `Sending ${start.template} (${start.language}) from ${start.csvName} as campaign ${start.campaign}: ` +
          `${start.rate} msg/s (${start.rateSource}), up to ${start.window} in flight.`,
      );
    }
    this.startProgress(snapshot);
  }

  sendingEnded(): void {
    this.stopProgress();
  }

  async rendered(lines: readonly string[]): Promise<void> {
    if (lines.length > 0) this.io.write(`${lines.join('\n')}\n`);
    const stdout = this.io.streams.stdout;
    if (stdout.writableNeedDrain) await new Promise((drained) => stdout.once('drain', drained));
  }

  /** Starts the periodic progress display (TTY: redrawn bar; otherwise a plain line every 10 s). */
  startProgress(snapshot: () => Snapshot): void {
    const live = this.io.live;
    const every = live ? 250 : 10_000;
    this.timer = setInterval(() => {
      const s = snapshot();
      if (live) {
        this.io.streams.stderr.write(`\r\x1b[K${progressLine(s, true, this.throughput)}`);
        this.barShown = true;
      } else {
        this.io.info(progressLine(s, false, this.throughput));
      }
    }, every);
    this.timer.unref();
  }

  stopProgress(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.clearBar();
  }

  private clearBar(): void {
    if (this.barShown) {
      this.io.streams.stderr.write('\r\x1b[K');
      this.barShown = false;
    }
  }

  /** Writes the NDJSON lines gathered so far. */
  flushRows(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.pending.length === 0) return;
    const text = `${this.pending.join('\n')}\n`;
    this.pending = [];
    this.io.write(text);
  }

  summary(s: Summary): void {
    this.stopProgress();
    this.flushRows();
    if (this.invalidHidden > 0 && !this.json) {
      this.io.warn(
        `… and ${formatCount(this.invalidHidden)} more invalid rows (see \`wacx campaigns show ${s.campaign}\` or --report).`,
      );
    }
    if (this.json) {
      this.io.printJson(summaryJson(s, this.throughput), { ndjson: true });
      return;
    }
    const io = this.io;
    const c = s.counts;
    const head =
      s.status === 'dry_run'
        ? `Dry run of campaign ${s.campaign} (${s.template}, ${s.language}): nothing was sent.`
        : s.status === 'completed'
          ? `Campaign ${s.campaign} (${s.template}, ${s.language}) completed in ${formatDuration(s.durationMs)}.`
          : s.status === 'partial'
            ? `Campaign ${s.campaign} (${s.template}, ${s.language}) finished in ${formatDuration(s.durationMs)}, not everything was sent.`
            : s.status === 'cancelled'
              ? `Campaign ${s.campaign} (${s.template}, ${s.language}) cancelled after ${formatDuration(s.durationMs)}: state saved, resume with \`wacx campaigns resume ${s.campaign}\`.`
              : `Campaign ${s.campaign} (${s.template}, ${s.language}) STOPPED after ${formatDuration(s.durationMs)}.`;
    io.out(head);
    const rows: [string, string][] = [];
    if (s.status === 'dry_run') rows.push(['would send', formatCount(c.pending)]);
    else rows.push(['sent', formatCount(c.sent)]);
    rows.push(['failed', formatCount(c.failed)]);
    rows.push(['skipped', formatCount(c.skipped)]);
    rows.push(['unknown', formatCount(c.unknown)]);
    if (s.status !== 'dry_run' && c.pending + c.in_flight > 0)
      rows.push(['not sent yet', formatCount(c.pending + c.in_flight)]);
    rows.push(['rows', formatCount(c.total)]);
    for (const [k, v] of rows) io.out(`  ${k.padEnd(13)}${v.padStart(10)}`);
    if (s.failedByCode.length > 0) {
      io.out('Failed by error code:');
      for (const f of s.failedByCode) {
        io.out(
          `  ${String(f.code ?? '-').padEnd(8)} ${formatCount(f.count).padStart(8)}  ${f.meaning ?? f.title ?? ''}`,
        );
      }
    }
    if (s.skippedByReason.length > 0) {
      io.out('Skipped:');
      for (const k of s.skippedByReason)
        io.out(`  ${formatCount(k.count).padStart(8)}  ${k.meaning ?? k.reason}`);
    }
    if (s.unknownRows.length > 0) {
      io.out(`Unknown outcome (the request may have been accepted; never re-sent without --resend-unknown):`);
      for (const u of s.unknownRows.slice(0, 10))
        io.out(`  row ${u.row} (line ${u.line}) ${u.recipient ?? ''}`);
      if (c.unknown > 10) io.out(`  … ${formatCount(c.unknown - 10)} more`);
      io.out(`  → settle them from status webhooks with \`wacx campaigns reconcile ${s.campaign}\``);
    }
    if (s.status !== 'dry_run') {
      const rate = s.achievedRate !== null ? `${s.achievedRate.toFixed(1)} msg/s` : '-';
      io.out(
        `Duration ${formatDuration(s.durationMs)}, ${formatCount(s.requests)} requests, achieved rate ${rate}${
          s.targetRate !== null ? ` (target ${s.targetRate.toFixed(s.targetRate < 100 ? 1 : 0)})` : ''
        }.`,
      );
      const t = this.throughput;
      if (t && t.lowest !== null) {
        const code = t.code !== null ? `${t.code} ${t.title}` : t.title;
        io.out(
          t.rate < t.target * 0.999
            ? `Throughput: the API accepted about ${perSecond(t.allowed ?? t.lowest)} of the ${perSecond(t.target)} target (${code}); the sender kept to what it accepts.`
            : `Throughput: the API throttled above ~${perSecond(t.lowest)} for part of the run (${code}); back at the ${perSecond(t.target)} target by the end.`,
        );
      }
    } else if (s.targetRate) {
      io.out(
        `At ${s.targetRate.toFixed(1)} msg/s this takes about ${formatDuration((c.pending / s.targetRate) * 1000)}. ${formatCount(s.rendered ?? 0)} messages rendered.`,
      );
    }
    if (s.stop) {
      io.error(`Stopped: ${s.stop.code !== null ? `${s.stop.code} ` : ''}${s.stop.title}. ${s.stop.message}`);
      const hint = recordedHint(s.stop);
      if (hint) io.info(`  ${io.style.cyan('→')} ${hint}`);
      io.info(
        `  ${io.style.cyan('→')} When fixed, run the same command again (or \`wacx campaigns resume ${s.campaign}\`).`,
      );
    }
    if (s.report) io.info(`Report written to ${s.report}`);
  }
}

export function progressLine(s: Snapshot, bar: boolean, throughput: ThroughputView | null = null): string {
  const c = s.counts;
  const done = c.sent + c.failed + c.skipped + c.unknown;
  const total = c.total;
  const pct = total > 0 ? Math.floor((done / total) * 100) : 0;
  const remaining = c.pending + c.in_flight;
  // an estimate of what is left: rounded up to the second (the formatter rounds down)
  const eta = s.rate > 0 ? formatDuration(Math.ceil(remaining / s.rate) * 1000) : '-';
  const width = 24;
  const filled = total > 0 ? Math.round((done / total) * width) : 0;
  const gauge = bar ? `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ` : '';
  const why = throughputReason(throughput);
  const rate = why
    ? `sending ${s.rate.toFixed(1)}/s of ${perSecond(s.targetRate)}: ${why}`
    : `${s.rate.toFixed(1)}/s (target ${s.targetRate.toFixed(1)})`;
  return (
    `${gauge}${pct}% ${formatCount(done)}/${formatCount(total)}${s.ingesting ? '+' : ''} · ${rate} · ` +
    `sent ${formatCount(c.sent)} failed ${formatCount(c.failed)} skipped ${formatCount(c.skipped)} unknown ${formatCount(c.unknown)} · ETA ${eta}`
  );
}

export function rowJson(campaign: string, o: RowOutcome): Record<string, unknown> {
  return {
    type: 'row',
    campaign,
    row: o.row,
    line: o.line,
    to: o.recipient,
    identity: outcomeIdentity(o),
    status: o.state,
    reason: o.reason,
    error_code: o.errorCode,
    error_title: o.errorTitle,
    wamid: o.wamid,
  };
}

export function summaryJson(s: Summary, throughput: ThroughputView | null = null): Record<string, unknown> {
  return {
    type: 'summary',
    campaign: s.campaign,
    template: s.template,
    language: s.language,
    status: s.status,
    exit_code: s.exitCode,
    rows: s.counts.total,
    sent: s.counts.sent,
    failed: s.counts.failed,
    skipped: s.counts.skipped,
    unknown: s.counts.unknown,
    pending: s.counts.pending + s.counts.in_flight,
    failed_by_code: s.failedByCode.map((f) => ({
      code: f.code,
      title: f.title,
      meaning: f.meaning,
      count: f.count,
    })),
    skipped_by_reason: s.skippedByReason.map((k) => ({
      reason: k.reason,
      meaning: k.meaning,
      count: k.count,
    })),
    unknown_rows: s.unknownRows.map((u) => ({ row: u.row, line: u.line, to: u.recipient, reason: u.reason })),
    duration_ms: Math.round(s.durationMs),
    requests: s.requests,
    achieved_rate: s.achievedRate === null ? null : Math.round(s.achievedRate * 100) / 100,
    target_rate: s.targetRate,
    stop: s.stop
      ? {
          kind: s.stop.kind,
          code: s.stop.code,
          title: s.stop.title,
          message: s.stop.message,
          hint: recordedHint(s.stop),
        }
      : null,
    report: s.report,
    rendered: s.rendered ?? null,
    commits: s.commits ?? null,
    // null when the API accepted the target all along
    throttling:
      throughput && throughput.lowest !== null
        ? {
            code: throughput.code,
            title: throughput.title,
            target_rate: throughput.target,
            allowed_rate: round2(throughput.allowed ?? throughput.lowest),
            lowest_allowed_rate: round2(throughput.lowest),
            refused_above: throughput.refusedAbove === null ? null : round2(throughput.refusedAbove),
            below_target_at_end: throughput.rate < throughput.target * 0.999,
          }
        : null,
  };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
