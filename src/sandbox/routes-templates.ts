/** Template management: create, list, delete, node GET / edit, and the asynchronous review. */
import { checkTemplate } from '../lib/templates/rules.js';
import { templateStatusUpdate } from './activity.js';
import type { Ctx, Result, SandboxCore } from './core.js';
import { gerr, invalidParam, type SandboxGraphError } from './errors.js';
import {
  parseFields,
  renderTemplate,
  TEMPLATE_DEFAULT_FIELDS,
  TEMPLATE_LIST_DEFAULT_FIELDS,
} from './fields.js';
import { jsonParam, type ParsedRequest, strParam } from './http.js';
import { paginate } from './paging.js';
import { SEED } from './seed.js';
import { computeVars, type TemplateState } from './world.js';

const DAY = 86_400_000;

function numberParam(req: ParsedRequest, name: string): number | undefined {
  const v = jsonParam(req, name);
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : Number(v);
  return Number.isFinite(n) ? n : (v as unknown as number);
}

/** The first error of Meta's rules as a code-100 Graph error carrying the creation subcode. */
function ruleError(def: unknown): SandboxGraphError | null {
  const errors = checkTemplate(def).filter((p) => p.severity === 'error');
  const first = errors[0];
  if (!first) return null;
  const details = errors.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ');
  return invalidParam(details, {
    ...(first.subcode !== undefined ? { subcode: first.subcode } : {}),
    userTitle: 'Invalid template',
    userMessage: first.message,
  });
}

// ---------------------------------------------------------------- review

const SHORTENERS = /\b(bit\.ly|tinyurl\.com|goo\.gl|ow\.ly|t\.co|is\.gd|buff\.ly)\//i;
const PROMOTIONAL =
  /(\bsale\b|\bdiscount|\d+\s?% off|\boffer\b|\bpromo|\bcoupon|\bdeal\b|\bfree gift\b|\bbuy now\b)/i;
const SCAMMY = /(guaranteed (income|returns)|\blottery\b|\bcrypto\b|you (have )?won\b|\bwire transfer\b)/i;

function templateText(t: TemplateState): string {
  const parts: string[] = [];
  for (const c of t.components) {
    if (typeof c.text === 'string') parts.push(c.text);
    if (Array.isArray(c.buttons)) {
      for (const b of c.buttons as Record<string, unknown>[]) {
        if (typeof b.text === 'string') parts.push(b.text);
        if (typeof b.url === 'string') parts.push(b.url);
      }
    }
  }
  return parts.join('\n');
}

/**
 * The sandbox's review rules (a few realistic rejections): shortened links -> INVALID_FORMAT,
 * promotional wording in a UTILITY/AUTHENTICATION template -> INCORRECT_CATEGORY, scam wording -> SCAM.
 */
export function reviewOutcome(t: TemplateState): {
  status: 'APPROVED' | 'REJECTED';
  reason: string;
  info?: Record<string, string>;
} {
  const text = templateText(t);
  if (SHORTENERS.test(text)) {
    return {
      status: 'REJECTED',
      reason: 'INVALID_FORMAT',
      info: {
        reason: 'Shortened URLs are not allowed.',
        recommendation: 'Use the full URL on your own domain.',
      },
    };
  }
  if (SCAMMY.test(text)) return { status: 'REJECTED', reason: 'SCAM' };
  if ((t.category === 'UTILITY' || t.category === 'AUTHENTICATION') && PROMOTIONAL.test(text)) {
    return { status: 'REJECTED', reason: 'INCORRECT_CATEGORY' };
  }
  return { status: 'APPROVED', reason: 'NONE' };
}

/**
 * The review of an edited APPROVED template that stays APPROVED meanwhile (Meta's docs): it changes only when the
 * new content fails the review.
 */
