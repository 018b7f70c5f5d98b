/**
 * Template files: one YAML or JSON file per template. Parsing keeps source positions so that every
 * problem (syntax, shape, Meta's rules) is reported as `file:line:col`.
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { LineCounter, Node, parseDocument } from 'yaml';
import { UsageError } from '../errors.js';
import { fsReason } from '../files.js';
import { lazyModule } from '../lazy.js';
import { canonicalize } from './canonical.js';
import { checkTemplate, type RuleProblem, type TemplateDefinition } from './rules.js';

const yaml = lazyModule<typeof import('yaml')>('yaml');

export const TEMPLATE_FILE_EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

/** One problem in one file, located. */
export interface FileProblem {
  file: string;
  line: number;
  column: number;
  /** Path inside the template, e.g. `components[1].text` ('' for the file as a whole). */
  path: string;
  severity: 'error' | 'warning';
  message: string;
  subcode: number | null;
}

export interface LoadedTemplate {
  file: string;
  /** The canonical definition; undefined when the file could not be read as a template at all. */
  definition: TemplateDefinition | undefined;
  problems: FileProblem[];
}

export { formatProblem } from './render.js';

export const errorCount = (problems: readonly FileProblem[]) =>
  problems.filter((p) => p.severity === 'error').length;

// ---------- schema (the file's shape; Meta's rules are in rules.ts) ----------

/** The file's schemas, built on first use: zod costs start-up time that `wacx templates … --help` must not pay. */
function buildSchemas(z: typeof import('zod').z) {
  const Example = z.looseObject({
    header_text: z.array(z.string()).optional(),
    header_text_named_params: z.array(z.object({ param_name: z.string(), example: z.string() })).optional(),
    header_handle: z.array(z.string()).optional(),
    body_text: z.array(z.array(z.string())).optional(),
    body_text_named_params: z.array(z.object({ param_name: z.string(), example: z.string() })).optional(),
  });

  const Button = z.looseObject({
    type: z.string(),
    text: z.string().optional(),
    url: z.string().optional(),
    phone_number: z.string().optional(),
    otp_type: z.string().optional(),
    example: z.union([z.string(), z.array(z.string())]).optional(),
  });

  const Component = z.looseObject({
    type: z.string(),
    format: z.string().optional(),
    text: z.string().optional(),
    example: Example.optional(),
    buttons: z.array(Button).optional(),
    add_security_recommendation: z.boolean().optional(),
    code_expiration_minutes: z.number().int().optional(),
  });

  /** The shape of a template file. Unknown top-level keys are errors (a typo would otherwise be silently ignored). */
  const TemplateFileSchema = z.strictObject({
    name: z.string(),
    language: z.string(),
    category: z.string(),
    parameter_format: z.string().optional(),
    message_send_ttl_seconds: z.number().int().optional(),
    components: z.array(Component).min(1),
  });

  /** A template file is a mapping (its content is then checked by Meta's rules and TemplateFileSchema). */
  const FileMapping = z.record(z.string(), z.unknown());

  const ComponentList = z.object({ components: z.array(z.unknown()) });

  /**
   * The component keys wacx knows (Component's, plus kinds Meta has that wacx passes through unmodelled), whatever
   * their values: any other key is likely a typo.
   */
  const ComponentKeys = z.strictObject(
    Object.fromEntries(
      [...Object.keys(Component.shape), 'cards', 'limited_time_offer'].map((k) => [k, z.unknown()]),
    ),
  );
  return { TemplateFileSchema, FileMapping, ComponentList, ComponentKeys };
}

const zod = lazyModule<typeof import('zod')>('zod');
let builtSchemas: ReturnType<typeof buildSchemas> | undefined;
function schemas(): ReturnType<typeof buildSchemas> {
  builtSchemas ??= buildSchemas(zod().z);
  return builtSchemas;
}

// ---------- paths and positions ----------

/** `components[1].example.body_text[0][1]` → ['components', 1, 'example', 'body_text', 0, 1]. */
export function parsePath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) {
    if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[1] !== undefined) out.push(m[1]);
  }
  return out;
}

export function formatPath(segments: readonly PropertyKey[]): string {
  let s = '';
  for (const seg of segments) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else s += s ? `.${String(seg)}` : String(seg);
  }
  return s;
}

class Locator {
  constructor(
    private readonly doc: ReturnType<typeof parseDocument>,
    private readonly lines: LineCounter,
  ) {}

