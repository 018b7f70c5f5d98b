/**
 * Meta's rules for message templates (meta-cloud-api.md §5.1), checked offline.
 * Pure: no I/O. Used by `wacx templates lint|plan|push|create` and by the sandbox on create/edit
 * (an error there becomes a Graph code-100 error carrying `subcode`).
 */
import type { TemplateButton, TemplateComponent } from '../graph/types.js';
import { isTemplateLanguage, suggestLanguage } from './languages.js';

export type { TemplateButton, TemplateComponent };

export interface TemplateDefinition {
  name: string;
  language: string;
  category: string;
  parameter_format?: 'POSITIONAL' | 'NAMED';
  components: TemplateComponent[];
  message_send_ttl_seconds?: number;
}

export interface RuleProblem {
  /** Where in the definition, e.g. `components[1].text` or `components[3].buttons[0].text`. */
  path: string;
  message: string;
  severity: 'error' | 'warning';
  /** Meta's creation subcode when one applies, e.g. 2388040. */
  subcode?: number;
}

export const TEMPLATE_CATEGORIES = ['MARKETING', 'UTILITY', 'AUTHENTICATION'] as const;
export const PARAMETER_FORMATS = ['POSITIONAL', 'NAMED'] as const;
export const HEADER_FORMATS = ['TEXT', 'IMAGE', 'VIDEO', 'GIF', 'DOCUMENT', 'LOCATION', 'PRODUCT'] as const;
export const MEDIA_HEADER_FORMATS = ['IMAGE', 'VIDEO', 'GIF', 'DOCUMENT'] as const;
export const COMPONENT_TYPES = ['HEADER', 'BODY', 'FOOTER', 'BUTTONS'] as const;
/** Component types Meta accepts that wacx passes through without checking their inside. */
export const UNCHECKED_COMPONENT_TYPES = [
  'CAROUSEL',
  'LIMITED_TIME_OFFER',
  'CALL_PERMISSION_REQUEST',
] as const;
export const BUTTON_TYPES = [
  'QUICK_REPLY',
  'URL',
  'PHONE_NUMBER',
  'COPY_CODE',
  'OTP',
  'FLOW',
  'MPM',
  'SPM',
  'CATALOG',
  'VOICE_CALL',
  'APP',
] as const;
/** Button types whose label (`text`) is required. */
const LABELLED_BUTTONS = new Set([
  'QUICK_REPLY',
  'URL',
  'PHONE_NUMBER',
  'FLOW',
  'MPM',
  'CATALOG',
  'VOICE_CALL',
]);
export const OTP_TYPES = ['COPY_CODE', 'ONE_TAP', 'ZERO_TAP'] as const;

export const LIMITS = {
  nameMax: 512,
  headerTextMax: 60,
  headerVariablesMax: 1,
  bodyTextMax: 1024,
  footerTextMax: 60,
  buttonsMax: 10,
  quickReplyMax: 10,
  urlButtonsMax: 2,
  phoneButtonsMax: 1,
  copyCodeButtonsMax: 1,
  buttonTextMax: 25,
  urlMax: 2000,
  phoneNumberMax: 20,
  copyCodeExampleMax: 15,
  /** Enforced by whatsapp-api-js; whether Meta enforces it is uncertain, so only a warning. */
  paramNameMax: 20,
  codeExpirationMinutes: [1, 90] as const,
} as const;

/** Creation-time subcodes (meta-cloud-api.md §5.1). */
export const SUBCODES = {
  charLimit: 2388040,
  headerFormat: 2388047,
  bodyFormat: 2388072,
  footerFormat: 2388073,
  tooManyVariables: 2388293,
  leadingOrTrailingVariable: 2388299,
} as const;

/** `message_send_ttl_seconds` ranges per category ([min, max]; -1 = 30 days where allowed). */
export const TTL_RANGES: Record<string, { min: number; max: number; allowMinusOne: boolean }> = {
  AUTHENTICATION: { min: 30, max: 900, allowMinusOne: true },
  UTILITY: { min: 30, max: 43_200, allowMinusOne: true },
  MARKETING: { min: 43_200, max: 2_592_000, allowMinusOne: false },
};

export const NAME_PATTERN = /^[a-z0-9_]{1,512}$/;
const POSITIONAL_NAME = /^[1-9][0-9]*$/;
const NAMED_NAME = /^[a-z_][a-z0-9_]*$/;

// ---------- placeholders ----------

