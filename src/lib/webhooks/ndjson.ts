import { UsageError } from '../errors.js';
import type { Db } from '../store/index.js';
import { describeRejection, type IngestResult, ingestPayload, type RejectReason } from './ingest.js';

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

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
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
    if (!isObj(value)) {
      throw new UsageError('expected a JSON object on this line.', { location: where });
    }
    if ('body' in value) {
      const body = value.body;
      const sig = value.signature ?? value['X-Hub-Signature-256'] ?? value['x-hub-signature-256'] ?? null;
      if (typeof body !== 'string') {
        throw new UsageError('"body" must be the raw request body as a JSON string.', { location: where });
      }
      if (sig !== null && typeof sig !== 'string') {
        throw new UsageError('"signature" must be a string like "sha256=<hex>".', { location: where });
      }
      out.push({ line: i + 1, body, signature: sig });
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
