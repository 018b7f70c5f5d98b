/**
 * Reads Meta's OpenAPI spec (../shared/reference/openapi/ next to the repository) and checks JSON values
 * against its schemas with a small JSON-schema subset: type (+nullable), required, properties,
 * additionalProperties, items, enum, const, oneOf/anyOf/allOf, $ref, pattern, min/maxLength, min/maxItems.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SPEC_PATH = resolve(
  repoRoot,
  '..',
  'shared',
  'reference',
  'openapi',
  'business-messaging-api_v23.0.yaml',
);
export const specAvailable = existsSync(SPEC_PATH);

// biome-ignore lint/suspicious/noExplicitAny: JSON schemas are navigated dynamically
type Schema = Record<string, any>;
let spec: Schema | undefined;

export function loadSpec(): Schema {
  spec ??= parse(readFileSync(SPEC_PATH, 'utf8'), { maxAliasCount: -1 }) as Schema;
  return spec;
}

function deref(s: Schema): Schema {
  let cur = s;
  for (let i = 0; i < 20 && cur && typeof cur.$ref === 'string'; i++) {
    const parts = (cur.$ref as string).replace(/^#\//, '').split('/');
    // biome-ignore lint/suspicious/noExplicitAny: walking a parsed YAML document
    let node: any = loadSpec();
    for (const p of parts) node = node?.[p.replace(/~1/g, '/').replace(/~0/g, '~')];
    if (!node) throw new Error(`unresolved $ref ${cur.$ref}`);
    cur = node;
  }
  return cur;
}

export function schemaByName(name: string): Schema {
  return deref({ $ref: `#/components/schemas/${name}` });
}

/** The JSON schema of an operation's response, e.g. ('/{Version}/{WABA-ID}', 'get', 200). */
export function responseSchema(path: string, method: string, status: number): Schema | undefined {
  const op = loadSpec().paths?.[path]?.[method];
  if (!op) throw new Error(`no operation ${method.toUpperCase()} ${path} in the spec`);
  const r = op.responses?.[String(status)] ?? op.responses?.default;
  if (!r) return undefined;
  return deref(r).content?.['application/json']?.schema;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  if (t === 'number') return actual === 'number' || actual === 'integer';
  return actual === t;
}

/** Problems found (empty = valid), each with a JSON pointer. */
export function validate(value: unknown, schema: Schema | undefined, at = ''): string[] {
  if (!schema) return [];
  const s = deref(schema);
  const out: string[] = [];
  if (s.allOf) for (const sub of s.allOf) out.push(...validate(value, sub, at));
  if (s.anyOf) {
    if (!s.anyOf.some((sub: Schema) => validate(value, sub, at).length === 0))
      out.push(`${at || '/'}: matches none of anyOf`);
  }
  if (s.oneOf) {
    const matching = s.oneOf.filter((sub: Schema) => validate(value, sub, at).length === 0).length;
    if (matching !== 1) out.push(`${at || '/'}: matches ${matching} of oneOf (expected exactly 1)`);
  }
  if (value === null && (s.nullable === true || (Array.isArray(s.type) && s.type.includes('null'))))
    return out;
  if (s.type !== undefined) {
    const types: string[] = Array.isArray(s.type) ? s.type : [s.type];
    if (!types.some((t) => typeMatches(value, t))) {
      out.push(`${at || '/'}: expected ${types.join('|')}, got ${typeOf(value)}`);
      return out;
    }
  }
  if (s.enum && !s.enum.includes(value))
    out.push(`${at || '/'}: ${JSON.stringify(value)} not in enum ${JSON.stringify(s.enum)}`);
  if (s.const !== undefined && s.const !== value)
    out.push(`${at || '/'}: expected const ${JSON.stringify(s.const)}`);
  if (typeof value === 'string') {
    if (s.pattern && !new RegExp(s.pattern).test(value))
      out.push(`${at}: ${JSON.stringify(value)} does not match ${s.pattern}`);
    if (s.minLength !== undefined && value.length < s.minLength)
      out.push(`${at}: shorter than ${s.minLength}`);
    if (s.maxLength !== undefined && value.length > s.maxLength)
      out.push(`${at}: longer than ${s.maxLength}`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems)
      out.push(`${at}: fewer than ${s.minItems} items`);
    if (s.maxItems !== undefined && value.length > s.maxItems)
      out.push(`${at}: more than ${s.maxItems} items`);
    if (s.items) {
      for (const [i, item] of value.entries()) out.push(...validate(item, s.items, `${at}/${i}`));
    }
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const obj = value as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in obj)) out.push(`${at}/${r}: required property missing`);
    const props: Record<string, Schema> = s.properties ?? {};
    for (const [k, v] of Object.entries(obj)) {
      if (props[k]) out.push(...validate(v, props[k], `${at}/${k}`));
      else if (s.additionalProperties === false) out.push(`${at}/${k}: additional property not allowed`);
      else if (s.additionalProperties && typeof s.additionalProperties === 'object') {
        out.push(...validate(v, s.additionalProperties, `${at}/${k}`));
      }
    }
  }
  return out;
}
