import { UsageError } from '../errors.js';
import type { MessageTemplate, TemplateSendComponent, TemplateSendParameter } from '../graph/types.js';
import { templateVariables } from '../templates/rules.js';
import { type Slot, slotLabel } from './types.js';

/**
 * Column → template parameter mapping.
 *
 * `--map COLUMN=PARAM`, PARAM one of:
 *   `1`, `{{1}}`, `body.1`           body positional parameter
 *   `first_name`, `body.first_name`  body named parameter (a bare name also fills a header parameter of that name)
 *   `header`, `header.1`, `header.order_id`  header text parameter, or the media of an IMAGE/VIDEO/DOCUMENT header
 *   `button.0`                       the parameter of button 0: URL suffix, COPY_CODE coupon, QUICK_REPLY payload
 * Without `--map`, a column whose header is the parameter's name (`first_name`, `body.2`, `header`, `button.0`)
 * is used.
 */

export interface MapSpec {
  column: string;
  param: string;
}

/** Parses `COLUMN=PARAM` (the last '=' separates them). */
export function parseMapSpec(raw: string): MapSpec {
  const at = raw.lastIndexOf('=');
  const column = at > 0 ? raw.slice(0, at).trim() : '';
  const param = at > 0 ? raw.slice(at + 1).trim() : '';
  if (!column || !param) {
    throw new UsageError(`"${raw}" is not COLUMN=PARAM.`, {
      location: '--map',
      hint: 'For example --map first_name=1 --map order=body.2 --map coupon=button.0',
    });
  }
  return { column, param };
}

/** What the template needs filled, before any column is chosen. */
interface Need {
  component: Slot['component'];
  name: string;
  buttonIndex?: number;
  kind: Slot['kind'];
  required: boolean;
}

const MEDIA_KINDS: Record<string, Slot['kind']> = { IMAGE: 'image', VIDEO: 'video', DOCUMENT: 'document' };
const SUPPORTED_BUTTONS = new Set(['QUICK_REPLY', 'URL', 'PHONE_NUMBER', 'COPY_CODE', 'VOICE_CALL', 'OTP']);

/** The parameters a template takes, in wire order; throws for templates `wacx send` cannot fill. */
export function templateNeeds(template: MessageTemplate): Need[] {
  const vars = templateVariables({
    name: template.name,
    language: template.language,
    category: template.category,
    components: template.components ?? [],
    ...(template.parameter_format ? { parameter_format: template.parameter_format } : {}),
  });
  const needs: Need[] = [];
  const unsupported = (what: string) =>
    new UsageError(
      `Template "${template.name}" (${template.language}) uses ${what}, which \`wacx send\` cannot fill.`,
      {
        location: '--template',
        hint: 'Use a template with text/media headers, a body, and URL, COPY_CODE, QUICK_REPLY or OTP buttons.',
      },
    );
  for (const c of template.components ?? []) {
    const type = String(c.type).toUpperCase();
    if (type === 'HEADER') {
      const format = String(c.format ?? 'TEXT').toUpperCase();
      if (format === 'TEXT') {
        for (const name of vars.header)
          needs.push({ component: 'header', name, kind: 'text', required: true });
      } else if (MEDIA_KINDS[format]) {
        needs.push({ component: 'header', name: '', kind: MEDIA_KINDS[format]!, required: true });
      } else {
        throw unsupported(`a ${format} header`);
      }
    } else if (type === 'BODY') {
      for (const name of vars.body) needs.push({ component: 'body', name, kind: 'text', required: true });
    } else if (type === 'BUTTONS') {
      (c.buttons ?? []).forEach((b, index) => {
        const btype = String(b.type).toUpperCase();
        if (!SUPPORTED_BUTTONS.has(btype)) throw unsupported(`a ${btype} button`);
        // an OTP button (authentication templates) takes the code as a URL button parameter on the wire
        if ((btype === 'URL' && vars.buttons.some((v) => v.index === index)) || btype === 'OTP') {
          needs.push({
            component: 'button',
            name: String(index),
            buttonIndex: index,
            kind: 'text',
            required: true,
          });
        } else if (btype === 'COPY_CODE') {
          needs.push({
            component: 'button',
            name: String(index),
            buttonIndex: index,
            kind: 'coupon_code',
            required: true,
          });
        } else if (btype === 'QUICK_REPLY') {
          needs.push({
            component: 'button',
            name: String(index),
            buttonIndex: index,
            kind: 'payload',
            required: false,
          });
        }
      });
    } else if (type !== 'FOOTER') {
      throw unsupported(`a ${type} component`);
    }
  }
  return needs;
}