export interface Placeholder {
  /** As written, e.g. `{{1}}` or `{{first_name}}`. */
  raw: string;
  /** The inside, e.g. `1` or `first_name`. */
  name: string;
  kind: 'positional' | 'named' | 'invalid';
  start: number;
  end: number;
}

/** Every `{{…}}` in `text`, in order. */
export function findPlaceholders(text: string): Placeholder[] {
  const out: Placeholder[] = [];
  for (const m of text.matchAll(/\{\{([^{}]*)\}\}/g)) {
    const inner = m[1] ?? '';
    const kind = POSITIONAL_NAME.test(inner) ? 'positional' : NAMED_NAME.test(inner) ? 'named' : 'invalid';
    const start = m.index ?? 0;
    out.push({ raw: m[0], name: inner, kind, start, end: start + m[0].length });
  }
  return out;
}

/** Distinct variable names: positional ones sorted by number, named ones in order of first use. */
function distinctNames(placeholders: readonly Placeholder[]): string[] {
  const names: string[] = [];
  for (const p of placeholders) if (p.kind !== 'invalid' && !names.includes(p.name)) names.push(p.name);
  if (names.length > 0 && names.every((n) => POSITIONAL_NAME.test(n)))
    names.sort((a, b) => Number(a) - Number(b));
  return names;
}

/** Length as people (and Meta's counters) see it: code points, not UTF-16 units. */
export function textLength(text: string): number {
  return [...text].length;
}

// ---------- helpers ----------

type Obj = Record<string, unknown>;
/** A JSON object (a mapping), as opposed to a list or a scalar: the rules and the canonical form walk any JSON. */
export const isJsonObject = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const upper = (v: unknown): string | undefined =>
  typeof v === 'string' ? v.trim().toUpperCase() : undefined;
const show = (v: unknown): string => JSON.stringify(v);

class Problems {
  readonly list: RuleProblem[] = [];
  error(path: string, message: string, subcode?: number): void {
    this.list.push(
      subcode === undefined
        ? { path, message, severity: 'error' }
        : { path, message, severity: 'error', subcode },
    );
  }
  warn(path: string, message: string, subcode?: number): void {
    this.list.push(
      subcode === undefined
        ? { path, message, severity: 'warning' }
        : { path, message, severity: 'warning', subcode },
    );
  }
}

interface Ctx {
  p: Problems;
  category: string | undefined;
  format: 'POSITIONAL' | 'NAMED';
}

// ---------- entry points ----------

/**
 * Checks a template definition (the create payload / template file content) against Meta's rules.
 * Returns every problem found (never throws). Enum values (category, component/button types, formats)
 * are accepted in any case; the language code is case-sensitive, as Meta's is.
 */
export function checkTemplate(def: unknown): RuleProblem[] {
  const p = new Problems();
  if (!isJsonObject(def)) {
    p.error('', 'a template must be an object with name, language, category and components');
    return p.list;
  }

  checkName(def.name, p);
  checkLanguage(def.language, p);
  const category = checkCategory(def.category, p);
  const format = checkParameterFormat(def.parameter_format, p);
  checkTtl(def.message_send_ttl_seconds, category, p);

  const ctx: Ctx = { p, category, format };
  checkComponents(def.components, ctx);
  return p.list;
}

/** True when `problems` holds at least one error (warnings don't count). */
export function hasErrors(problems: readonly RuleProblem[]): boolean {
  return problems.some((x) => x.severity === 'error');
}

/**
 * The variables a sender must fill: header and body (distinct names; positional sorted by number,
 * named in order of first use) and, per button index inside the BUTTONS component, URL suffix variables.
 */
export function templateVariables(def: TemplateDefinition): {
  header: string[];
  body: string[];
  buttons: { index: number; vars: string[] }[];
} {
  const result = {
    header: [] as string[],
    body: [] as string[],
    buttons: [] as { index: number; vars: string[] }[],
  };
  for (const c of def.components ?? []) {
    if (!isJsonObject(c)) continue;
    const type = upper(c.type);
    if (type === 'HEADER' && upper(c.format ?? 'TEXT') === 'TEXT' && typeof c.text === 'string') {
      result.header = distinctNames(findPlaceholders(c.text));
    } else if (type === 'BODY' && typeof c.text === 'string') {
      result.body = distinctNames(findPlaceholders(c.text));
    } else if (type === 'BUTTONS' && Array.isArray(c.buttons)) {
      c.buttons.forEach((b, index) => {
        if (isJsonObject(b) && upper(b.type) === 'URL' && typeof b.url === 'string') {
          const vars = distinctNames(findPlaceholders(b.url));
          if (vars.length > 0) result.buttons.push({ index, vars });
        }
      });
    }
  }
  return result;
}

