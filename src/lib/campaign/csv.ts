import { createReadStream, type ReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Options, Parser } from 'csv-parse';
import { lazyModule } from '../lazy.js';

/**
 * csv-parse's parser with its parsing core (`api`, what its stream and sync interfaces run): records are taken as the
 * core pushes them, each with the bytes read so far (`info.bytes`). Its `on_record` hook would give the same, but
 * copies the whole info object for every record (two object spreads: about a microsecond a row, a tenth of what
 * reading a row costs).
 */
interface CsvParser extends Parser {
  api: {
    parse(
      chunk: Buffer | undefined,
      end: boolean,
      push: (record: string[]) => void,
      close: () => void,
    ): unknown;
  };
}

const csvParse = lazyModule<{ Parser: new (options: Options) => CsvParser }>('csv-parse');

/** Loads the CSV parser now rather than at the first read. */
export function loadCsvParser(): void {
  csvParse();
}

/**
 * Streaming CSV reading with exact line numbers and byte offsets, so that:
 * - every problem names its line (`file.csv:12`), also after quoted fields spanning lines and CRLF files;
 * - a record that breaks the quoting is reported and skipped, and reading continues on the next line
 *   (csv-parse's own `skip_records_with_error` loses the rows after a broken closing quote);
 * - reading can resume at the byte offset just after the last record ingested (`end`), without re-parsing
 *   what came before.
 * Memory stays bounded whatever the file size: one record at a time, at most MAX_RECORD_CHARS per record.
 */

export type CsvEvent =
  | {
      type: 'record';
      fields: string[];
      /** 1-based line where the record starts. */
      line: number;
      /** Byte offset just after the record (and its line break). */
      end: number;
      /** Number of line feeds before `end` (what `linesBefore` must be to resume at `end`). */
      endLines: number;
    }
  | {
      type: 'error';
      line: number;
      code: string;
      message: string;
      /** Where reading continues: the start of the next line. */
      end: number;
      endLines: number;
    };

export interface ReadCsvOptions {
  /** Byte offset to start at (0 = the beginning, with the header). */
  start?: number;
  /** Line feeds before `start`. */
  linesBefore?: number;
}

/** A single record longer than this is refused (an unclosed quote would otherwise swallow the whole file). */
export const MAX_RECORD_CHARS = 1 << 20;

const LF = 0x0a;
const CR = 0x0d;

/** Counts line feeds as the bytes pass by, so that a byte offset can be turned into a line number. */
class LineTracker {
  private chunks: Buffer[] = [];
  /** Absolute offset of chunks[0][0]. */
  private chunkBase: number;
  /** Absolute offset up to which line feeds have been counted. */
  private pos: number;
  /** Line feeds in [0, pos). */
  private lines: number;

  constructor(start: number, linesBefore: number) {
    this.chunkBase = start;
    this.pos = start;
    this.lines = linesBefore;
  }

  write(chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  /** Counts line feeds up to `offset` (monotonic) and returns the count before it. */
  countTo(offset: number): number {
    while (this.pos < offset && this.chunks.length > 0) {
      const chunk = this.chunks[0]!;
      const chunkEnd = this.chunkBase + chunk.length;
      const from = this.pos - this.chunkBase;
      const to = Math.min(offset, chunkEnd) - this.chunkBase;
      let i = chunk.indexOf(LF, from);
      while (i !== -1 && i < to) {
        this.lines++;
        i = chunk.indexOf(LF, i + 1);
      }
      this.pos = this.chunkBase + to;
      if (this.pos >= chunkEnd) {
        this.chunks.shift();
        this.chunkBase = chunkEnd;
      }
    }
    return this.lines;
  }

  /** The 1-based line of the first byte at or after `offset` that is not a line break. */
  lineAt(offset: number): number {
    this.countTo(offset);
    let extra = 0;
    let base = this.chunkBase;
    for (const chunk of this.chunks) {
      for (let i = Math.max(0, this.pos - base); i < chunk.length; i++) {
        const b = chunk[i];
        if (b === LF) extra++;
        else if (b !== CR) return this.lines + extra + 1;
      }
      base += chunk.length;
    }
    return this.lines + extra + 1;
  }
}

const QUOTE_MESSAGES: Record<string, string> = {
  CSV_INVALID_CLOSING_QUOTE: 'broken quoting: a closing quote is followed by other characters',
  CSV_QUOTE_NOT_CLOSED: 'broken quoting: a quote is opened and never closed',
  INVALID_OPENING_QUOTE:
    'broken quoting: a quote inside an unquoted field (wrap the field in quotes and double the quote)',
  CSV_INVALID_OPENING_QUOTE: 'broken quoting: a quote inside an unquoted field',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'broken quoting: characters after a closing quote',
  CSV_MAX_RECORD_SIZE: `record longer than ${MAX_RECORD_CHARS} characters (probably a quote that is never closed)`,
};

/** Finds where the line containing the first content byte at or after `from` ends: the start of the next line. */
async function nextLineStart(path: string, from: number): Promise<{ offset: number; linesAdded: number }> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    let pos = from;
    let linesAdded = 0;
    let inContent = false;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) return { offset: pos, linesAdded };
      for (let i = 0; i < bytesRead; i++) {
        const b = buf[i];
        if (b === LF) {
          linesAdded++;
          if (inContent) return { offset: pos + i + 1, linesAdded };
        } else if (b !== CR) inContent = true;
      }
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/**
 * Reads `path` from `start`, yielding records (the header too, when starting at 0) and quoting errors, in file
 * order. Blank lines are ignored. Never throws for bad CSV content (only for I/O errors).
 *
 * The parser is fed a few kilobytes at a time and records are taken as it parses them, so that the records parsed
 * before an error in the same chunk are never lost.
 */
