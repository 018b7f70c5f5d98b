/**
 * Exports of the audit trail for write-once storage: the records of a time range as JSON lines or CSV, and beside
 * them a manifest (FILE.manifest.json) with the range, the count, the first and last hashes, the hash the first
 * record links to, and the file's SHA-256. `verifyExport` checks such a file without the store, in constant memory.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { Transform } from 'node:stream';
import { UsageError } from '../errors.js';
import { fsReason } from '../files.js';
import { lazyModule } from '../lazy.js';
import { type AuditRecord, ChainChecker, type Problem } from './chain.js';
import type { AuditJournal } from './journal.js';

const csvParse = lazyModule<typeof import('csv-parse')>('csv-parse');

export type ExportFormat = 'jsonl' | 'csv';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['jsonl', 'csv'];

export interface Manifest {
  format: ExportFormat;
  file: string;
  sha256: string;
  count: number;
  since: string | null;
  until: string | null;
  first_seq: number | null;
  last_seq: number | null;
  /** The hash the first record links to (the record before the range, or the genesis hash). */
  first_prev_hash: string | null;
  first_hash: string | null;
  last_hash: string | null;
  exported_at: string;
}

export const manifestPath = (file: string) => `${file}.manifest.json`;

const CSV_COLUMNS = ['seq', 'at', 'kind', 'subject', 'content', 'content_hash', 'prev_hash', 'hash'] as const;

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function line(format: ExportFormat, r: AuditRecord): string {
  if (format === 'jsonl') {
    return `${JSON.stringify({
      seq: r.seq,
      at: r.at,
      kind: r.kind,
      subject: r.subject,
      content: r.content,
      content_hash: r.contentHash,
      prev_hash: r.prevHash,
      hash: r.hash,
    })}\n`;
  }
  // a pruned record has no content: written as the literal \N, never confused with an empty text
  const content = r.content === null ? '\\N' : r.content;
  return `${[r.seq, r.at, r.kind, r.subject, content, r.contentHash, r.prevHash, r.hash].map(csvCell).join(',')}\n`;
}

/** Refuses an existing output (write-once) and a place that cannot be written, before anything is read. */
export async function checkExportTarget(file: string, force: boolean): Promise<void> {
  for (const path of [file, manifestPath(file)]) {
    const existing = await stat(path).catch(() => null);
    if (existing?.isDirectory()) throw new UsageError(`${path} is a directory.`, { location: '-o' });
    if (existing && !force) {
      throw new UsageError(`${path} exists; exports are written once.`, {
        location: '-o',
        hint: 'Choose another file name, or pass --force to replace it.',
      });
    }
  }
}

export async function exportRecords(
  journal: AuditJournal,
  options: { file: string; format: ExportFormat; since: number | null; until: number | null; now: number },
): Promise<Manifest> {
  const temp = `${options.file}.${process.pid}.tmp`;
  const hash = createHash('sha256');
  const out = createWriteStream(temp, { mode: 0o600 });
  const failed = new Promise<never>((_, reject) => out.on('error', reject));
  const write = async (text: string) => {
    hash.update(text);
    if (!out.write(text))
      await Promise.race([new Promise<void>((r) => out.once('drain', () => r())), failed]);
  };
  const manifest: Manifest = {
    format: options.format,
    file: basename(options.file),
    sha256: '',
    count: 0,
    since: options.since === null ? null : new Date(options.since).toISOString(),
    until: options.until === null ? null : new Date(options.until).toISOString(),
    first_seq: null,
    last_seq: null,
    first_prev_hash: null,
    first_hash: null,
    last_hash: null,
    exported_at: new Date(options.now).toISOString(),
  };
  try {
    if (options.format === 'csv') await write(`${CSV_COLUMNS.join(',')}\n`);
    for (const r of journal.records({
      from: options.since ?? undefined,
      until: options.until ?? undefined,
    })) {
      if (manifest.count === 0) {
        manifest.first_seq = r.seq;
        manifest.first_prev_hash = r.prevHash;
        manifest.first_hash = r.hash;
      }
      manifest.count++;
      manifest.last_seq = r.seq;
      manifest.last_hash = r.hash;
      await write(line(options.format, r));
    }
    await Promise.race([new Promise<void>((resolve) => out.end(resolve)), failed]);
    manifest.sha256 = hash.digest('hex');
    const mtemp = `${manifestPath(options.file)}.${process.pid}.tmp`;
    const { writeFile } = await import('node:fs/promises');
    await writeFile(mtemp, `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
    await rename(temp, options.file);
    await rename(mtemp, manifestPath(options.file));
  } catch (error) {
    out.destroy();
    await rm(temp, { force: true });
    throw new UsageError(`Cannot write ${options.file}: ${fsReason(error)}.`, {
      location: '-o',
      cause: error,
    });
  }
  return manifest;
}

export interface FileVerifyResult {
  manifest: Manifest;
  sha256Matches: boolean;
  count: number;
  problem: Problem | null;
  /** A manifest figure the file does not match (count, first or last hash). */
  mismatch: string | null;
}

async function readManifest(file: string): Promise<Manifest> {
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(manifestPath(file), 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read the manifest ${manifestPath(file)}: ${fsReason(error)}.`, {
      location: '--file',
      hint: 'An export is checked with the manifest written beside it (FILE.manifest.json).',
    });
  }
  try {
    return JSON.parse(text) as Manifest;
  } catch {
    throw new UsageError(`${manifestPath(file)} is not JSON.`, { location: '--file' });
  }
}