// ---------- top-level fields ----------

function checkName(name: unknown, p: Problems): void {
  if (name === undefined || name === null || name === '') {
    p.error('name', 'name is required');
    return;
  }
  if (typeof name !== 'string') {
    p.error('name', `name must be a string, got ${show(name)}`);
    return;
  }
  if (name.length > LIMITS.nameMax) {
    p.error(
      'name',
      `name is ${name.length} characters; the maximum is ${LIMITS.nameMax}`,
      SUBCODES.charLimit,
    );
    return;
  }
  if (!NAME_PATTERN.test(name)) {
    const fixed = name
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/^_+|_+$/g, '');
    p.error(
      'name',
      `name ${show(name)} may only contain lowercase letters, digits and underscores` +
        (fixed && fixed !== name ? ` (for example ${show(fixed)})` : ''),
    );
  }
}

function checkLanguage(language: unknown, p: Problems): void {
  if (language === undefined || language === null || language === '') {
    p.error('language', 'language is required (a code such as en_US, pt_BR, es)');
    return;
  }
  if (typeof language !== 'string') {
    p.error('language', `language must be a string, got ${show(language)}`);
    return;
  }
  if (!isTemplateLanguage(language)) {
    const hint = suggestLanguage(language);
    p.error(
      'language',
      `language ${show(language)} is not one of Meta's supported template language codes` +
        (hint ? ` (did you mean ${show(hint)}?)` : ''),
    );
  }
}

function checkCategory(category: unknown, p: Problems): string | undefined {
  if (category === undefined || category === null || category === '') {
    p.error('category', `category is required (${TEMPLATE_CATEGORIES.join(', ')})`);
    return undefined;
  }
  const c = upper(category);
  if (!c || !(TEMPLATE_CATEGORIES as readonly string[]).includes(c)) {
    p.error('category', `category ${show(category)} must be one of ${TEMPLATE_CATEGORIES.join(', ')}`);
    return undefined;
  }
  return c;
}

function checkParameterFormat(value: unknown, p: Problems): 'POSITIONAL' | 'NAMED' {
  if (value === undefined || value === null) return 'POSITIONAL';
  const f = upper(value);
  if (f === 'POSITIONAL' || f === 'NAMED') return f;
  p.error('parameter_format', `parameter_format ${show(value)} must be POSITIONAL or NAMED`);
  return 'POSITIONAL';
}

function checkTtl(ttl: unknown, category: string | undefined, p: Problems): void {
  if (ttl === undefined || ttl === null) return;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl)) {
    p.error(
      'message_send_ttl_seconds',
      `message_send_ttl_seconds must be a whole number of seconds, got ${show(ttl)}`,
    );
    return;
  }
  if (!category) return;
  const range = TTL_RANGES[category];
  if (!range) return;
  if (ttl === -1 && range.allowMinusOne) return;
  if (ttl < range.min || ttl > range.max) {
    p.error(
      'message_send_ttl_seconds',
      `message_send_ttl_seconds for ${category} templates must be between ${range.min} and ${range.max}` +
        (range.allowMinusOne ? ' (or -1 for 30 days)' : '') +
        `, got ${ttl}`,
    );
  }
}

// ---------- components ----------

