import { createRequire } from 'node:module';
import type { Readable, Writable } from 'node:stream';
import { stripVTControlCharacters } from 'node:util';
import type { ChalkInstance } from 'chalk';
import { Redactor } from '../config/redact.js';

/** The part of an ora spinner that Io drives while other lines are printed. */
interface OraSpinner {
  readonly isSpinning: boolean;
  clear(): unknown;
  render(): unknown;
  start(): unknown;
  stop(): unknown;
}

type ChalkModule = typeof import('chalk');
let chalkModule: ChalkModule | undefined;

/**
 * Loads chalk ahead of use. Without colour, `io.style` needs no chalk at all (plain text), so `wacx --help`
 * piped or with NO_COLOR never loads it; main() calls this when colour is possible.
 */
export async function preloadChalk(): Promise<void> {
  chalkModule ??= await import('chalk');
}

function chalkSync(): ChalkModule | undefined {
  if (!chalkModule) {
    try {
      // Node >= 20.19 can require() ES modules; older ones get plain text until preloadChalk() ran.
      chalkModule = createRequire(import.meta.url)('chalk') as ChalkModule;
    } catch {
      return undefined;
    }
  }
  return chalkModule;
}

const COLUMN_GAP = '  ';
/** No column is cut narrower than this (a header of 3 letters and an ellipsis stay readable). */
const MIN_COLUMN = 6;

/** Column widths that fit `columns` characters: the widest column gives way first. */
export function fitColumns(natural: readonly number[], columns: number | undefined): number[] {
  const widths = [...natural];
  if (!columns) return widths;
  let total = widths.reduce((a, b) => a + b, 0) + COLUMN_GAP.length * (widths.length - 1);
  while (total > columns) {
    let widest = 0;
    for (let i = 1; i < widths.length; i++) if (widths[i]! > widths[widest]!) widest = i;
    if (widths[widest]! <= MIN_COLUMN) break;
    widths[widest]!--;
    total--;
  }
  return widths;
}

function truncate(cell: string, width: number): string {
  return cell.length <= width ? cell : `${cell.slice(0, Math.max(0, width - 1))}…`;
}

function isJsonText(text: string): boolean {
  const first = text.trimStart()[0];
  return first === '{' || first === '[' || first === '"';
}

/** Builders of chalk that take arguments and return a styler: `style.hex('#f00')('text')`. */
const STYLE_BUILDERS = new Set(['rgb', 'hex', 'ansi256', 'bgRgb', 'bgHex', 'bgAnsi256']);

/** A chalk look-alike that styles nothing: any chain of styles returns the text as given. */
const plainStyle: ChalkInstance = (() => {
  const join = (...args: unknown[]) => args.join(' ');
  const proxy: ChalkInstance = new Proxy(join, {
    get: (_target, prop) => {
      if (prop === 'level') return 0;
      if (typeof prop === 'string' && STYLE_BUILDERS.has(prop)) return () => proxy;
      return proxy;
    },
    apply: (_target, _this, args: unknown[]) => join(...args),
  }) as unknown as ChalkInstance;
  return proxy;
})();

export interface IoStreams {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean; columns?: number };
}

export interface IoOptions {
  env: NodeJS.ProcessEnv;
  json?: boolean;
  /** false when --no-color was given. */
  color?: boolean;
  /** false when --no-input was given. */
  input?: boolean;
  verbose?: boolean;
  /** A jq filter applied to every JSON document or NDJSON line written to stdout (--jq). */
  jq?: string;
  redactor?: Redactor;
}

export interface Spinner {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  warn(text?: string): void;
  stop(): void;
}

/**
 * Everything a command prints goes through here: data to stdout, messages for people to stderr,
 * colour only where it belongs, and every byte passed through the redactor.
 */
