import { z } from 'zod';
import { UsageError } from '../errors.js';
import type { Db } from '../store/store.js';
import { describeRejection, type RejectReason } from './rejections.js';
import { type IngestResult, ingestPayload } from './storage.js';

/**
 * `wacx webhooks ingest`: NDJSON, one delivery per line, either
 *   - the bare payload object: {"object":"whatsapp_business_account","entry":[…]}  (stored as that line's text), or
 *   - a captured delivery:     {"body": "<raw body exactly as received>", "signature": "sha256=<hex>"}
 *     (`signature` optional; "X-Hub-Signature-256" is accepted as an alias).
 * Blank lines and lines starting with # are skipped.
 */

export interface IngestLine {
  line: number;
  body: string;
  signature: string | null;
}

export interface NdjsonReport {
  lines: number;
  stored: number;
  duplicate: number;
  rejected: number;
  /** Lines that could not be imported (not JSON, a bad capture, a body that is not JSON, too large or unreadable). */
  bad: number;
  events: number;
  duplicateEvents: number;
  rejectedLines: { line: number; reason: RejectReason; message: string }[];
  badLines: BadLine[];
}

const NdjsonLine = z.record(z.string(), z.unknown(), { error: 'expected a JSON object on this line.' });

/** A captured delivery; the signature may come under its header's name. */
const CapturedDelivery = z.object({
  body: z.string({ error: '"body" must be the raw request body as a JSON string.' }),
  signature: z.string({ error: '"signature" must be a string like "sha256=<hex>".' }).nullable(),
});

const SIGNATURE_KEYS = ['signature', 'X-Hub-Signature-256', 'x-hub-signature-256'] as const;

/** A line that cannot be imported: its number and what is wrong with it. */
export interface BadLine {
  line: number;
  message: string;
}

export interface SplitNdjson {
  lines: IngestLine[];
  bad: BadLine[];
}

const LINE_HINT =
  'Each line must be one webhook payload object, or {"body": "<raw>", "signature": "sha256=…"}.';

/** The line's value checked against `schema`: the data, or its first problem. */
function checked<T>(
  schema: z.ZodType<T>,
  value: unknown,
): { ok: true; data: T } | { ok: false; message: string } {
  const result = schema.safeParse(value);
  return result.success
    ? { ok: true, data: result.data }
    : { ok: false, message: result.error.issues[0]!.message };
}

/** Splits and checks every line: the deliveries, and the bad lines (not JSON, not an object, a bad capture). */
export function splitNdjson(text: string): SplitNdjson {
  const out: IngestLine[] = [];
  const bad: BadLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      bad.push({ line: i + 1, message: `not valid JSON (${(error as Error).message}).` });
      continue;
    }
    const object = checked(NdjsonLine, value);
    if (!object.ok) {
      bad.push({ line: i + 1, message: object.message });
      continue;
    }
    if ('body' in object.data) {
      const o = object.data;
      const signature = SIGNATURE_KEYS.map((k) => o[k]).find((v) => v !== undefined && v !== null) ?? null;
      const delivery = checked(CapturedDelivery, { body: o.body, signature });
      if (delivery.ok) out.push({ line: i + 1, ...delivery.data });
      else bad.push({ line: i + 1, message: delivery.message });
    } else {
      out.push({ line: i + 1, body: trimmed, signature: null });
    }
  }
  return { lines: out, bad };
}

/** Splits and checks every line; the first bad line is a UsageError naming `file:line`. */
export function parseNdjson(text: string, name: string): IngestLine[] {
  const { lines, bad } = splitNdjson(text);
  const first = bad[0];
  if (first) {
    throw new UsageError(first.message, {
      location: `${name}:${first.line}`,
      ...(first.message.startsWith('not valid JSON') ? { hint: LINE_HINT } : {}),
    });
  }
  return lines;
}

/**
 * Imports the lines in ONE transaction. A line that cannot be imported (its body is not JSON or too large, or
 * reading it failed, e.g. a payload too deeply nested for the parser) is a bad line: named by its number,
 * skipped and counted, and the other lines are imported; with `strict`, the first bad line is a UsageError
 * naming it and nothing at all is written. A signed line whose signature does not verify (when an app secret is
 * known) is counted as rejected, with its line number.
 */
export function ingestNdjson(
  db: Db,
  lines: readonly IngestLine[],
  opts: {
    name: string;
    appSecret?: string | undefined;
    requireSignature?: boolean;
    now: () => number;
    /** Lines already found bad when the file was split (counted, listed in line order). */
    bad?: readonly BadLine[];
    strict?: boolean;
  },
): NdjsonReport {
  const report: NdjsonReport = {
    lines: lines.length + (opts.bad?.length ?? 0),
    stored: 0,
    duplicate: 0,
    rejected: 0,
    bad: 0,
    events: 0,
    duplicateEvents: 0,
    rejectedLines: [],
    badLines: [...(opts.bad ?? [])],
  };
  const refuse = (b: BadLine): never => {
    throw new UsageError(`${b.message.replace(/\.$/, '')}; nothing was imported.`, {
      location: `${opts.name}:${b.line}`,
      hint: 'Fix or remove the line, or run without --strict to import the other lines and skip it.',
    });
  };
  if (opts.strict && report.badLines[0]) refuse(report.badLines[0]);
  db.transaction(() => {
    for (const l of lines) {
      let result: IngestResult;
      try {
        result = ingestPayload(db, l.body, {
          signature: l.signature,
          appSecret: opts.appSecret,
          requireSignature: opts.requireSignature ?? false,
          receivedAt: opts.now(),
          source: 'ingest',
        });
      } catch (error) {
        // The line's own work is undone (ingestPayload runs in a savepoint); the others stand.
        const why = error instanceof RangeError ? 'too deeply nested to read' : 'could not be read';
        const b = { line: l.line, message: `${why} (${(error as Error).message}).` };
        if (opts.strict) refuse(b);
        report.badLines.push(b);
        continue;
      }
      if (result.outcome === 'rejected') {
        const reason = result.reason!;
        if (reason === 'invalid_json' || reason === 'too_large') {
          const b = { line: l.line, message: `${describeRejection(reason)}.` };
          if (opts.strict) refuse(b);
          report.badLines.push(b);
          continue;
        }
        report.rejected++;
        report.rejectedLines.push({ line: l.line, reason, message: describeRejection(reason) });
        continue;
      }
      if (result.outcome === 'stored') report.stored++;
      else report.duplicate++;
      report.events += result.events.length;
      report.duplicateEvents += result.duplicates;
    }
  })();
  report.badLines.sort((a, b) => a.line - b.line);
  report.bad = report.badLines.length;
  return report;
}