function checkComponents(components: unknown, ctx: Ctx): void {
  const { p } = ctx;
  if (components === undefined || components === null) {
    p.error('components', 'components is required (at least a BODY component)');
    return;
  }
  if (!Array.isArray(components)) {
    p.error('components', 'components must be a list of components');
    return;
  }
  const seen = new Map<string, number>();
  const placeholderKinds = new Set<'positional' | 'named'>();

  components.forEach((c, i) => {
    const path = `components[${i}]`;
    if (!isJsonObject(c)) {
      p.error(path, 'each component must be an object with a type');
      return;
    }
    const type = upper(c.type);
    if (!type) {
      p.error(`${path}.type`, `component type is required (${COMPONENT_TYPES.join(', ')})`);
      return;
    }
    if ((UNCHECKED_COMPONENT_TYPES as readonly string[]).includes(type)) return;
    if (!(COMPONENT_TYPES as readonly string[]).includes(type)) {
      p.error(
        `${path}.type`,
        `unknown component type ${show(c.type)}; expected ${COMPONENT_TYPES.join(', ')}`,
      );
      return;
    }
    const previous = seen.get(type);
    if (previous !== undefined) {
      p.error(
        `${path}.type`,
        `a template has at most one ${type} component (another one is components[${previous}])`,
      );
      return;
    }
    seen.set(type, i);
    if (type === 'HEADER') checkHeader(c, path, ctx, placeholderKinds);
    else if (type === 'BODY') checkBody(c, path, ctx, placeholderKinds);
    else if (type === 'FOOTER') checkFooter(c, path, ctx);
    else checkButtons(c, path, ctx);
  });

  if (!seen.has('BODY')) p.error('components', 'a BODY component is required');
  if (placeholderKinds.size > 1) {
    p.error(
      'components',
      'header and body mix positional ({{1}}) and named ({{name}}) variables; use one kind, matching parameter_format',
    );
  }
}

function checkText(
  value: unknown,
  path: string,
  label: string,
  max: number,
  p: Problems,
  formatSubcode: number,
): string | undefined {
  if (value === undefined || value === null || value === '') {
    p.error(path, `${label} text is required`, formatSubcode);
    return undefined;
  }
  if (typeof value !== 'string') {
    p.error(path, `${label} text must be a string, got ${show(value)}`, formatSubcode);
    return undefined;
  }
  if (value.trim() === '') {
    p.error(path, `${label} text is blank`, formatSubcode);
    return undefined;
  }
  const len = textLength(value);
  if (len > max)
    p.error(path, `${label} text is ${len} characters; the maximum is ${max}`, SUBCODES.charLimit);
  const leftover = value.replace(/\{\{[^{}]*\}\}/g, '');
  if (leftover.includes('{{') || leftover.includes('}}')) {
    p.error(
      path,
      `${label} text has unbalanced braces; variables are written {{1}} or {{name}}`,
      formatSubcode,
    );
  }
  return value;
}

/** Checks placeholder syntax and kind against parameter_format; returns the valid ones. */
function checkPlaceholders(
  text: string,
  path: string,
  label: string,
  ctx: Ctx,
  kinds: Set<'positional' | 'named'>,
  formatSubcode: number,
): Placeholder[] {
  const { p, format } = ctx;
  const all = findPlaceholders(text);
  const valid: Placeholder[] = [];
  for (const ph of all) {
    if (ph.kind === 'invalid') {
      const trimmed = ph.name.trim();
      const why =
        trimmed !== ph.name && (POSITIONAL_NAME.test(trimmed) || NAMED_NAME.test(trimmed))
          ? `write it without spaces: {{${trimmed}}}`
          : 'use {{1}}, {{2}}… or a lowercase {{snake_case}} name';
      p.error(path, `${label} variable ${ph.raw} is not valid; ${why}`, formatSubcode);
      continue;
    }
    kinds.add(ph.kind);
    if (format === 'POSITIONAL' && ph.kind === 'named') {
      p.error(
        path,
        `${label} variable ${ph.raw} is named but parameter_format is POSITIONAL (the default); ` +
          'set parameter_format: NAMED or use {{1}}, {{2}}…',
        formatSubcode,
      );
      continue;
    }
    if (format === 'NAMED' && ph.kind === 'positional') {
      p.error(
        path,
        `${label} variable ${ph.raw} is positional but parameter_format is NAMED; use a {{snake_case}} name`,
        formatSubcode,
      );
      continue;
    }
    if (ph.kind === 'named' && ph.name.length > LIMITS.paramNameMax) {
      p.warn(
        path,
        `${label} variable ${ph.raw} is longer than ${LIMITS.paramNameMax} characters; Meta may reject it`,
      );
    }
    valid.push(ph);
  }
  if (format === 'POSITIONAL') {
    const numbers = [...new Set(valid.map((v) => Number(v.name)))].sort((a, b) => a - b);
    const missing: number[] = [];
    const max = numbers[numbers.length - 1] ?? 0;
    for (let n = 1; n <= max; n++) if (!numbers.includes(n)) missing.push(n);
    if (missing.length > 0) {
      p.error(
        path,
        `${label} positional variables must be numbered from {{1}} without gaps; missing ` +
          missing.map((n) => `{{${n}}}`).join(', '),
        formatSubcode,
      );
    }
  }
  return valid;
}