function scheduleReReview(core: SandboxCore, t: TemplateState): void {
  const id = t.id;
  const editsAtSchedule = t.edits.length;
  core.scheduler.after(core.reviewDelayMs, () => {
    const cur = core.world.templates.get(id);
    if (cur?.status !== 'APPROVED' || cur.edits.length !== editsAtSchedule) return;
    const outcome = reviewOutcome(cur);
    if (outcome.status === 'APPROVED') return;
    cur.status = outcome.status;
    cur.rejectedReason = outcome.reason;
    templateStatusUpdate(core, cur, outcome.status, outcome.info ? { rejection_info: outcome.info } : {});
  });
}

export function scheduleReview(core: SandboxCore, t: TemplateState): void {
  const id = t.id;
  const editsAtSchedule = t.edits.length;
  core.scheduler.after(core.reviewDelayMs, () => {
    const cur = core.world.templates.get(id);
    if (cur?.status !== 'PENDING' || cur.edits.length !== editsAtSchedule) return;
    const outcome = reviewOutcome(cur);
    cur.status = outcome.status;
    cur.rejectedReason = outcome.reason;
    templateStatusUpdate(core, cur, outcome.status, outcome.info ? { rejection_info: outcome.info } : {});
  });
}

// ---------------------------------------------------------------- create

export function createTemplate(core: SandboxCore, ctx: Ctx): Result {
  core.authenticate(ctx);
  core.countManagement(ctx, SEED.waba.id);
  const w = core.world;
  const now = core.clock.now();
  const req = ctx.req;
  const def: Record<string, unknown> = {
    name: strParam(req, 'name'),
    language: strParam(req, 'language'),
    category: typeof req.body.category === 'string' ? req.body.category : strParam(req, 'category'),
    components: jsonParam(req, 'components'),
  };
  const pf = strParam(req, 'parameter_format');
  if (pf !== undefined) def.parameter_format = pf;
  const ttl = numberParam(req, 'message_send_ttl_seconds');
  if (ttl !== undefined) def.message_send_ttl_seconds = ttl;
  const err = ruleError(def);
  if (err) throw err;

  w.templateCreates = w.templateCreates.filter((t) => now - t < 3_600_000);
  if (w.templateCreates.length >= w.limits.templatesPerHour) {
    throw gerr(4, 'Application request limit reached', {
      status: core.throttleStatus,
      details: `At most ${w.limits.templatesPerHour} templates can be created per WhatsApp Business Account per hour.`,
      transient: true,
    });
  }
  if (w.templates.size >= w.limits.templateCount) {
    throw invalidParam(
      `The WhatsApp Business Account reached its limit of ${w.limits.templateCount} message templates.`,
      {
        subcode: 2388019,
        userTitle: 'Message template limit reached',
      },
    );
  }
  const name = def.name as string;
  const language = def.language as string;
  for (const t of w.templates.values()) {
    if (t.name === name && t.language === language) {
      throw invalidParam(
        `There is already ${language} content for this template. You can create a new template and try again.`,
        {
          subcode: 2388024,
          userTitle: 'Content in This Language Already Exists',
          userMessage: `There is already ${language} content for this template. You can create a new template and try again.`,
        },
      );
    }
  }
  const deletedAt = w.deletedNames.get(`${name}|${language}`);
  if (deletedAt !== undefined && now - deletedAt < 30 * DAY) {
    const msg = `New ${language} content can't be added while the existing ${language} content is being deleted. Try again in 4 weeks or create a new message template.`;
    throw invalidParam(msg, {
      subcode: 2388023,
      userTitle: 'Message Template Being Deleted',
      userMessage: msg,
    });
  }
  w.templateCreates.push(now);
  const components = def.components as Record<string, unknown>[];
  const category = String(def.category).toUpperCase();
  const t: TemplateState = {
    id: w.newTemplateId(),
    name,
    language,
    category,
    status: 'PENDING',
    parameterFormat:
      String(def.parameter_format ?? 'POSITIONAL').toUpperCase() === 'NAMED' ? 'NAMED' : 'POSITIONAL',
    components,
    rejectedReason: 'NONE',
    qualityScore: 'UNKNOWN',
    ttl: typeof def.message_send_ttl_seconds === 'number' ? def.message_send_ttl_seconds : undefined,
    createdAt: now,
    edits: [],
    sends: 0,
    pauseAfter: null,
    vars: computeVars({ name, language, category, components }),
  };
  w.templates.set(t.id, t);
  scheduleReview(core, t);
  return { json: { id: t.id, status: t.status, category: t.category } };
}