const norm = (s: string) => s.trim().toLowerCase();

/** Which needs a PARAM spec designates (empty when none). */
function designate(param: string, needs: readonly Need[]): Need[] {
  let p = param.trim();
  const braces = /^\{\{(.+)\}\}$/.exec(p);
  if (braces) p = braces[1]!.trim();
  const lower = p.toLowerCase();
  const dot = lower.indexOf('.');
  const prefix = dot > 0 ? lower.slice(0, dot) : lower;
  const rest = dot > 0 ? p.slice(dot + 1).replace(/^\{\{(.+)\}\}$/, '$1') : '';
  if (prefix === 'button' || prefix === 'buttons') {
    const index = Number(rest);
    return needs.filter((n) => n.component === 'button' && n.buttonIndex === index && rest !== '');
  }
  if (prefix === 'header' && dot < 0) return needs.filter((n) => n.component === 'header');
  if ((prefix === 'header' || prefix === 'body') && dot > 0) {
    return needs.filter((n) => n.component === prefix && n.name === rest);
  }
  if (/^\d+$/.test(p)) return needs.filter((n) => n.component === 'body' && n.name === p);
  return needs.filter((n) => (n.component === 'body' || n.component === 'header') && n.name === p);
}

/** Column names that fill a need without `--map`. */
function autoColumns(n: Need): string[] {
  if (n.component === 'button') return [`button.${n.buttonIndex}`];
  if (n.component === 'header')
    return n.name ? [`header.${n.name}`, 'header', ...(/^\d+$/.test(n.name) ? [] : [n.name])] : ['header'];
  return /^\d+$/.test(n.name) ? [`body.${n.name}`, `{{${n.name}}}`, n.name] : [`body.${n.name}`, n.name];
}

/** The index of a `--map` column in the CSV header (exact, else the one matching without case and separators). */
function columnIndex(header: readonly string[], column: string, csvName: string): number {
  const exact = header.indexOf(column);
  if (exact >= 0) return exact;
  const matches = header.map((h, i) => [h, i] as const).filter(([h]) => norm(h) === norm(column));
  if (matches.length === 1) return matches[0]![1];
  throw new UsageError(`There is no column "${column}" in the CSV header (columns: ${header.join(', ')}).`, {
    location: `${csvName}:1`,
    hint: 'Check the spelling of the column in --map, or the first line of the CSV.',
  });
}

/** Every `--map` column is in the CSV header: checked before the template is fetched. */
export function checkMappedColumns(
  header: readonly string[],
  specs: readonly MapSpec[],
  csvName: string,
): void {
  for (const spec of specs) columnIndex(header, spec.column, csvName);
}

/**
 * Resolves the slots of a campaign: every parameter the template takes, each with the CSV column that fills it.
 * Throws a UsageError (exit 2) when a mapped column or parameter does not exist, or a required parameter has
 * no column.
 */
export function resolveSlots(
  template: MessageTemplate,
  header: readonly string[],
  specs: readonly MapSpec[],
  csvName: string,
): Slot[] {
  const needs = templateNeeds(template);
  const named = template.parameter_format === 'NAMED';
  const assigned = new Map<Need, { column: string; index: number }>();
  for (const spec of specs) {
    const targets = designate(spec.param, needs);
    if (targets.length === 0) {
      throw new UsageError(
        `Template "${template.name}" (${template.language}) has no parameter "${spec.param}"; it takes ${describeNeeds(needs)}.`,
        { location: '--map', hint: 'Map each column to one of the parameters listed.' },
      );
    }
    const index = columnIndex(header, spec.column, csvName);
    for (const t of targets) assigned.set(t, { column: header[index]!, index });
  }
  for (const n of needs) {
    if (assigned.has(n)) continue;
    for (const candidate of autoColumns(n)) {
      const i = header.findIndex((h) => norm(h) === norm(candidate));
      if (i >= 0) {
        assigned.set(n, { column: header[i]!, index: i });
        break;
      }
    }
  }
  const slots: Slot[] = [];
  for (const n of needs) {
    const a = assigned.get(n);
    if (!a) {
      if (!n.required) continue;
      const label = slotLabel(n);
      throw new UsageError(
        `Template "${template.name}" (${template.language}) takes ${label}, but no CSV column is mapped to it.`,
        {
          location: '--map',
          hint: `Add --map COLUMN=${n.component === 'button' ? `button.${n.buttonIndex}` : n.component === 'header' ? (n.name ? `header.${n.name}` : 'header') : n.name}.`,
        },
      );
    }
    slots.push({
      component: n.component,
      name: n.name,
      ...(n.buttonIndex !== undefined ? { buttonIndex: n.buttonIndex } : {}),
      kind: n.kind,
      column: a.column,
      columnIndex: a.index,
      required: n.required,
      named: named && n.component !== 'button' && n.name !== '',
    });
  }
  return slots;
}