function checkHeader(c: Obj, path: string, ctx: Ctx, kinds: Set<'positional' | 'named'>): void {
  const { p } = ctx;
  if (ctx.category === 'AUTHENTICATION') {
    p.error(`${path}.type`, 'AUTHENTICATION templates cannot have a HEADER component', SUBCODES.headerFormat);
    return;
  }
  const format = upper(c.format);
  if (!format) {
    p.error(
      `${path}.format`,
      `header format is required (${HEADER_FORMATS.join(', ')})`,
      SUBCODES.headerFormat,
    );
    return;
  }
  if (!(HEADER_FORMATS as readonly string[]).includes(format)) {
    p.error(
      `${path}.format`,
      `header format ${show(c.format)} must be one of ${HEADER_FORMATS.join(', ')}`,
      SUBCODES.headerFormat,
    );
    return;
  }
  const example = c.example;
  if (example !== undefined && !isJsonObject(example)) {
    p.error(
      `${path}.example`,
      'example must be an object (header_text, header_text_named_params or header_handle)',
    );
    return;
  }

  if (format === 'TEXT') {
    const text = checkText(c.text, `${path}.text`, 'header', LIMITS.headerTextMax, p, SUBCODES.headerFormat);
    if (text === undefined) return;
    if (/[\r\n]/.test(text))
      p.error(`${path}.text`, 'header text cannot contain line breaks', SUBCODES.headerFormat);
    const vars = checkPlaceholders(text, `${path}.text`, 'header', ctx, kinds, SUBCODES.headerFormat);
    const total = findPlaceholders(text).length;
    if (total > LIMITS.headerVariablesMax) {
      p.error(
        `${path}.text`,
        `header text has ${total} variables; at most ${LIMITS.headerVariablesMax} is allowed`,
        SUBCODES.headerFormat,
      );
    }
    checkTextExamples(example, path, 'header', distinctNames(vars), ctx);
    return;
  }

  if (c.text !== undefined) {
    p.error(
      `${path}.text`,
      `a ${format} header has no text; remove text or use format TEXT`,
      SUBCODES.headerFormat,
    );
  }
  if ((MEDIA_HEADER_FORMATS as readonly string[]).includes(format)) {
    const handles = isJsonObject(example) ? example.header_handle : undefined;
    if (
      !Array.isArray(handles) ||
      handles.length === 0 ||
      !handles.every((h) => typeof h === 'string' && h.trim() !== '')
    ) {
      p.error(
        `${path}.example.header_handle`,
        `a ${format} header needs example.header_handle: a list with a Resumable Upload handle ("4::…")`,
        SUBCODES.headerFormat,
      );
    }
  }
}

function checkBody(c: Obj, path: string, ctx: Ctx, kinds: Set<'positional' | 'named'>): void {
  const { p } = ctx;
  if (ctx.category === 'AUTHENTICATION') {
    if (c.text !== undefined) {
      p.warn(`${path}.text`, 'Meta writes the body of AUTHENTICATION templates; this text is ignored');
    }
    if (c.add_security_recommendation !== undefined && typeof c.add_security_recommendation !== 'boolean') {
      p.error(`${path}.add_security_recommendation`, 'add_security_recommendation must be true or false');
    }
    return;
  }
  const text = checkText(c.text, `${path}.text`, 'body', LIMITS.bodyTextMax, p, SUBCODES.bodyFormat);
  if (text === undefined) return;
  const example = c.example;
  if (example !== undefined && !isJsonObject(example)) {
    p.error(`${path}.example`, 'example must be an object (body_text or body_text_named_params)');
    return;
  }
  const vars = checkPlaceholders(text, `${path}.text`, 'body', ctx, kinds, SUBCODES.bodyFormat);
  const all = findPlaceholders(text);

  if (all.length > 0) {
    const trimmedStart = text.length - text.trimStart().length;
    const trimmedEnd = text.trimEnd().length;
    const first = all[0]!;
    const last = all[all.length - 1]!;
    if (first.start === trimmedStart) {
      p.error(
        `${path}.text`,
        `body text cannot start with a variable (${first.raw}); put words before it`,
        SUBCODES.leadingOrTrailingVariable,
      );
    }
    if (last.end === trimmedEnd) {
      p.error(
        `${path}.text`,
        `body text cannot end with a variable (${last.raw}); put words after it`,
        SUBCODES.leadingOrTrailingVariable,
      );
    } else if (/^[\p{P}\s]*$/u.test(text.slice(last.end))) {
      p.warn(
        `${path}.text`,
        `body text ends with a variable followed only by punctuation (${last.raw}${text.slice(last.end).trim()}); ` +
          'Meta may reject it as a trailing variable',
        SUBCODES.leadingOrTrailingVariable,
      );
    }
    for (let i = 1; i < all.length; i++) {
      const a = all[i - 1]!;
      const b = all[i]!;
      if (text.slice(a.end, b.start).trim() === '') {
        p.error(
          `${path}.text`,
          `body variables ${a.raw} and ${b.raw} are next to each other; put words between them`,
          SUBCODES.bodyFormat,
        );
      }
    }
    const words = text
      .replace(/\{\{[^{}]*\}\}/g, ' ')
      .split(/\s+/)
      .filter((w) => /[\p{L}\p{N}]/u.test(w)).length;
    const needed = 2 * all.length + 1;
    if (words < needed) {
      p.error(
        `${path}.text`,
        `body text has too many variables for its length: ${all.length} variable(s) need at least ${needed} ` +
          `other words, found ${words}`,
        SUBCODES.tooManyVariables,
      );
    }
  }
  checkTextExamples(example, path, 'body', distinctNames(vars), ctx);
}