async function* parsedRecords(file: string, format: ExportFormat, onBytes: (b: Buffer) => void) {
  // hashed on the way through, so that the readers' backpressure still holds (a 'data' listener would not wait)
  const input = createReadStream(file).pipe(
    new Transform({
      transform(chunk: Buffer, _encoding, done) {
        onBytes(chunk);
        done(null, chunk);
      },
    }),
  );
  if (format === 'jsonl') {
    let n = 0;
    for await (const text of createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      n++;
      if (text === '') continue;
      let o: Record<string, unknown>;
      try {
        o = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new UsageError(`line ${n} is not JSON.`, { location: `${file}:${n}` });
      }
      yield {
        seq: Number(o.seq),
        at: Number(o.at),
        kind: String(o.kind),
        subject: String(o.subject),
        content: o.content === null ? null : String(o.content),
        contentHash: String(o.content_hash),
        prevHash: String(o.prev_hash),
        hash: String(o.hash),
      } satisfies AuditRecord;
    }
    return;
  }
  const parser = input.pipe(csvParse().parse({ from_line: 2, relax_column_count: false }));
  for await (const cells of parser as AsyncIterable<string[]>) {
    const [seq, at, kind, subject, content, contentHash, prevHash, hash] = cells as string[];
    yield {
      seq: Number(seq),
      at: Number(at),
      kind: kind ?? '',
      subject: subject ?? '',
      content: content === '\\N' ? null : (content ?? ''),
      contentHash: contentHash ?? '',
      prevHash: prevHash ?? '',
      hash: hash ?? '',
    } satisfies AuditRecord;
  }
}

/** Checks an export on its own: the file's SHA-256, the chain inside it, and the manifest's count and hashes. */
export async function verifyExport(file: string): Promise<FileVerifyResult> {
  const manifest = await readManifest(file);
  const sha = createHash('sha256');
  let ahead: AuditRecord | null = null;
  const checker = new ChainChecker(
    () => null,
    (seq) => (ahead && ahead.seq > seq ? ahead : null),
    manifest.first_prev_hash ?? undefined,
    manifest.first_seq ?? 1,
  );
  let current: AuditRecord | null = null;
  let first: AuditRecord | null = null;
  let last: AuditRecord | null = null;
  let count = 0;
  try {
    for await (const r of parsedRecords(file, manifest.format, (b) => sha.update(b))) {
      count++;
      first ??= r;
      last = r;
      ahead = r;
      if (current) checker.next(current);
      current = r;
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`Cannot read ${file}: ${fsReason(error)}.`, { location: '--file', cause: error });
  }
  ahead = null;
  if (current) checker.next(current);
  let mismatch: string | null = null;
  if (count !== manifest.count)
    mismatch = `the file has ${count} records, the manifest says ${manifest.count}`;
  else if ((first?.hash ?? null) !== manifest.first_hash)
    mismatch = "the first record's hash differs from the manifest";
  else if ((last?.hash ?? null) !== manifest.last_hash)
    mismatch = "the last record's hash differs from the manifest";
  return {
    manifest,
    sha256Matches: sha.digest('hex') === manifest.sha256,
    count,
    problem: checker.problem,
    mismatch,
  };
}
