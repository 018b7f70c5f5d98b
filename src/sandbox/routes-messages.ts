/**
 * `POST /{phone-number-id}/messages`: the hot path. Order of checks: auth, registration (133010),
 * throughput per number per one-second window (130429; the enforced limit may be below the advertised one, and a
 * throttling storm refuses every send), validation (template existence/status/params,
 * free-form window), pair rate limit (131056), then accept and schedule status webhooks.
 */
import { isBsuid } from '../lib/identity/bsuid.js';
import { FATES, scheduleStatuses, templateStatusUpdate } from './activity.js';
import type { Ctx, Result, SandboxCore } from './core.js';
import { gerr, invalidParam } from './errors.js';
import type { AcceptedMessage, NumberState, TemplateState } from './world.js';

export { FATES };

const MAX_LOG = 200_000;
const PAIR_REFILL_MS = 6000;
const SPACES_OR_NEWLINES = /[\n\t]| {5,}/;
const FREE_FORM_TYPES = new Set([
  'text',
  'image',
  'audio',
  'video',
  'document',
  'sticker',
  'location',
  'contacts',
  'interactive',
  'reaction',
]);

let seq = 0;
const WAMID_PREFIX = `${Date.now().toString(36).toUpperCase()}`;
function newWamid(wa: string): string {
  seq++;
  return `wamid.HBgL${wa}FQIAERgS${WAMID_PREFIX}${seq.toString(16).toUpperCase().padStart(8, '0')}AA==`;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function countFor(n: NumberState, second: number) {
  let c = n.counts.get(second);
  if (!c) {
    c = { accepted: 0, throttled: 0 };
    n.counts.set(second, c);
    if (n.counts.size > 3600) {
      const first = n.counts.keys().next().value;
      if (first !== undefined) n.counts.delete(first);
    }
  }
  return c;
}

function countMismatch(where: string, got: number, expected: number) {
  return gerr(132000, 'Number of parameters does not match the expected number of params', {
    details: `${where}: number of localizable_params (${got}) does not match the expected number of params (${expected})`,
  });
}

function formatMismatch(details: string) {
  return gerr(132012, 'Parameter format does not match format in the created template', { details });
}

function missing(details: string) {
  return gerr(131008, 'Required parameter is missing', { details });
}

function paramValue(p: Obj): string {
  const type = String(p.type ?? '').toLowerCase();
  if (type === 'text') return typeof p.text === 'string' ? p.text : '';
  if (type === 'currency' && isObj(p.currency)) return String(p.currency.fallback_value ?? '');
  if (type === 'date_time' && isObj(p.date_time)) return String(p.date_time.fallback_value ?? '');
  return '';
}

function checkTextParams(where: string, params: Obj[], t: TemplateState, expected: string[]): string[] {
  if (params.length !== expected.length) throw countMismatch(where, params.length, expected.length);
  const values: string[] = [];
  const named = t.parameterFormat === 'NAMED';
  const seen = new Set<string>();
  params.forEach((p, i) => {
    if (!isObj(p)) throw invalidParam(`${where}: parameter ${i} must be an object`);
    const type = String(p.type ?? '').toLowerCase();
    if (type !== 'text' && type !== 'currency' && type !== 'date_time') {
      throw formatMismatch(
        `${where}: Format mismatch, expected TEXT, received ${type.toUpperCase() || 'UNKNOWN'}`,
      );
    }
    if (type === 'text') {
      if (typeof p.text !== 'string' || p.text === '')
        throw missing(`${where}: parameter ${i} of type text requires "text"`);
      if (SPACES_OR_NEWLINES.test(p.text)) {
        throw gerr(132018, 'There was an issue with the parameters in your template.', {
          details: `${where}: Param text cannot have new-line/tab characters or more than 4 consecutive spaces`,
        });
      }
    }
    const pname = p.parameter_name;
    if (named) {
      if (typeof pname !== 'string' || pname === '') {
        throw formatMismatch(
          `${where}: the template uses named parameters; parameter ${i} has no parameter_name (expected one of ${expected.join(', ')})`,
        );
      }
      if (!expected.includes(pname)) {
        throw formatMismatch(
          `${where}: parameter_name (${pname}) is not in the template (expected ${expected.join(', ')})`,
        );
      }
      if (seen.has(pname)) throw formatMismatch(`${where}: parameter_name (${pname}) is given twice`);
      seen.add(pname);
    } else if (pname !== undefined) {
      throw formatMismatch(
        `${where}: the template uses positional parameters ({{1}}); remove parameter_name (${String(pname)})`,
      );
    }
    values.push(paramValue(p));
  });
  if (named) {
    // order values as the template declares them
    const byName = new Map(params.map((p) => [String(p.parameter_name), paramValue(p)]));
    return expected.map((name) => byName.get(name) ?? '');
  }
  return values;
}

function hydrate(text: string, expected: string[], values: string[]): string {
  let out = text;
  expected.forEach((name, i) => {
    out = out.split(`{{${name}}}`).join(values[i] ?? '');
  });
  return out;
}

/** Validates a template send against the stored template; returns the body parameter values. */
function validateTemplate(t: TemplateState, components: unknown): string[] {
  if (components !== undefined && !Array.isArray(components))
    throw invalidParam('template.components must be an array');
  const comps = (components ?? []) as unknown[];
  let header: Obj | undefined;
  let body: Obj | undefined;
  const buttons = new Map<number, Obj>();
  for (const c of comps) {
    if (!isObj(c)) throw invalidParam('each template component must be an object');
    const type = String(c.type ?? '').toLowerCase();
    if (type === 'header') header = c;
    else if (type === 'body') body = c;
    else if (type === 'button') {
      const idx = Number(c.index);
      if (!Number.isInteger(idx) || idx < 0)
        throw invalidParam('button components need an "index" (0-based, as a string)');
      buttons.set(idx, c);
    } else if (type !== 'carousel' && type !== 'limited_time_offer') {
      throw invalidParam(`Unknown template component type ${JSON.stringify(c.type)}`);
    }
  }
  const v = t.vars;
  const params = (c: Obj | undefined): Obj[] => {
    if (!c) return [];
    if (c.parameters === undefined) return [];
    if (!Array.isArray(c.parameters)) throw invalidParam('parameters must be an array');
    return c.parameters as Obj[];
  };

  // header
  const hf = v.headerFormat;
  if (hf === 'IMAGE' || hf === 'VIDEO' || hf === 'DOCUMENT' || hf === 'GIF') {
    const hp = params(header);
    if (hp.length !== 1) throw countMismatch('header', hp.length, 1);
    const p = hp[0]!;
    const expectedType = hf === 'GIF' ? 'video' : hf.toLowerCase();
    const type = String(p.type ?? '').toLowerCase();
    if (type !== expectedType)
      throw formatMismatch(
        `header: Format mismatch, expected ${hf}, received ${type.toUpperCase() || 'UNKNOWN'}`,
      );
    const media = p[expectedType];
    if (!isObj(media) || (typeof media.id !== 'string' && typeof media.link !== 'string')) {
      throw missing(
        `header: a ${expectedType} parameter requires ${expectedType}.id or ${expectedType}.link`,
      );
    }
  } else if (hf !== 'LOCATION' && hf !== 'PRODUCT') {
    checkTextParams('header', params(header), t, v.header);
  }

  // body
  const values = checkTextParams('body', params(body), t, v.body);
  const hydrated = hydrate(v.bodyText, v.body, values);
  const max = v.onlyBody ? 32_768 : 1024;
  if ([...hydrated].length > max) {
    throw gerr(132005, 'Translated text too long', {
      details: `body: the text with parameters is longer than ${max} characters`,
    });
  }

  // buttons
  const templateButtons = (t.components.find((c) => String(c.type).toUpperCase() === 'BUTTONS')?.buttons ??
    []) as Obj[];
  for (const b of v.buttons) {
    const given = buttons.get(b.index);
    const bp = params(given);
    if (bp.length !== b.vars.length)
      throw countMismatch(`button at index ${b.index}`, bp.length, b.vars.length);
    const p = bp[0]!;
    if (String(p.type ?? '').toLowerCase() !== 'text' || typeof p.text !== 'string' || p.text === '') {
      throw formatMismatch(
        `button at index ${b.index}: a URL button parameter must be {type: "text", text: "…"}`,
      );
    }
  }
  for (const [idx, c] of buttons) {
    const tb = templateButtons[idx];
    if (!tb) throw countMismatch(`button at index ${idx}`, params(c).length, 0);
    const hasVars = v.buttons.some((b) => b.index === idx);
    const type = String(tb.type ?? '').toUpperCase();
    if (
      !hasVars &&
      type !== 'QUICK_REPLY' &&
      type !== 'COPY_CODE' &&
      type !== 'FLOW' &&
      type !== 'OTP' &&
      type !== 'CATALOG' &&
      type !== 'MPM'
    ) {
      throw countMismatch(`button at index ${idx}`, params(c).length, 0);
    }
  }
  return values;
}

function findTemplate(core: SandboxCore, name: string, language: string): TemplateState {
  let sameName = false;
  for (const t of core.world.templates.values()) {
    if (t.name !== name) continue;
    sameName = true;
    if (t.language === language) return t;
  }
  throw gerr(132001, 'Template name does not exist in the translation', {
    details: sameName
      ? `template name (${name}) does not exist in ${language}`
      : `template name (${name}) does not exist in ${language}`,
  });
}

/**
 * Who a send goes to (§15.1): `to` (a phone number) or, without it, the top-level `recipient` (a BSUID or parent
 * BSUID). When both are present `to` wins and the send follows the phone path.
 */
function recipientOf(body: Obj): { input: string; wa: string | null; userId: string | null } {
  const to = body.to;
  const recipient = body.recipient;
  if ((to === undefined || to === null || to === '') && typeof recipient === 'string' && recipient !== '') {
    if (!isBsuid(recipient)) {
      throw gerr(131009, 'Parameter value is not valid', {
        details: `recipient: ${JSON.stringify(recipient)} is not a valid business-scoped user id`,
      });
    }
    return { input: recipient, wa: null, userId: recipient };
  }
  if (typeof to !== 'string' || to.trim() === '')
    throw invalidParam('The parameter to (or recipient) is required.');
  const wa = to.replace(/[^\d]/g, '');
  if (wa.length < 8 || wa.length > 15 || /[^\d\s+().-]/.test(to)) {
    throw gerr(131009, 'Parameter value is not valid', {
      details: `to: ${JSON.stringify(to)} is not a valid WhatsApp phone number`,
    });
  }
  return { input: to, wa, userId: null };
}

/**
 * A send on `/messages`, or on the Marketing Messages API's `/marketing_messages` (§15.3: templates only, MARKETING
 * only; the same body). A number whose account blocks marketing on the Cloud API refuses marketing templates on
 * `/messages` with 131063.
 */
export function sendMessage(
  core: SandboxCore,
  ctx: Ctx,
  n: NumberState,
  endpoint: 'messages' | 'marketing_messages' = 'messages',
): Result {
  core.authenticate(ctx);
  const body = ctx.req.body;
  if (body.status === 'read' && body.message_id !== undefined) {
    return { raw: '{"success":true}' };
  }
  if (n.offboarded || n.platformType !== 'CLOUD_API') {
    throw gerr(133010, 'Account not registered', {
      details: n.offboarded
        ? 'The phone number is offboarded from the Cloud API (device change or disconnection); wait for ACCOUNT_RECONNECTED.'
        : 'The phone number is not registered on the Cloud API.',
    });
  }
  const now = core.clock.now();
  const second = Math.floor(now / 1000);
  if (n.windowSecond !== second) {
    n.windowSecond = second;
    n.windowCount = 0;
  }
  const limit = n.enforcedMps ?? n.mps;
  if (now < n.stormUntil || n.windowCount >= limit) {
    countFor(n, second).throttled++;
    throw gerr(130429, 'Rate limit hit', {
      status: core.throttleStatus,
      details: `Cloud API message throughput has been reached (${limit} messages per second for this phone number).`,
    });
  }
  n.windowCount++;

  if (body.messaging_product !== 'whatsapp')
    throw invalidParam('The parameter messaging_product is required and must be "whatsapp".');
  const { input, wa, userId } = recipientOf(body);
  /** The recipient's identity for the window, the pair limit and the status fates. */
  const who = wa ?? userId!;
  if (wa === n.e164)
    throw gerr(131021, 'Recipient cannot be sender', {
      details: 'Sender and recipient phone number is the same.',
    });
  const cb = body.biz_opaque_callback_data;
  if (cb !== undefined && (typeof cb !== 'string' || cb.length > 512)) {
    throw invalidParam('biz_opaque_callback_data must be a string of at most 512 characters');
  }
  const type = body.type === undefined ? 'text' : String(body.type);

  let template: TemplateState | null = null;
  let values: string[] = [];
  let textBody: string | null = null;
  let reengagement = false;
  if (type === 'template') {
    const tpl = body.template;
    if (!isObj(tpl)) throw missing('template is required for type template');
    if (typeof tpl.name !== 'string' || tpl.name === '') throw missing('template.name is required');
    const lang = isObj(tpl.language) ? tpl.language.code : undefined;
    if (typeof lang !== 'string' || lang === '') throw missing('template.language.code is required');
    const t = findTemplate(core, tpl.name, lang);
    if (t.status === 'PAUSED') {
      throw gerr(132015, 'Template is Paused', {
        details: 'Template is paused due to low quality so it cannot be sent in a template message.',
      });
    }
    if (t.status === 'DISABLED') {
      throw gerr(132016, 'Template is disabled', {
        details:
          'Template has been paused too many times due to low quality and is now permanently disabled.',
      });
    }
    if (t.status !== 'APPROVED') {
      throw gerr(132001, 'Template name does not exist in the translation', {
        details: `template name (${t.name}) in ${t.language} is ${t.status}, not APPROVED`,
      });
    }
    const marketing = t.category.toUpperCase() === 'MARKETING';
    if (endpoint === 'marketing_messages' && !marketing) {
      throw invalidParam(
        `The Marketing Messages API sends MARKETING templates only; template ${t.name} (${t.language}) is ${t.category}.`,
      );
    }
    if (endpoint === 'messages' && marketing && n.marketingBlocked) {
      throw gerr(131063, 'Marketing templates disabled on Cloud API', {
        details:
          'Marketing template messages cannot be sent through the Cloud API for this account: use the Marketing Messages API (/marketing_messages).',
      });
    }
    if (userId !== null && t.category.toUpperCase() === 'AUTHENTICATION') {
      throw gerr(131062, 'Business-scoped User ID recipients are not supported for this message', {
        details:
          'Authentication templates must be sent to a phone number (to), not to a business-scoped user id.',
      });
    }
    values = validateTemplate(t, tpl.components);
    template = t;
  } else if (endpoint === 'marketing_messages') {
    throw invalidParam('The Marketing Messages API sends template messages only (type template).');
  } else if (FREE_FORM_TYPES.has(type)) {
    const payload = body[type];
    if (!isObj(payload) && !Array.isArray(payload)) throw missing(`${type} is required for type ${type}`);
    if (type === 'text') {
      const b = isObj(payload) ? payload.body : undefined;
      if (typeof b !== 'string' || b === '') throw missing('text.body is required');
      if (b.length > 4096) throw invalidParam('text.body must be at most 4096 characters');
      textBody = b;
    }
    const last = core.world.csw.get(`${n.id}|${who}`);
    if (last === undefined || now - last > 24 * 3_600_000) {
      if (core.options.reengagement !== 'failed_status')
        throw gerr(131047, REENGAGEMENT, { details: REENGAGEMENT_DETAILS });
      // the disputed form: accepted now, reported as failed by its status webhook
      reengagement = true;
    }
  } else {
    throw invalidParam(
      `Param type must be one of template, ${[...FREE_FORM_TYPES].join(', ')}; got ${JSON.stringify(type)}`,
    );
  }

  if (n.pairLimit) {
    const key = `${n.id}|${who}`;
    let b = core.world.pairBuckets.get(key);
    if (!b) {
      b = { tokens: n.pairBurst, at: now };
      core.world.pairBuckets.set(key, b);
    } else {
      b.tokens = Math.min(n.pairBurst, b.tokens + (now - b.at) / PAIR_REFILL_MS);
      b.at = now;
    }
    if (b.tokens < 1) {
      throw gerr(131056, '(Business Account, Consumer Account) pair rate limit hit', {
        status: core.throttleStatus,
        details:
          'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.',
      });
    }
    b.tokens -= 1;
  }

  countFor(n, second).accepted++;
  const id = newWamid(wa ?? who.replace(/\W/g, ''));
  const tpl = body.template as Obj | undefined;
  const msg: AcceptedMessage = {
    id,
    phone_number_id: n.id,
    to: wa,
    user_id: userId,
    via: wa !== null ? 'to' : 'recipient',
    endpoint,
    type,
    template: template ? template.name : null,
    language: template ? template.language : null,
    parameters: values,
    text: textBody,
    callback_data: typeof cb === 'string' ? cb : null,
    at: now,
  };
  if (template && tpl && tpl.components !== undefined)
    (msg as AcceptedMessage & { components?: unknown }).components = tpl.components;
  const log = core.world.messages;
  log.push(msg);
  // trimmed in chunks: one splice per MAX_LOG / 8 messages, not a 200,000-entry copy per message
  if (log.length > MAX_LOG * 1.125) log.splice(0, log.length - MAX_LOG);
  if (template) {
    template.sends++;
    if (template.pauseAfter !== null) {
      template.pauseAfter--;
      if (template.pauseAfter <= 0) pauseTemplate(core, template);
    }
  }
  if (n.statuses) {
    scheduleStatuses(
      core,
      n,
      msg,
      // deliveries through the Marketing Messages API report its pricing category (§15.3)
      endpoint === 'marketing_messages'
        ? 'marketing_lite'
        : template
          ? template.category.toLowerCase()
          : 'service',
      Number(ctx.version.slice(1, 3)),
      reengagement ? { code: 131047, title: REENGAGEMENT, details: REENGAGEMENT_DETAILS } : undefined,
    );
  }
  // a BSUID send answers with the user id and no wa_id (§15.1)
  const contact =
    wa !== null
      ? `{"input":${JSON.stringify(input)},"wa_id":"${wa}"}`
      : `{"input":${JSON.stringify(input)},"user_id":${JSON.stringify(userId)}}`;
  return {
    raw: template
      ? `{"messaging_product":"whatsapp","contacts":[${contact}],"messages":[{"id":"${id}","message_status":"accepted"}]}`
      : `{"messaging_product":"whatsapp","contacts":[${contact}],"messages":[{"id":"${id}"}]}`,
  };
}

const REENGAGEMENT = 'Re-engagement message';
const REENGAGEMENT_DETAILS =
  'Message failed to send because more than 24 hours have passed since the customer last replied to this number.';

/** Pauses a template for low quality (template_paused scenario) and tells the app. */
export function pauseTemplate(core: SandboxCore, t: TemplateState): void {
  t.status = 'PAUSED';
  t.qualityScore = 'RED';
  t.pauseAfter = null;
  templateStatusUpdate(core, t, 'PAUSED', {
    other_info: {
      title: 'FIRST_PAUSE',
      description: `Your WhatsApp message template ${t.name} has been paused for 3 hours until ${new Date(core.clock.now() + 3 * 3_600_000).toISOString()} because of low quality.`,
    },
  });
}