function checkFooter(c: Obj, path: string, ctx: Ctx): void {
  const { p } = ctx;
  if (ctx.category === 'AUTHENTICATION') {
    if (c.text !== undefined)
      p.warn(`${path}.text`, 'Meta writes the footer of AUTHENTICATION templates; text is ignored');
    const minutes = c.code_expiration_minutes;
    const [lo, hi] = LIMITS.codeExpirationMinutes;
    if (
      minutes !== undefined &&
      (typeof minutes !== 'number' || !Number.isInteger(minutes) || minutes < lo || minutes > hi)
    ) {
      p.error(
        `${path}.code_expiration_minutes`,
        `code_expiration_minutes must be a whole number from ${lo} to ${hi}`,
      );
    }
    return;
  }
  const text = checkText(c.text, `${path}.text`, 'footer', LIMITS.footerTextMax, p, SUBCODES.footerFormat);
  if (text === undefined) return;
  if (findPlaceholders(text).length > 0) {
    p.error(`${path}.text`, 'footer text cannot contain variables', SUBCODES.footerFormat);
  }
}

/** Examples for header/body variables, in the shape parameter_format requires. */
function checkTextExamples(
  example: unknown,
  path: string,
  where: 'header' | 'body',
  names: string[],
  ctx: Ctx,
): void {
  const { p, format } = ctx;
  const ex: Obj = isJsonObject(example) ? example : {};
  const posKey = where === 'header' ? 'header_text' : 'body_text';
  const namedKey = where === 'header' ? 'header_text_named_params' : 'body_text_named_params';
  const wantKey = format === 'NAMED' ? namedKey : posKey;
  const wrongKey = format === 'NAMED' ? posKey : namedKey;
  const expath = `${path}.example`;

  if (ex[wrongKey] !== undefined) {
    p.error(
      `${expath}.${wrongKey}`,
      `parameter_format is ${format}${format === 'POSITIONAL' ? ' (the default)' : ''}, so ${where} examples go in ` +
        `example.${wantKey}, not example.${wrongKey}`,
    );
  }
  const given = ex[wantKey];
  if (names.length === 0) {
    if (given !== undefined)
      p.warn(`${expath}.${wantKey}`, `${where} has no variables; this example is not used`);
    return;
  }
  const list = names.map((n) => `{{${n}}}`).join(', ');
  if (given === undefined) {
    const shape =
      format === 'NAMED'
        ? `[{param_name: ${names[0]}, example: "…"}, …]`
        : where === 'header'
          ? '["…"]'
          : `[["…"${names.length > 1 ? ', …' : ''}]] (one list inside a list)`;
    p.error(expath, `${where} variables ${list} need examples: example.${wantKey}: ${shape}`);
    return;
  }

  if (format === 'NAMED') {
    checkNamedExamples(given, `${expath}.${wantKey}`, where, names, p);
    return;
  }
  // positional
  let values: unknown;
  let valuesPath = `${expath}.${wantKey}`;
  if (where === 'body') {
    if (!Array.isArray(given) || given.length !== 1 || !Array.isArray(given[0])) {
      p.error(
        valuesPath,
        `example.body_text must be a list holding exactly one list of ${names.length} example value(s)`,
      );
      return;
    }
    values = given[0];
    valuesPath = `${valuesPath}[0]`;
  } else {
    values = given;
  }
  if (!Array.isArray(values)) {
    p.error(valuesPath, `example.${wantKey} must be a list of ${names.length} example value(s)`);
    return;
  }
  if (values.length !== names.length) {
    p.error(
      valuesPath,
      `${where} has ${names.length} variable(s) (${list}) but ${values.length} example value(s); give one per variable, in order`,
    );
  }
  values.forEach((v, i) => {
    if (typeof v !== 'string' || v.trim() === '') {
      p.error(`${valuesPath}[${i}]`, `example value for {{${i + 1}}} must be a non-empty string`);
    }
  });
}