export class Io {
  readonly streams: IoStreams;
  readonly env: NodeJS.ProcessEnv;
  readonly redactor: Redactor;
  json: boolean;
  verbose: boolean;
  private colorFlag: boolean;
  private activeSpinner: OraSpinner | undefined;
  private inputFlag: boolean;
  private chalk: ChalkInstance | undefined;
  private jqFilter: string | undefined;
  /** Writes waiting for jq, in order: jq runs asynchronously, stdout keeps the order of the writes. */
  private jqQueue: Promise<void> = Promise.resolve();
  /** The first error jq reported while filtering output (a runtime error of the filter). */
  jqError: Error | undefined;

  constructor(streams: IoStreams, options: IoOptions) {
    this.streams = streams;
    this.env = options.env;
    this.redactor = options.redactor ?? new Redactor();
    this.json = options.json ?? false;
    this.verbose = options.verbose ?? false;
    this.colorFlag = options.color ?? true;
    this.inputFlag = options.input ?? true;
  }

  /** Applies the global flags once commander has parsed them. */
  configure(options: {
    json?: boolean;
    color?: boolean;
    input?: boolean;
    verbose?: boolean;
    jq?: string | undefined;
  }): void {
    if (options.json !== undefined) this.json = options.json;
    if (options.jq !== undefined) this.jqFilter = options.jq;
    if (options.color !== undefined) this.colorFlag = options.color;
    if (options.input !== undefined) this.inputFlag = options.input;
    if (options.verbose !== undefined) this.verbose = options.verbose;
    this.chalk = undefined;
  }

  get stdoutIsTTY(): boolean {
    return Boolean(this.streams.stdout.isTTY);
  }
  get stderrIsTTY(): boolean {
    return Boolean(this.streams.stderr.isTTY);
  }
  get ci(): boolean {
    const ci = this.env.CI;
    return ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false';
  }
  /** Colour on stderr/stdout: a TTY, and not disabled by --no-color, NO_COLOR, CLICOLOR=0 or TERM=dumb. */
  get color(): boolean {
    if (!this.colorFlag) return false;
    if (this.env.NO_COLOR !== undefined && this.env.NO_COLOR !== '') return false;
    if (this.env.CLICOLOR === '0' || this.env.TERM === 'dumb') return false;
    if (this.env.FORCE_COLOR && this.env.FORCE_COLOR !== '0') return true;
    return this.stderrIsTTY;
  }
  /** Prompts are allowed: stdin and stdout are TTYs and --no-input was not given. */
  get interactive(): boolean {
    return this.inputFlag && Boolean(this.streams.stdin.isTTY) && this.stdoutIsTTY && !this.ci;
  }
  /** Live redraws (spinners, progress bars): stderr is a TTY and not CI. */
  get live(): boolean {
    return this.stderrIsTTY && !this.ci;
  }
  /** Chalk styles when colour is on; otherwise a look-alike that returns the text unchanged. */
  get style(): ChalkInstance {
    if (!this.chalk) {
      const chalk = this.color ? chalkSync() : undefined;
      this.chalk = chalk ? new chalk.Chalk({ level: 1 }) : plainStyle;
    }
    return this.chalk;
  }

  /** Raw, redacted write to stdout (data). With --jq, JSON written with --json goes through the filter first. */
  write(text: string): void {
    if (this.jqFilter !== undefined && this.json) {
      const filter = this.jqFilter;
      this.jqQueue = this.jqQueue.then(() => this.writeFiltered(text, filter));
      return;
    }
    this.writePlain(text);
  }

  /** Whether the command already wrote data: a failure then is told by that output, not by a second document. */
  wroteData = false;

  private writePlain(text: string): void {
    this.wroteData = true;
    // `style` colours for stderr; data redirected to a file or pipe must not carry escape codes.
    const plain = this.stdoutIsTTY ? text : stripVTControlCharacters(text);
    this.streams.stdout.write(this.redactor.redact(plain));
  }

  /**
   * jq reads the text as a stream of JSON values (one document, or many NDJSON lines) like `jq -r` would;
   * text that is not JSON (help) passes unchanged. A failing filter stops filtering and is reported once.
   */
  private async writeFiltered(text: string, filter: string): Promise<void> {
    if (this.jqError) return;
    if (!isJsonText(text)) return this.writePlain(text);
    try {
      const { runJq } = await import('./jq.js');
      // One compact line per result keeps NDJSON streams line-oriented, as `gh --jq` does.
      this.writePlain(await runJq(text, filter));
    } catch (error) {
      this.jqError = error as Error;
    }
  }