  /** Position of the value at `segments` (or of its key with `atKey`), else of the nearest existing parent. */
  locate(segments: readonly (string | number)[], atKey = false): { line: number; column: number } {
    let node: unknown = this.doc.contents;
    let best: Node | null = isNodeLike(node) ? node : null;
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!;
      const last = i === segments.length - 1;
      if (yaml().isMap(node)) {
        const pair = node.items.find(
          (p) => yaml().isPair(p) && yaml().isScalar(p.key) && String(p.key.value) === String(seg),
        );
        if (!pair) break;
        if (last && atKey && isNodeLike(pair.key)) {
          best = pair.key;
          break;
        }
        node = pair.value;
        if (isNodeLike(node)) best = node;
        else if (isNodeLike(pair.key)) best = pair.key;
      } else if (yaml().isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (!isNodeLike(item)) break;
        node = item;
        best = item;
      } else break;
    }
    const offset = best?.range?.[0] ?? 0;
    const pos = this.lines.linePos(offset);
    return { line: pos.line, column: pos.col };
  }
}

function isNodeLike(v: unknown): v is Node {
  return (
    typeof v === 'object' && v !== null && 'range' in v && Array.isArray((v as { range?: unknown }).range)
  );
}

// ---------- parsing ----------

function zodProblems(
  value: unknown,
): { path: string; message: string; atKey: boolean; severity: 'error' | 'warning' }[] {
  const out: { path: string; message: string; atKey: boolean; severity: 'error' | 'warning' }[] = [];
  const result = schemas().TemplateFileSchema.safeParse(value, { reportInput: true });
  if (!result.success) {
    for (const issue of result.error.issues) {
      const path = formatPath(issue.path);
      const where = path || 'the file';
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          out.push({
            path: formatPath([...issue.path, key]),
            message: `unknown key "${key}" (allowed: name, language, category, parameter_format, message_send_ttl_seconds, components)`,
            atKey: true,
            severity: 'error',
          });
        }
      } else if (issue.code === 'invalid_type') {
        const input = (issue as { input?: unknown }).input;
        out.push({
          path,
          message:
            input === undefined
              ? `${where} is required`
              : `${where} must be ${article(issue.expected)}, got ${describe(input)}`,
          atKey: false,
          severity: 'error',
        });
      } else if (issue.code === 'too_small' && issue.origin === 'array') {
        out.push({
          path,
          message: `${where} must have at least ${issue.minimum} item(s)`,
          atKey: false,
          severity: 'error',
        });
      } else {
        out.push({ path, message: `${where}: ${issue.message}`, atKey: false, severity: 'error' });
      }
    }
  }
  // Unknown keys inside components: warnings (Meta has kinds wacx does not model). A component that is not a
  // mapping is an error reported above.
  const components = schemas().ComponentList.safeParse(value);
  components.data?.components.forEach((c, i) => {
    const keys = schemas().ComponentKeys.safeParse(c);
    for (const issue of keys.error?.issues ?? []) {
      if (issue.code !== 'unrecognized_keys') continue;
      for (const key of issue.keys) {
        out.push({
          path: `components[${i}].${key}`,
          message: `unknown component key "${key}" (is it a typo?)`,
          atKey: true,
          severity: 'warning',
        });
      }
    }
  });
  return out;
}

function article(expected: string): string {
  if (expected === 'array') return 'a list';
  if (expected === 'object') return 'a mapping (key: value)';
  if (expected === 'int') return 'a whole number';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** JSON.parse's complaint and its character offset, or undefined when the text is valid JSON. */
function strictJsonError(text: string): { message: string; offset: number } | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const offset = Number(/at position (\d+)/.exec(message)?.[1] ?? 0);
    return { message: message.replace(/ in JSON at position \d+.*$/, ''), offset };
  }
}

/** Parses one template file's text. Never throws: every problem is returned, located. */
export function parseTemplateText(text: string, file: string): LoadedTemplate {
  const lines = new (yaml().LineCounter)();
  const doc = yaml().parseDocument(text, {
    lineCounter: lines,
    keepSourceTokens: true,
    prettyErrors: true,
    uniqueKeys: true,
  });
  const problems: FileProblem[] = [];
  const push = (
    line: number,
    column: number,
    path: string,
    severity: 'error' | 'warning',
    message: string,
    subcode: number | null = null,
  ) => problems.push({ file, line, column, path, severity, message, subcode });

  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    push(
      pos.line,
      pos.col,
      '',
      'error',
      `invalid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${firstLine(e.message)}`,
    );
  }
  // YAML accepts what JSON does not (trailing commas, comments): a .json file must be strict JSON.
  if (problems.length === 0 && file.endsWith('.json')) {
    const error = strictJsonError(text);
    if (error) {
      const pos = lines.linePos(error.offset);
      push(pos.line, pos.col, '', 'error', `invalid JSON: ${error.message}`);
    }
  }
  if (problems.length > 0) return { file, definition: undefined, problems };

  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  const locator = new Locator(doc, lines);
  if (!schemas().FileMapping.safeParse(value).success) {
    push(1, 1, '', 'error', 'a template file must be a mapping with name, language, category and components');
    return { file, definition: undefined, problems };
  }

  // Meta's rules come first: they check every value they use, with messages in their own words.
  const ruleProblems: RuleProblem[] = checkTemplate(value);
  for (const r of ruleProblems) {
    const pos = locator.locate(parsePath(r.path));
    push(pos.line, pos.column, r.path, r.severity, r.message, r.subcode ?? null);
  }
  // The schema adds unknown keys, and any shape problem the rules did not already report there or above.
  const ruleErrorPaths = ruleProblems.filter((r) => r.severity === 'error').map((r) => r.path);
  const covered = (path: string) =>
    ruleErrorPaths.some((p) => p === path || path.startsWith(`${p}.`) || path.startsWith(`${p}[`));
  for (const z of zodProblems(value)) {
    if (!z.atKey && covered(z.path)) continue;
    const pos = locator.locate(parsePath(z.path), z.atKey);
    push(pos.line, pos.column, z.path, z.severity, z.message);
  }
  problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { file, definition: canonicalize(value as TemplateDefinition), problems };
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '');
}