function checkNamedExamples(given: unknown, path: string, where: string, names: string[], p: Problems): void {
  if (!Array.isArray(given)) {
    p.error(path, `${path.split('.').pop()} must be a list of {param_name, example}`);
    return;
  }
  const seen = new Set<string>();
  given.forEach((item, i) => {
    const ipath = `${path}[${i}]`;
    if (!isJsonObject(item) || typeof item.param_name !== 'string') {
      p.error(ipath, 'each named example needs param_name and example');
      return;
    }
    if (seen.has(item.param_name))
      p.error(`${ipath}.param_name`, `duplicate example for {{${item.param_name}}}`);
    seen.add(item.param_name);
    if (!names.includes(item.param_name)) {
      p.error(
        `${ipath}.param_name`,
        `example for {{${item.param_name}}}, which the ${where} text does not use`,
      );
    }
    if (typeof item.example !== 'string' || item.example.trim() === '') {
      p.error(`${ipath}.example`, `example value for {{${item.param_name}}} must be a non-empty string`);
    }
  });
  const missing = names.filter((n) => !seen.has(n));
  if (missing.length > 0) {
    p.error(path, `missing example for ${missing.map((n) => `{{${n}}}`).join(', ')}`);
  }
}

// ---------- buttons ----------

function checkButtons(c: Obj, path: string, ctx: Ctx): void {
  const { p } = ctx;
  const buttons = c.buttons;
  if (!Array.isArray(buttons) || buttons.length === 0) {
    p.error(`${path}.buttons`, 'a BUTTONS component needs a non-empty buttons list');
    return;
  }
  if (buttons.length > LIMITS.buttonsMax) {
    p.error(`${path}.buttons`, `${buttons.length} buttons; the maximum is ${LIMITS.buttonsMax}`);
  }
  const counts = new Map<string, number>();
  const types: (string | undefined)[] = [];
  buttons.forEach((b, i) => {
    const bpath = `${path}.buttons[${i}]`;
    if (!isJsonObject(b)) {
      p.error(bpath, 'each button must be an object with a type');
      types.push(undefined);
      return;
    }
    const type = upper(b.type);
    types.push(type);
    if (!type) {
      p.error(`${bpath}.type`, `button type is required (${BUTTON_TYPES.join(', ')})`);
      return;
    }
    if (!(BUTTON_TYPES as readonly string[]).includes(type)) {
      p.error(
        `${bpath}.type`,
        `unknown button type ${show(b.type)}; expected one of ${BUTTON_TYPES.join(', ')}`,
      );
      return;
    }
    counts.set(type, (counts.get(type) ?? 0) + 1);
    checkButton(b, type, bpath, ctx);
  });

  const limit = (type: string, max: number) => {
    const n = counts.get(type) ?? 0;
    if (n > max) p.error(`${path}.buttons`, `${n} ${type} buttons; at most ${max} allowed`);
  };
  limit('URL', LIMITS.urlButtonsMax);
  limit('PHONE_NUMBER', LIMITS.phoneButtonsMax);
  limit('COPY_CODE', LIMITS.copyCodeButtonsMax);

  // Quick replies must be grouped together (not interleaved with other button types).
  const qr = types.map((t, i) => (t === 'QUICK_REPLY' ? i : -1)).filter((i) => i >= 0);
  if (qr.length > 1) {
    const firstQr = qr[0]!;
    const lastQr = qr[qr.length - 1]!;
    const between = types.slice(firstQr, lastQr + 1).findIndex((t) => t !== 'QUICK_REPLY');
    if (between >= 0) {
      p.error(
        `${path}.buttons[${firstQr + between}]`,
        'QUICK_REPLY buttons must be grouped together, before or after the other buttons',
      );
    }
  }

  if (ctx.category === 'AUTHENTICATION') {
    const otp = counts.get('OTP') ?? 0;
    if (otp !== 1 || buttons.length !== 1) {
      p.error(`${path}.buttons`, 'an AUTHENTICATION template has exactly one button, of type OTP');
    }
  } else if (ctx.category !== undefined && (counts.get('OTP') ?? 0) > 0) {
    p.error(`${path}.buttons`, 'OTP buttons are only allowed in AUTHENTICATION templates');
  }
}