// ---------------------------------------------------------------- list

function listFilter(v: string | undefined): Set<string> | null {
  if (v === undefined || v.trim() === '') return null;
  let items: string[];
  const t = v.trim();
  if (t.startsWith('[')) {
    try {
      items = (JSON.parse(t) as unknown[]).map(String);
    } catch {
      items = t.split(',');
    }
  } else items = t.split(',');
  return new Set(items.map((s) => s.trim().toUpperCase()).filter(Boolean));
}

export function listTemplates(core: SandboxCore, ctx: Ctx): Result {
  core.authenticate(ctx);
  core.countManagement(ctx, SEED.waba.id);
  const q = ctx.req.query;
  const fields = parseFields(q.fields, TEMPLATE_LIST_DEFAULT_FIELDS);
  const status = listFilter(q.status);
  const category = listFilter(q.category);
  const language = listFilter(q.language);
  const quality = listFilter(q.quality_score);
  const source = listFilter(q.source);
  const search = (q.name_or_content ?? '').toLowerCase();
  const content = (q.content ?? '').toLowerCase();
  const items = [...core.world.templates.values()]
    .filter((t) => {
      if (q.name && t.name !== q.name) return false;
      if (status && !status.has(t.status)) return false;
      if (category && !category.has(t.category)) return false;
      if (language && !language.has(t.language.toUpperCase())) return false;
      if (quality && !quality.has(t.qualityScore)) return false;
      if (source && !source.has(t.source ?? '')) return false;
      if (
        search &&
        !t.name.toLowerCase().includes(search) &&
        !t.vars.bodyText.toLowerCase().includes(search)
      ) {
        return false;
      }
      if (content && !t.vars.bodyText.toLowerCase().includes(content)) return false;
      return true;
    })
    .sort((a, b) => b.createdAt - a.createdAt || (BigInt(b.id) > BigInt(a.id) ? 1 : -1));
  const page: Record<string, unknown> = paginate(
    core,
    ctx,
    items,
    (t) => renderTemplate(t, fields),
    25,
    1000,
  );
  if ((q.summary ?? '').includes('total_count')) page.summary = { total_count: items.length };
  return { json: page };
}

// ---------------------------------------------------------------- delete

export function deleteTemplates(core: SandboxCore, ctx: Ctx): Result {
  core.authenticate(ctx);
  core.countManagement(ctx, SEED.waba.id);
  const w = core.world;
  const req = ctx.req;
  const name = strParam(req, 'name');
  const hsmId = strParam(req, 'hsm_id');
  const hsmIdsRaw = jsonParam(req, 'hsm_ids');
  let targets: TemplateState[];
  if (hsmIdsRaw !== undefined) {
    if (name !== undefined || hsmId !== undefined) {
      throw invalidParam('hsm_ids cannot be combined with name or hsm_id');
    }
    if (!Array.isArray(hsmIdsRaw) || hsmIdsRaw.length === 0)
      throw invalidParam('hsm_ids must be a non-empty JSON array of ids');
    if (hsmIdsRaw.length > 100) throw invalidParam('hsm_ids accepts at most 100 ids');
    targets = hsmIdsRaw.map((id) => {
      const t = w.templates.get(String(id));
      if (!t) throw invalidParam(`Message template with id ${String(id)} was not found`);
      return t;
    });
  } else {
    if (!name) throw invalidParam('name is required (or hsm_ids)');
    if (hsmId !== undefined) {
      const t = w.templates.get(hsmId);
      if (!t || t.name !== name)
        throw invalidParam(`Message template ${name} with id ${hsmId} was not found`);
      targets = [t];
    } else {
      targets = [...w.templates.values()].filter((t) => t.name === name);
      if (targets.length === 0) throw invalidParam(`Message template "${name}" was not found`);
    }
  }
  const generated = targets.find((t) => t.source === 'AUTO_GENERATED');
  if (generated) {
    throw invalidParam(
      `Message template ${generated.name} was created by Direct Send and cannot be deleted.`,
      {
        subcode: DIRECT_SEND_NO_DELETE,
        userTitle: 'Cannot delete Direct Send template',
        userMessage: 'Templates generated by Direct Send cannot be deleted.',
      },
    );
  }
  const disabled = targets.find((t) => t.status === 'DISABLED');
  if (disabled) {
    throw invalidParam(
      `Message template ${disabled.name} (${disabled.language}) is DISABLED and cannot be deleted.`,
      {
        userTitle: 'Disabled templates cannot be deleted',
      },
    );
  }
  const now = core.clock.now();
  for (const t of targets) {
    if (t.status === 'APPROVED' || t.status === 'PAUSED') w.deletedNames.set(`${t.name}|${t.language}`, now);
    w.templates.delete(t.id);
  }
  return { json: { success: true } };
}