export async function loadTemplateFile(file: string): Promise<LoadedTemplate> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read template file: ${fsReason(error)}.`, { location: file });
  }
  return parseTemplateText(text.replace(/^\uFEFF/, ''), file);
}

/** The template files under `target` (a file, or a directory searched recursively), sorted. */
export async function findTemplateFiles(target: string): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT'
        ? `No such file or directory: ${target}`
        : `Cannot read ${target}: ${fsReason(error)}.`,
      {
        hint: 'Pass a template file or a directory of .yaml/.yml/.json files.',
      },
    );
  }
  if (info.isFile()) return [target];
  const out: string[] = [];
  const walk = async (dir: string) => {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      throw new UsageError(`Cannot read the directory: ${fsReason(error)}.`, { location: dir });
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const full = join(dir, e.name);
      if (e.isDirectory()) await walk(full);
      else if (
        e.isFile() &&
        (TEMPLATE_FILE_EXTENSIONS as readonly string[]).includes(extname(e.name).toLowerCase())
      ) {
        out.push(full);
      }
    }
  };
  await walk(target);
  return out.sort();
}

export interface LoadedSet {
  templates: LoadedTemplate[];
  problems: FileProblem[];
}

/**
 * Loads every template under `target`, and adds cross-file problems: two files defining the same
 * name + language.
 */
export async function loadTemplates(target: string): Promise<LoadedSet> {
  const files = await findTemplateFiles(target);
  const templates = await Promise.all(files.map((f) => loadTemplateFile(f)));
  const problems = templates.flatMap((t) => t.problems);
  const seen = new Map<string, LoadedTemplate>();
  for (const t of templates) {
    const d = t.definition;
    if (!d || typeof d.name !== 'string' || typeof d.language !== 'string') continue;
    const key = templateKey(d.name, d.language);
    const first = seen.get(key);
    if (first) {
      problems.push({
        file: t.file,
        line: 1,
        column: 1,
        path: 'name',
        severity: 'error',
        message: `${d.name} (${d.language}) is also defined in ${first.file}; keep one file per name and language`,
        subcode: null,
      });
    } else seen.set(key, t);
  }
  return { templates, problems };
}

export const templateKey = (name: string, language: string) => `${name}\u0000${language}`;

/** The file name `pull` uses: `<name>.<language>.yaml`. */
export const templateFileName = (name: string, language: string) => `${name}.${language}.yaml`;

/** Example lists written inline (`body_text: [[Pablo, A-1001]]`), as in Meta's documentation. */
const FLOW_KEYS = new Set(['header_text', 'header_handle', 'body_text']);

/** A template file's text: YAML (the default) or JSON, from the canonical definition. */
export function stringifyTemplate(def: TemplateDefinition, format: 'yaml' | 'json' = 'yaml'): string {
  const canonical = canonicalize(def);
  if (format === 'json') return `${JSON.stringify(canonical, null, 2)}\n`;
  const doc = new (yaml().Document)(canonical);
  yaml().visit(doc, {
    Pair(_, pair, path) {
      if (!yaml().isScalar(pair.key) || !yaml().isSeq(pair.value)) return;
      const key = String(pair.key.value);
      const inButton =
        key === 'example' &&
        path.some((n) => yaml().isPair(n) && yaml().isScalar(n.key) && n.key.value === 'buttons');
      if (FLOW_KEYS.has(key) || inButton) {
        pair.value.flow = true;
        yaml().visit(pair.value, {
          Seq(_k, seq) {
            seq.flow = true;
          },
        });
      }
    },
  });
  return doc.toString({ lineWidth: 0, blockQuote: 'literal', indentSeq: true, flowCollectionPadding: false });
}