function checkButton(b: Obj, type: string, bpath: string, ctx: Ctx): void {
  const { p } = ctx;
  const text = b.text;
  if (text === undefined || text === null || text === '') {
    if (LABELLED_BUTTONS.has(type)) p.error(`${bpath}.text`, `a ${type} button needs a label (text)`);
  } else if (typeof text !== 'string') {
    p.error(`${bpath}.text`, `button text must be a string, got ${show(text)}`);
  } else {
    const len = textLength(text);
    if (len > LIMITS.buttonTextMax) {
      p.error(
        `${bpath}.text`,
        `button text is ${len} characters; the maximum is ${LIMITS.buttonTextMax}`,
        SUBCODES.charLimit,
      );
    }
    if (findPlaceholders(text).length > 0) p.error(`${bpath}.text`, 'button text cannot contain variables');
  }

  if (type === 'URL') {
    const url = b.url;
    if (typeof url !== 'string' || url.trim() === '') {
      p.error(`${bpath}.url`, 'a URL button needs url');
      return;
    }
    if (textLength(url) > LIMITS.urlMax) {
      p.error(
        `${bpath}.url`,
        `url is ${textLength(url)} characters; the maximum is ${LIMITS.urlMax}`,
        SUBCODES.charLimit,
      );
    }
    if (!/^https?:\/\//i.test(url)) p.error(`${bpath}.url`, 'url must start with https:// or http://');
    const vars = findPlaceholders(url);
    if (vars.length === 0) {
      if (b.example !== undefined)
        p.warn(`${bpath}.example`, 'url has no variable; this example is not used');
      return;
    }
    if (vars.length > 1 || vars[0]!.name !== '1') {
      p.error(`${bpath}.url`, 'a URL button may have one variable, {{1}}, at the end of the url');
      return;
    }
    if (vars[0]!.end !== url.length) {
      p.error(`${bpath}.url`, 'the url variable {{1}} must be at the very end of the url');
    }
    const ex = Array.isArray(b.example) ? b.example[0] : b.example;
    if (typeof ex !== 'string' || ex.trim() === '') {
      p.error(`${bpath}.example`, 'a URL button with {{1}} needs example: ["<a full example url>"]');
    } else if (Array.isArray(b.example) && b.example.length > 1) {
      p.error(`${bpath}.example`, 'a URL button takes a single example url');
    }
    return;
  }
  if (type === 'PHONE_NUMBER') {
    const phone = b.phone_number;
    if (typeof phone !== 'string' || phone.trim() === '') {
      p.error(`${bpath}.phone_number`, 'a PHONE_NUMBER button needs phone_number (e.g. "+15550051310")');
    } else if (textLength(phone) > LIMITS.phoneNumberMax) {
      p.error(
        `${bpath}.phone_number`,
        `phone_number is ${textLength(phone)} characters; the maximum is ${LIMITS.phoneNumberMax}`,
        SUBCODES.charLimit,
      );
    }
    return;
  }
  if (type === 'COPY_CODE') {
    const ex = Array.isArray(b.example) ? b.example[0] : b.example;
    if (typeof ex !== 'string' || ex.trim() === '') {
      p.error(
        `${bpath}.example`,
        'a COPY_CODE button needs example: an example code (at most 15 characters)',
      );
    } else if (textLength(ex) > LIMITS.copyCodeExampleMax) {
      p.error(
        `${bpath}.example`,
        `COPY_CODE example is ${textLength(ex)} characters; the maximum is ${LIMITS.copyCodeExampleMax}`,
        SUBCODES.charLimit,
      );
    }
    return;
  }
  if (type === 'OTP') {
    const otp = upper(b.otp_type);
    if (!otp || !(OTP_TYPES as readonly string[]).includes(otp)) {
      p.error(`${bpath}.otp_type`, `an OTP button needs otp_type: ${OTP_TYPES.join(', ')}`);
    }
  }
}
