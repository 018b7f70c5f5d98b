/**
 * The canonical form of a template definition: what `pull` writes, what `push` sends, and what `plan`
 * compares. Two definitions that mean the same thing to Meta have the same canonical form, so a pull
 * followed by a plan shows no change.
 *
 * Policy:
 * - keys in a fixed order (name, language, category, parameter_format, message_send_ttl_seconds, components;
 *   inside components: type, format, text, …, example, buttons; inside buttons: type, text, url, …, example);
 * - enums upper-cased (category, parameter_format, component type, header format, button type, otp_type);
 * - parameter_format always present, POSITIONAL when not given;
 * - components ordered HEADER, BODY, FOOTER, BUTTONS (then any other kind, in file order); buttons keep their order;
 * - text: line endings normalised to \n and leading/trailing whitespace trimmed; inner whitespace kept as written;
 * - named examples listed in the order their variables first appear in the text;
 * - message_send_ttl_seconds only when set.
 *
 * For comparison (`comparisonKey`), additionally: a button `example` given as a string equals a one-item list;
 * media header handles are ignored (Meta answers a CDN URL, not the upload handle that was sent); the TTL is
 * compared only when the file sets it.
 */
import type { MessageTemplate } from '../graph/types.js';
import { findPlaceholders, isJsonObject, type TemplateComponent, type TemplateDefinition } from './rules.js';

type Obj = Record<string, unknown>;

const COMPONENT_ORDER = ['HEADER', 'BODY', 'FOOTER', 'BUTTONS'];
const TOP_KEYS = [
  'name',
  'language',
  'category',
  'parameter_format',
  'message_send_ttl_seconds',
  'components',
];
const COMPONENT_KEYS = [
  'type',
  'format',
  'text',
  'add_security_recommendation',
  'code_expiration_minutes',
  'example',
  'buttons',
];
const BUTTON_KEYS = ['type', 'text', 'url', 'phone_number', 'otp_type', 'flow_id', 'flow_action', 'example'];
const EXAMPLE_KEYS = [
  'header_text',
  'header_text_named_params',
  'header_handle',
  'body_text',
  'body_text_named_params',
];

export function normaliseText(text: string): string {
  return text.replace(/\r\n?/g, '\n').trim();
}

const upperIfString = (v: unknown) => (typeof v === 'string' ? v.trim().toUpperCase() : v);

/** Copies `obj` with `order` keys first (when present), then the rest sorted by name. */
function ordered(
  obj: Obj,
  order: readonly string[],
  map: (key: string, value: unknown) => unknown = (_, v) => v,
): Obj {
  const out: Obj = {};
  for (const k of order) if (obj[k] !== undefined) out[k] = map(k, obj[k]);
  for (const k of Object.keys(obj).sort())
    if (!order.includes(k) && obj[k] !== undefined) out[k] = map(k, obj[k]);
  return out;
}

function deepSorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(deepSorted);
  if (isJsonObject(value)) return ordered(value, [], (_, v) => deepSorted(v));
  return typeof value === 'string' ? normaliseText(value) : value;
}