// ---------------------------------------------------------------- node

export function getTemplateNode(core: SandboxCore, ctx: Ctx, t: TemplateState): Result {
  core.authenticate(ctx);
  const fields = parseFields(ctx.req.query.fields, TEMPLATE_DEFAULT_FIELDS);
  return { json: renderTemplate(t, fields) };
}

const EDITABLE_KEYS = new Set(['category', 'components', 'message_send_ttl_seconds', 'parameter_format']);
const IGNORED_KEYS = new Set(['access_token', 'appsecret_proof', 'appsecret_time']);

export function editTemplate(core: SandboxCore, ctx: Ctx, t: TemplateState): Result {
  core.authenticate(ctx);
  const req = ctx.req;
  const keys = Object.keys(req.body).filter((k) => !IGNORED_KEYS.has(k));
  const bad = keys.filter((k) => !EDITABLE_KEYS.has(k));
  if (bad.length > 0) {
    throw invalidParam(
      `Only category, components, message_send_ttl_seconds and parameter_format can be edited (got ${bad.join(', ')})`,
    );
  }
  if (keys.length === 0)
    throw invalidParam(
      'Nothing to edit: pass category, components, message_send_ttl_seconds or parameter_format',
    );
  if (t.source === 'AUTO_GENERATED') {
    throw invalidParam(`Message template ${t.name} was created by Direct Send and cannot be updated.`, {
      subcode: DIRECT_SEND_NO_UPDATE,
      userTitle: 'Cannot update Direct Send template',
      userMessage: 'Templates generated by Direct Send cannot be edited.',
    });
  }
  if (!['APPROVED', 'REJECTED', 'PAUSED'].includes(t.status)) {
    throw invalidParam(
      `Templates with status ${t.status} cannot be edited; only APPROVED, REJECTED or PAUSED templates can.`,
      {
        userTitle: 'Template cannot be edited',
      },
    );
  }
  const now = core.clock.now();
  const newCategory = req.body.category !== undefined ? String(req.body.category).toUpperCase() : t.category;
  if (t.status === 'APPROVED' && newCategory !== t.category) {
    throw invalidParam('The category of an approved template cannot be changed.', {
      userTitle: 'Category cannot be changed',
    });
  }
  if (t.status === 'APPROVED') {
    const recent = t.edits.filter((e) => now - e < 30 * DAY);
    if (recent.some((e) => now - e < DAY)) {
      throw invalidParam('An approved template can be edited once every 24 hours.', {
        userTitle: 'Edit limit reached',
        userMessage: 'You can edit an approved message template once per day, and 10 times in 30 days.',
      });
    }
    if (recent.length >= 10) {
      throw invalidParam('An approved template can be edited at most 10 times in 30 days.', {
        userTitle: 'Edit limit reached',
        userMessage: 'You can edit an approved message template once per day, and 10 times in 30 days.',
      });
    }
  }
  const components = req.body.components !== undefined ? jsonParam(req, 'components') : t.components;
  const def: Record<string, unknown> = {
    name: t.name,
    language: t.language,
    category: newCategory,
    components,
    parameter_format: req.body.parameter_format ?? t.parameterFormat,
  };
  const ttl =
    req.body.message_send_ttl_seconds !== undefined ? numberParam(req, 'message_send_ttl_seconds') : t.ttl;
  if (ttl !== undefined) def.message_send_ttl_seconds = ttl;
  const err = ruleError(def);
  if (err) throw err;
  if (t.status === 'APPROVED') t.edits.push(now);
  else t.edits.push(Number.NEGATIVE_INFINITY);
  t.category = newCategory;
  t.components = components as Record<string, unknown>[];
  t.parameterFormat = String(def.parameter_format).toUpperCase() === 'NAMED' ? 'NAMED' : 'POSITIONAL';
  t.ttl = typeof ttl === 'number' ? ttl : undefined;
  t.vars = computeVars({
    name: t.name,
    language: t.language,
    category: t.category,
    components: t.components,
  });
  t.rejectedReason = 'NONE';
  if (t.status === 'APPROVED' && (core.options.approvedEdit ?? 'stays_approved') === 'stays_approved') {
    scheduleReReview(core, t);
  } else {
    t.status = 'PENDING';
    scheduleReview(core, t);
  }
  return { json: { success: true, id: t.id, name: t.name, category: t.category } };
}

