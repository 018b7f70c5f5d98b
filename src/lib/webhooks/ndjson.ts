import { z } from 'zod';
import { UsageError } from '../errors.js';
import type { Db } from '../store/sqlite.js';
import { describeRejection, type IngestResult, ingestPayload, type RejectReason } from './storage.js';

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
  events: number;
  duplicateEvents: number;
  rejectedLines: { line: number; reason: RejectReason; message: string }[];
}

const NdjsonLine = z.record(z.string(), z.unknown(), { error: 'expected a JSON object on this line.' });

/** A captured delivery; the signature may come under its header's name. */
const CapturedDelivery = z.object({
  body: z.string({ error: '"body" must be the raw request body as a JSON string.' }),
  signature: z.string({ error: '"signature" must be a string like "sha256=<hex>".' }).nullable(),
});

const SIGNATURE_KEYS = ['signature', 'X-Hub-Signature-256', 'x-hub-signature-256'] as const;

/** The line's value checked against `schema`; its first problem is a UsageError at `where`. */
function checked<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(result.error.issues[0]!.message, { location: where });
  return result.data;
}

/** Splits and checks every line first; the first bad line is a UsageError naming `file:line`. */
export function parseNdjson(text: string, name: string): IngestLine[] {
  const out: IngestLine[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) continue;
    const where = `${name}:${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw new UsageError(`not valid JSON (${(error as Error).message}).`, {
        location: where,
        hint: 'Each line must be one webhook payload object, or {"body": "<raw>", "signature": "sha256=…"}.',
      });
    }
    const object = checked(NdjsonLine, value, where);
    if ('body' in object) {
      const signature =
        SIGNATURE_KEYS.map((k) => object[k]).find((v) => v !== undefined && v !== null) ?? null;
      const delivery = checked(CapturedDelivery, { body: object.body, signature }, where);
      out.push({ line: i + 1, ...delivery });
    } else {
      out.push({ line: i + 1, body: trimmed, signature: null });
    }
  }
  return out;
}

/**
 * Imports every line in ONE transaction: a body that is not JSON (or too large) is a bad line → UsageError
 * naming the line, and nothing at all is written. A signed line whose signature does not verify (when an app
 * secret is known) is counted as rejected, with its line number.
 */
export function ingestNdjson(
  db: Db,
  lines: readonly IngestLine[],
  opts: { name: string; appSecret?: string | undefined; requireSignature?: boolean; now: () => number },
): NdjsonReport {
  const report: NdjsonReport = {
    lines: lines.length,
    stored: 0,
    duplicate: 0,
    rejected: 0,
    events: 0,
    duplicateEvents: 0,
    rejectedLines: [],
  };
  db.transaction(() => {
    for (const l of lines) {
      const result: IngestResult = ingestPayload(db, l.body, {
        signature: l.signature,
        appSecret: opts.appSecret,
        requireSignature: opts.requireSignature ?? false,
        receivedAt: opts.now(),
        source: 'ingest',
      });
      if (result.outcome === 'rejected') {
        const reason = result.reason!;
        if (reason === 'invalid_json' || reason === 'too_large') {
          throw new UsageError(`${describeRejection(reason)}; nothing was imported.`, {
            location: `${opts.name}:${l.line}`,
          });
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
  return report;
}