export async function* readCsv(path: string, options: ReadCsvOptions = {}): AsyncGenerator<CsvEvent> {
  for await (const events of readCsvBatches(path, options)) yield* events;
}

/**
 * readCsv's events, a few kilobytes of the file at a time (one array per slice parsed): for the readers of whole
 * files, which would otherwise pay an async generator's round trip for every record.
 */
export async function* readCsvBatches(
  path: string,
  options: ReadCsvOptions = {},
): AsyncGenerator<CsvEvent[]> {
  let start = options.start ?? 0;
  let linesBefore = options.linesBefore ?? 0;
  for (;;) {
    const tracker = new LineTracker(start, linesBefore);
    const parser = new (csvParse().Parser)({
      bom: start === 0,
      relax_column_count: true,
      skip_empty_lines: true,
      max_record_size: MAX_RECORD_CHARS,
    });
    let lastEnd = start;
    let events: CsvEvent[] = [];
    // called as each record is parsed: the tracker already holds the chunk it comes from
    const take = (fields: string[]) => {
      const line = tracker.lineAt(lastEnd);
      lastEnd = start + parser.info.bytes;
      events.push({ type: 'record', fields, line, end: lastEnd, endLines: tracker.countTo(lastEnd) });
    };
    /** Parses a slice (null: the end of the file); the records before an error in it are taken all the same. */
    const feed = (chunk: Buffer | null): unknown =>
      parser.api.parse(chunk ?? undefined, chunk === null, take, () => {}) ?? undefined;
    const source = createReadStream(path, { start, highWaterMark: 64 * 1024 });
    let failure: unknown;
    try {
      for (let done = false; !done && failure === undefined; ) {
        const next = await nextChunk(source);
        if (next === null) done = true;
        else tracker.write(next);
        for (const piece of slices(next)) {
          failure = feed(piece);
          if (events.length > 0) {
            const parsed = events;
            events = [];
            yield parsed;
          }
          if (failure !== undefined) break;
        }
      }
      if (failure === undefined) return;
    } finally {
      source.destroy();
      parser.destroy();
    }
    const code = errorCode(failure);
    if (code === undefined) throw failure;
    // A broken record: report it at the line where it starts, and continue on the next line.
    const line = tracker.lineAt(lastEnd);
    const linesAtLastEnd = tracker.countTo(lastEnd);
    const next = await nextLineStart(path, lastEnd);
    yield [
      {
        type: 'error',
        line,
        code,
        message: QUOTE_MESSAGES[code] ?? (failure instanceof Error ? failure.message : String(failure)),
        end: next.offset,
        endLines: linesAtLastEnd + next.linesAdded,
      },
    ];
    start = next.offset;
    linesBefore = linesAtLastEnd + next.linesAdded;
  }
}

/**
 * The parser is fed a chunk in slices of this size, each slice's records taken before the next is parsed: the first
 * records come after a few kilobytes, not a whole chunk (the header line; the first rows a send can start with).
 */
const FEED_BYTES = 8 * 1024;

function* slices(chunk: Buffer | null): Generator<Buffer | null> {
  if (chunk === null) {
    yield null;
    return;
  }
  for (let at = 0; at < chunk.length; at += FEED_BYTES) yield chunk.subarray(at, at + FEED_BYTES);
}

function errorCode(error: unknown): string | undefined {
  if (!error || typeof error !== 'object' || !('code' in error) || typeof error.code !== 'string')
    return undefined;
  return error.code.startsWith('CSV_') || error.code === 'INVALID_OPENING_QUOTE' ? error.code : undefined;
}

/** The next chunk of a file stream, or null at its end; rejects on I/O errors. */
function nextChunk(stream: ReadStream): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunk = stream.read() as Buffer | null;
    if (chunk !== null) return resolve(chunk);
    if (stream.readableEnded) return resolve(null);
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const onReadable = () => {
      const c = stream.read() as Buffer | null;
      if (c === null) return;
      cleanup();
      resolve(c);
    };
    const onEnd = () => {
      cleanup();
      resolve(null);
    };
    const onError = (e: Error) => {
      cleanup();
      reject(e);
    };
    stream.on('readable', onReadable);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

/** Whether every field of a record is empty (a line of commas): ignored like a blank line. */
export function isBlankRecord(fields: readonly string[]): boolean {
  for (const f of fields) if (f.trim() !== '') return false;
  return true;
}