// ---------------------------------------------------------------- Direct Send (meta-cloud-api.md §15.4)

const DIRECT_SEND_NO_UPDATE = 2388318;
const DIRECT_SEND_NO_DELETE = 2388330;
const DIRECT_SEND_NAME_TAKEN = 132021;

/**
 * A template Meta generates for a Direct Send message (`auto_generated_…`, or the business-named
 * `direct_send_config.template_name`): APPROVED at once, `source: AUTO_GENERATED`. A business name that a normal
 * template already has is refused asynchronously with 132021 on the error webhook, and nothing is created.
 */
export function addAutoGeneratedTemplate(
  core: SandboxCore,
  spec: { name?: unknown; language?: unknown; category?: unknown; text?: unknown },
): TemplateState | null {
  const w = core.world;
  const name =
    typeof spec.name === 'string' && spec.name ? spec.name : `auto_generated_${w.newTemplateId().slice(-8)}`;
  const language = typeof spec.language === 'string' ? spec.language : 'en_US';
  const category = String(spec.category ?? 'UTILITY').toUpperCase();
  const text = typeof spec.text === 'string' ? spec.text : 'Your order has shipped.';
  const taken = [...w.templates.values()].find((t) => t.name === name && t.source !== 'AUTO_GENERATED');
  if (taken) {
    const coex = SEED.phoneNumbers.coex.id;
    core.emit(
      'messages',
      {
        messaging_product: 'whatsapp',
        metadata: core.metadata(core.numberOf(coex)!),
        errors: [
          {
            code: DIRECT_SEND_NAME_TAKEN,
            title: 'Template name already in use',
            message: 'Template name already in use',
            error_data: {
              details: `The Direct Send template name ${name} is already used by a template not created by Direct Send.`,
            },
          },
        ],
      },
      { phoneNumberId: coex },
    );
    return null;
  }
  const components = [{ type: 'BODY', text }];
  const t: TemplateState = {
    id: w.newTemplateId(),
    name,
    language,
    category,
    status: 'APPROVED',
    parameterFormat: 'POSITIONAL',
    components,
    rejectedReason: 'NONE',
    qualityScore: 'UNKNOWN',
    ttl: undefined,
    createdAt: core.clock.now(),
    edits: [],
    sends: 0,
    pauseAfter: null,
    vars: computeVars({ name, language, category, components }),
    source: 'AUTO_GENERATED',
  };
  w.templates.set(t.id, t);
  return t;
}