  /** Waits until every write queued for jq reached stdout. */
  async flush(): Promise<void> {
    await this.jqQueue;
  }
  /** One line of data on stdout. */
  out(line = ''): void {
    this.write(`${line}\n`);
  }
  /** A JSON document (pretty) or an NDJSON line (`ndjson`) on stdout. */
  printJson(value: unknown, options: { ndjson?: boolean } = {}): void {
    this.write(`${options.ndjson ? JSON.stringify(value) : JSON.stringify(value, null, 2)}\n`);
  }
  /** A line for people on stderr. */
  info(message: string): void {
    // A line printed while a spinner runs goes above it instead of through it.
    this.activeSpinner?.clear();
    this.streams.stderr.write(`${this.redactor.redact(message)}\n`);
    this.activeSpinner?.render();
  }

  /** Runs `fn` (e.g. a prompt) with the running spinner stopped, then starts it again. */
  async withSpinnerPaused<T>(fn: () => Promise<T>): Promise<T> {
    const spinner = this.activeSpinner;
    if (!spinner?.isSpinning) return fn();
    spinner.stop();
    try {
      return await fn();
    } finally {
      spinner.start();
    }
  }
  success(message: string): void {
    this.info(`${this.style.green('✓')} ${message}`);
  }
  warn(message: string): void {
    this.info(`${this.style.yellow('!')} ${message}`);
  }
  error(message: string): void {
    this.info(`${this.style.red('✗')} ${message}`);
  }
  /** Only with --verbose; for curl-like traces. */
  debug(message: string): void {
    if (this.verbose) this.info(this.style.dim(message));
  }

  /** A spinner on a live TTY; plain start/end lines otherwise. */
  async spinner(text: string): Promise<Spinner> {
    // A pseudo-terminal that reports 0 columns makes ora redraw endlessly: plain lines there too.
    if (!this.live || this.json || !this.streams.stderr.columns) {
      return {
        update() {},
        succeed: (t) => this.success(t ?? text),
        fail: (t) => this.error(t ?? text),
        warn: (t) => this.warn(t ?? text),
        stop() {},
      };
    }
    const { default: ora } = await import('ora');
    // ora writes to the stream itself: redact every text before it gets there
    const r = (t: string | undefined) => (t === undefined ? undefined : this.redactor.redact(t));
    const s = ora({
      text: r(text),
      stream: this.streams.stderr,
      color: 'cyan',
      isEnabled: true,
      discardStdin: false,
    }).start();
    this.activeSpinner = s;
    const done = () => {
      if (this.activeSpinner === s) this.activeSpinner = undefined;
    };
    return {
      update: (t) => {
        s.text = r(t) ?? '';
      },
      succeed: (t) => {
        done();
        s.succeed(r(t));
      },
      fail: (t) => {
        done();
        s.fail(r(t));
      },
      warn: (t) => {
        done();
        s.warn(r(t));
      },
      stop: () => {
        done();
        s.stop();
      },
    };
  }

  /** Reads all of stdin as UTF-8 (for --token-stdin and friends). */
  async readStdin(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.streams.stdin)
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return Buffer.concat(chunks).toString('utf8');
  }

  /** Aligned columns on a TTY, cut to the terminal's width with an ellipsis; tab-separated and whole when piped. */
  table(headers: string[], rows: (string | number | null | undefined)[][]): void {
    const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))));
    if (!this.stdoutIsTTY) {
      for (const r of cells) this.out(r.join('\t'));
      return;
    }
    const natural = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
    const widths = fitColumns(natural, this.streams.stdout.columns);
    const line = (r: string[]) =>
      r
        .map((c, i) => truncate(c, widths[i] ?? 0).padEnd(widths[i] ?? 0))
        .join(COLUMN_GAP)
        .trimEnd();
    this.out(this.style.bold(line(headers)));
    for (const r of cells) this.out(line(r));
  }
}