function namedOrder(list: unknown, text: string | undefined): unknown {
  if (!Array.isArray(list)) return list;
  const order = text ? findPlaceholders(text).map((p) => p.name) : [];
  const rank = (item: unknown) => {
    const name = isJsonObject(item) && typeof item.param_name === 'string' ? item.param_name : '';
    const i = order.indexOf(name);
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  return [...list]
    .map((item) =>
      isJsonObject(item) ? ordered(item, ['param_name', 'example'], (_, v) => deepSorted(v)) : item,
    )
    .sort((a, b) => rank(a) - rank(b));
}

function canonicalExample(example: unknown, text: string | undefined): unknown {
  if (!isJsonObject(example)) return example;
  return ordered(example, EXAMPLE_KEYS, (k, v) =>
    k.endsWith('_named_params') ? namedOrder(v, text) : k === 'header_handle' ? v : deepSorted(v),
  );
}

function canonicalButton(button: unknown): unknown {
  if (!isJsonObject(button)) return button;
  return ordered(button, BUTTON_KEYS, (k, v) => {
    if (k === 'type' || k === 'otp_type') return upperIfString(v);
    return deepSorted(v);
  });
}

function canonicalComponent(component: unknown): unknown {
  if (!isJsonObject(component)) return component;
  const text = typeof component.text === 'string' ? normaliseText(component.text) : undefined;
  return ordered(component, COMPONENT_KEYS, (k, v) => {
    if (k === 'type' || k === 'format') return upperIfString(v);
    if (k === 'text') return text ?? v;
    if (k === 'example') return canonicalExample(v, text);
    if (k === 'buttons') return Array.isArray(v) ? v.map(canonicalButton) : v;
    return deepSorted(v);
  });
}

function componentRank(c: unknown): number {
  const type = isJsonObject(c) && typeof c.type === 'string' ? c.type : '';
  const i = COMPONENT_ORDER.indexOf(type);
  return i < 0 ? COMPONENT_ORDER.length : i;
}

/**
 * The canonical form of a definition (a template file's content or an API template object).
 * API-only fields (id, status, quality_score, …) are dropped.
 */
export function canonicalize(def: TemplateDefinition | MessageTemplate | Obj): TemplateDefinition {
  const src = def as Obj;
  const components = Array.isArray(src.components) ? src.components.map(canonicalComponent) : [];
  const sortedComponents = components
    .map((c, i) => ({ c, i }))
    .sort((a, b) => componentRank(a.c) - componentRank(b.c) || a.i - b.i)
    .map((x) => x.c as TemplateComponent);
  const out: Obj = {
    name: typeof src.name === 'string' ? src.name.trim() : src.name,
    language: typeof src.language === 'string' ? src.language.trim() : src.language,
    category: upperIfString(src.category),
    parameter_format: upperIfString(src.parameter_format ?? 'POSITIONAL'),
  };
  if (src.message_send_ttl_seconds !== undefined && src.message_send_ttl_seconds !== null) {
    out.message_send_ttl_seconds = src.message_send_ttl_seconds;
  }
  out.components = sortedComponents;
  return ordered(out, TOP_KEYS) as unknown as TemplateDefinition;
}

/** The parts of a definition that an edit can change, in comparable form. */
export interface ComparableParts {
  category: string;
  parameter_format: string;
  message_send_ttl_seconds: number | null;
  components: string;
}

function comparableComponents(components: readonly TemplateComponent[]): unknown[] {
  return components.map((c) => {
    const copy: Obj = { ...c };
    if (isJsonObject(copy.example)) {
      const ex: Obj = { ...copy.example };
      if (Array.isArray(ex.header_handle)) ex.header_handle = ex.header_handle.length > 0 ? ['<media>'] : [];
      copy.example = ex;
    }
    if (Array.isArray(copy.buttons)) {
      copy.buttons = copy.buttons.map((b) => {
        if (!isJsonObject(b)) return b;
        const bc: Obj = { ...b };
        if (typeof bc.example === 'string') bc.example = [bc.example];
        return bc;
      });
    }
    return copy;
  });
}

export function comparableParts(def: TemplateDefinition): ComparableParts {
  const c = canonicalize(def);
  return {
    category: c.category,
    parameter_format: c.parameter_format ?? 'POSITIONAL',
    message_send_ttl_seconds: c.message_send_ttl_seconds ?? null,
    components: JSON.stringify(comparableComponents(c.components)),
  };
}

export type ChangedField = 'category' | 'parameter_format' | 'message_send_ttl_seconds' | 'components';

/**
 * What differs between the local definition (a file) and the remote one (the WABA's).
 * The TTL only counts when the local definition sets it.
 */
export function diffDefinitions(local: TemplateDefinition, remote: TemplateDefinition): ChangedField[] {
  const a = comparableParts(local);
  const b = comparableParts(remote);
  const changed: ChangedField[] = [];
  if (a.category !== b.category) changed.push('category');
  if (a.parameter_format !== b.parameter_format) changed.push('parameter_format');
  if (a.message_send_ttl_seconds !== null && a.message_send_ttl_seconds !== b.message_send_ttl_seconds) {
    changed.push('message_send_ttl_seconds');
  }
  if (a.components !== b.components) changed.push('components');
  return changed;
}

/** Human-readable paths of what differs inside the components (for plan output), e.g. `BODY.text`. */
export function componentChanges(local: TemplateDefinition, remote: TemplateDefinition): string[] {
  const a = comparableComponents(canonicalize(local).components) as Obj[];
  const b = comparableComponents(canonicalize(remote).components) as Obj[];
  const label = (c: Obj | undefined) => (c && typeof c.type === 'string' ? c.type : '?');
  const out: string[] = [];
  const byType = (list: Obj[]) => new Map(list.map((c) => [label(c), c]));
  const am = byType(a);
  const bm = byType(b);
  for (const type of [...new Set([...am.keys(), ...bm.keys()])]) {
    const x = am.get(type);
    const y = bm.get(type);
    if (!x) out.push(`${type} removed`);
    else if (!y) out.push(`${type} added`);
    else {
      for (const k of [...new Set([...Object.keys(x), ...Object.keys(y)])].sort()) {
        if (JSON.stringify(x[k]) !== JSON.stringify(y[k])) out.push(`${type}.${k}`);
      }
    }
  }
  return out;
}

/** The canonical definition as plain JSON text (stable), e.g. for hashing or snapshots. */
export function canonicalJson(def: TemplateDefinition): string {
  return JSON.stringify(canonicalize(def));
}