function describeNeeds(needs: readonly Need[]): string {
  if (needs.length === 0) return 'no parameters';
  return needs.map((n) => slotLabel(n)).join(', ');
}

/** Checks one value for its slot; returns a problem or null. */
export function checkValue(
  slot: Slot,
  value: string,
): { reason: 'missing_parameter' | 'invalid_parameter'; message: string } | null {
  if (value === '') {
    return slot.required
      ? {
          reason: 'missing_parameter',
          message: `missing ${slotLabel(slot)} (column "${slot.column}" is empty)`,
        }
      : null;
  }
  if (slot.kind === 'text' && slot.component !== 'button') {
    // Meta: "Param text cannot have new-line/tab characters or more than 4 consecutive spaces" (132000/132007)
    if (/[\n\r\t]/.test(value) || value.includes('     ')) {
      return {
        reason: 'invalid_parameter',
        message: `${slotLabel(slot)} (column "${slot.column}") contains a line break, a tab or more than 4 spaces in a row`,
      };
    }
  } else if (slot.kind === 'image' || slot.kind === 'video' || slot.kind === 'document') {
    if (!/^https:\/\/\S+$/i.test(value) && !/^\d+$/.test(value)) {
      return {
        reason: 'invalid_parameter',
        message: `${slotLabel(slot)} (column "${slot.column}") must be an https:// link or a media id`,
      };
    }
  } else if (slot.kind === 'coupon_code' && value.length > 15) {
    return {
      reason: 'invalid_parameter',
      message: `coupon code (column "${slot.column}") is longer than 15 characters`,
    };
  }
  return null;
}

/** Builds the `template.components` of a send from the slot values (in slot order). */
export function renderComponents(slots: readonly Slot[], values: readonly string[]): TemplateSendComponent[] {
  const header: TemplateSendParameter[] = [];
  const body: TemplateSendParameter[] = [];
  const buttons: TemplateSendComponent[] = [];
  for (let i = 0; i < slots.length; i++) {
    const s = slots[i]!;
    const v = values[i] ?? '';
    if (s.component === 'button') {
      if (v === '') continue;
      const param: TemplateSendParameter =
        s.kind === 'payload'
          ? { type: 'payload', payload: v }
          : s.kind === 'coupon_code'
            ? { type: 'coupon_code', coupon_code: v }
            : { type: 'text', text: v };
      const subType = s.kind === 'payload' ? 'quick_reply' : s.kind === 'coupon_code' ? 'copy_code' : 'url';
      buttons.push({ type: 'button', sub_type: subType, index: String(s.buttonIndex), parameters: [param] });
      continue;
    }
    let param: TemplateSendParameter;
    if (s.kind === 'text') {
      param = s.named ? { type: 'text', parameter_name: s.name, text: v } : { type: 'text', text: v };
    } else {
      param = { type: s.kind, [s.kind]: /^\d+$/.test(v) ? { id: v } : { link: v } };
    }
    if (s.component === 'header') header.push(param);
    else body.push(param);
  }
  const out: TemplateSendComponent[] = [];
  if (header.length > 0) out.push({ type: 'header', parameters: header });
  if (body.length > 0) out.push({ type: 'body', parameters: body });
  out.push(...buttons);
  return out;
}
