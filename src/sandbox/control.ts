/** The control and inspection API under `/__sandbox/` (JSON, no auth: loopback only). */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { inboundValue, templateStatusUpdate } from './activity.js';
import type { Result, SandboxCore } from './core.js';
import type { ParsedRequest } from './http.js';
import { applyScenario, ScenarioError } from './scenarios.js';
import { SEED } from './seed.js';
import { ALL_WEBHOOK_FIELDS, type NumberState } from './world.js';

const bad = (message: string, status = 400): Result => ({ status, json: { error: { message } } });

/** Runs scheduled work in time order (moving the clock as needed) until nothing is left. */
export async function flush(core: SandboxCore, maxRounds = 200): Promise<number> {
  let rounds = 0;
  for (; rounds < maxRounds; rounds++) {
    await core.webhooks.idle();
    const next = core.scheduler.nextAt();
    if (next === undefined) break;
    const gap = next - core.clock.now();
    if (gap > 0) core.scheduler.advance(gap);
    else core.scheduler.run();
  }
  await core.webhooks.idle();
  return rounds;
}

function numberSummary(core: SandboxCore) {
  return [...core.world.numbers.values()].map((n) => ({
    id: n.id,
    display_phone_number: n.display,
    e164: n.e164,
    is_on_biz_app: n.isOnBizApp,
    platform_type: n.platformType,
    status: n.status,
    in_waba: n.inWaba,
    offboarded: n.offboarded,
    mps: n.mps,
    enforced_mps: n.enforcedMps ?? n.mps,
    throttle_storm_until: n.stormUntil > core.clock.now() ? n.stormUntil : null,
    pair_limit: n.pairLimit,
    pair_burst: n.pairBurst,
    statuses: n.statuses,
    marketing_blocked_on_messages: n.marketingBlocked ?? false,
    marketing_messages_onboarded: n.marketingOnboarded ?? false,
    last_onboarded_time: n.lastOnboardedTime,
    sync_requests: Object.fromEntries(n.syncRequests),
  }));
}

function sendCounts(core: SandboxCore, id: string) {
  const n = core.world.numbers.get(id);
  if (!n) return null;
  const seconds = [...n.counts.entries()].map(([second, c]) => ({
    second,
    accepted: c.accepted,
    throttled: c.throttled,
  }));
  const max = seconds.reduce((m, s) => Math.max(m, s.accepted), 0);
  return {
    phone_number_id: n.id,
    mps: n.mps,
    enforced_mps: n.enforcedMps ?? n.mps,
    max_per_second: max,
    seconds,
  };
}

function applyEmitDefaults(
  core: SandboxCore,
  field: string,
  value: Record<string, unknown>,
  phoneId: string,
): void {
  const n = core.world.numbers.get(phoneId);
  if (!n) return;
  const messagingFields = ['messages', 'smb_message_echoes', 'history', 'smb_app_state_sync'];
  if (!messagingFields.includes(field)) return;
  value.messaging_product ??= 'whatsapp';
  value.metadata ??= core.metadata(n);
  const now = core.clock.now();
  const fill = (m: Record<string, unknown>, i: number, prefix: string) => {
    m.id ??= `wamid.${Buffer.from(`${prefix}:${phoneId}:${now}:${i}:${Math.floor(core.random() * 1e9)}`).toString('base64url')}`;
    m.timestamp ??= String(Math.floor(now / 1000));
    if (m.type === undefined) {
      if (m.text !== undefined) m.type = 'text';
    }
  };
  if (field === 'messages' && Array.isArray(value.messages)) {
    const msgs = value.messages as Record<string, unknown>[];
    const w = core.world;
    const sender = (m: Record<string, unknown>) =>
      [m.from, m.from_user_id]
        .filter((k): k is string => typeof k === 'string' && k !== '')
        .map((k) => w.user(k))[0];
    msgs.forEach((m, i) => {
      fill(m, i, 'in');
      if (typeof m.from === 'string') w.csw.set(`${phoneId}|${m.from.replace(/\D/g, '')}`, now);
      const u = sender(m);
      if (u) w.csw.set(`${phoneId}|${u.userId}`, now);
    });
    value.contacts ??= msgs
      .filter((m) => typeof m.from === 'string' || typeof m.from_user_id === 'string')
      .map((m) => {
        const u = sender(m);
        if (u) return w.contactEntry(u);
        return {
          profile: { name: 'WhatsApp user' },
          ...(typeof m.from === 'string' ? { wa_id: m.from } : {}),
          ...(typeof m.from_user_id === 'string' ? { user_id: m.from_user_id } : {}),
        };
      });
  }
  if (field === 'smb_message_echoes' && Array.isArray(value.message_echoes)) {
    (value.message_echoes as Record<string, unknown>[]).forEach((m, i) => {
      m.from ??= n.e164;
      fill(m, i, 'echo');
    });
  }
}

/**
 * The enforced throughput knobs of a number: `enforced_mps` (a limit below, or above, the advertised `mps`; null
 * = the advertised one) and `throttle_storm_ms` (every send refused with 130429 for that long, from now; 0 ends a
 * storm). Returns an error message, or null when applied.
 */
export function applyThroughputKnobs(
  core: SandboxCore,
  n: NumberState,
  body: Record<string, unknown>,
): string | null {
  if (body.enforced_mps !== undefined) {
    if (body.enforced_mps === null) n.enforcedMps = null;
    else {
      const v = Number(body.enforced_mps);
      if (!Number.isFinite(v) || v <= 0) return 'enforced_mps must be a positive number (or null)';
      n.enforcedMps = v;
    }
  }
  if (body.throttle_storm_ms !== undefined) {
    const ms = Number(body.throttle_storm_ms);
    if (!Number.isFinite(ms) || ms < 0) return 'throttle_storm_ms must be a number of ms, 0 or more';
    n.stormUntil = ms > 0 ? core.clock.now() + ms : 0;
  }
  return null;
}

function verifyOwnSignature(core: SandboxCore, req: ParsedRequest): boolean {
  const sig = req.headers['x-hub-signature-256'];
  if (typeof sig !== 'string') return false;
  const expected = Buffer.from(
    `sha256=${createHmac('sha256', core.appSecret).update(req.rawBody, 'utf8').digest('hex')}`,
  );
  const got = Buffer.from(sig);
  return expected.length === got.length && timingSafeEqual(expected, got);
}

export async function controlRouter(core: SandboxCore, req: ParsedRequest): Promise<Result> {
  const parts = req.segments.slice(1);
  const [what, arg] = parts;
  const method = req.method;
  const body = req.body;
  const w = core.world;
  try {
    switch (what) {
      case 'health':
        return { json: { ok: true, url: core.url } };
      case 'world':
        return {
          json: {
            seed: SEED,
            now: core.clock.now(),
            numbers: numberSummary(core),
            templates: [...w.templates.values()].map((t) => ({
              id: t.id,
              name: t.name,
              language: t.language,
              category: t.category,
              status: t.status,
              sends: t.sends,
            })),
            app_subscription: w.appSubscription,
            subscribed_apps: [...w.subscribedApps.keys()],
            scenarios: core.scenarios.applied,
            bsuid: w.bsuid,
            faults: core.scenarios.faults,
            limits: w.limits,
          },
        };
      case 'messages': {
        const q = req.query;
        const list = w.messages.filter(
          (m) =>
            (!q.phone_number_id || m.phone_number_id === q.phone_number_id) &&
            (!q.to || m.to === q.to.replace(/\D/g, '')) &&
            (!q.template || m.template === q.template),
        );
        return { json: list };
      }
      case 'send-counts': {
        const id = req.query.phone_number_id;
        if (id) {
          const c = sendCounts(core, id);
          return c ? { json: c } : bad(`unknown phone_number_id ${id}`, 404);
        }
        return { json: { numbers: [...w.numbers.keys()].map((k) => sendCounts(core, k)) } };
      }
      case 'webhooks': {
        if (arg === 'config' && method === 'POST') {
          const c = core.webhooks.config;
          if (body.retry_base_ms !== undefined) c.retryBaseMs = Number(body.retry_base_ms);
          if (body.max_attempts !== undefined) c.maxAttempts = Number(body.max_attempts);
          if (body.duplicate_rate !== undefined) c.duplicateRate = Number(body.duplicate_rate);
          if (body.concurrency !== undefined) c.concurrency = Math.max(1, Number(body.concurrency));
          if (body.escape_slashes !== undefined) c.escapeSlashes = Boolean(body.escape_slashes);
          return { json: c };
        }
        const q = req.query;
        const list = core.webhooks.records.filter((r) => !q.field || r.field === q.field);
        return { json: list };
      }
      case 'scenario': {
        if (method !== 'POST') return bad('POST {name, ...params}', 405);
        // {name, ...params}; a scenario parameter that is itself called "name" (template_paused) can be given
        // as {"params": {"name": …}} or as "template"
        const { name, params: nested, ...rest } = body;
        if (typeof name !== 'string') return bad('name is required');
        const params: Record<string, unknown> = {
          ...rest,
          ...(nested && typeof nested === 'object' ? (nested as Record<string, unknown>) : {}),
        };
        const result = applyScenario(core, name, params);
        await core.webhooks.idle();
        return { json: result };
      }
      case 'clock': {
        if (method === 'POST') {
          if (body.freeze !== undefined) core.clock.freeze(Boolean(body.freeze));
          const ms = Number(body.advance_ms ?? 0);
          if (!Number.isFinite(ms) || ms < 0) return bad('advance_ms must be a positive number');
          core.scheduler.advance(ms);
          await core.webhooks.idle();
        }
        return {
          json: {
            now: core.clock.now(),
            offset_ms: core.clock.offsetMs,
            frozen: core.clock.frozenAt !== null,
          },
        };
      }
      case 'flush': {
        const rounds = await flush(core);
        return { json: { now: core.clock.now(), rounds, pending: core.scheduler.size } };
      }
      case 'numbers': {
        const n = arg ? w.numbers.get(arg) : undefined;
        if (!arg) return { json: numberSummary(core) };
        if (!n) return bad(`unknown phone number ${arg}`, 404);
        if (method === 'POST') {
          if (body.mps !== undefined) {
            const mps = Number(body.mps);
            if (!Number.isFinite(mps) || mps <= 0) return bad('mps must be a positive number');
            n.mps = mps;
          }
          const knobs = applyThroughputKnobs(core, n, body);
          if (knobs) return bad(knobs);
          if (body.pair_limit !== undefined) n.pairLimit = Boolean(body.pair_limit);
          if (body.pair_burst !== undefined) n.pairBurst = Math.max(1, Number(body.pair_burst));
          if (body.statuses !== undefined) n.statuses = Boolean(body.statuses);
          // the Marketing Messages API switches: 131063 for marketing on /messages; onboarding (WABA field)
          if (body.marketing_blocked_on_messages !== undefined)
            n.marketingBlocked = Boolean(body.marketing_blocked_on_messages);
          if (body.marketing_messages_onboarded !== undefined)
            n.marketingOnboarded = Boolean(body.marketing_messages_onboarded);
          if (body.last_onboarded_time !== undefined) n.lastOnboardedTime = Number(body.last_onboarded_time);
        }
        return { json: numberSummary(core).find((x) => x.id === n.id) };
      }
      case 'templates': {
        const t = arg ? w.templates.get(arg) : undefined;
        if (!t) return bad(`unknown template ${arg ?? ''}`, 404);
        if (method === 'POST' && typeof body.status === 'string') {
          t.status = body.status.toUpperCase();
          if (typeof body.reason === 'string') t.rejectedReason = body.reason;
          if (t.status === 'PAUSED') t.qualityScore = 'RED';
          templateStatusUpdate(core, t, t.status);
          await core.webhooks.idle();
        }
        return {
          json: { id: t.id, name: t.name, language: t.language, status: t.status, category: t.category },
        };
      }
      case 'limits': {
        if (method === 'POST') {
          if (body.management_per_hour !== undefined)
            w.limits.managementPerHour = Number(body.management_per_hour);
          if (body.templates_per_hour !== undefined)
            w.limits.templatesPerHour = Number(body.templates_per_hour);
          if (body.template_count !== undefined) w.limits.templateCount = Number(body.template_count);
          if (body.enforced_mps !== undefined || body.throttle_storm_ms !== undefined) {
            // the throughput knobs of one number (phone_number_id), or of every number
            const id = body.phone_number_id;
            const targets = id === undefined ? [...w.numbers.values()] : [w.numbers.get(String(id))];
            for (const n of targets) {
              if (!n) return bad(`unknown phone_number_id ${String(id)}`, 404);
              const knobs = applyThroughputKnobs(core, n, body);
              if (knobs) return bad(knobs);
            }
          }
        }
        return {
          json: {
            ...w.limits,
            numbers: [...w.numbers.values()].map((n) => ({
              id: n.id,
              mps: n.mps,
              enforced_mps: n.enforcedMps ?? n.mps,
              throttle_storm_until: n.stormUntil > core.clock.now() ? n.stormUntil : null,
            })),
          },
        };
      }
      case 'inbound': {
        // a message from a user of the world, with the identity fields of the current mode (BSUID mode: BSUIDs,
        // username, no phone when withheld): {user: phone | BSUID | username | index, text} or {user, message: {type, …}}
        if (method !== 'POST') return bad('POST {user, text} or {user, message}', 405);
        const key = body.user ?? 0;
        const u = typeof key === 'number' || typeof key === 'string' ? w.user(key) : undefined;
        if (!u)
          return bad(
            `unknown user ${JSON.stringify(key)} (a phone, BSUID, username or index of the world's users)`,
          );
        const content =
          body.message && typeof body.message === 'object' && !Array.isArray(body.message)
            ? (body.message as Record<string, unknown>)
            : typeof body.text === 'string'
              ? { type: 'text', text: { body: body.text } }
              : null;
        if (!content) return bad('text (a string) or message (an object with type) is required');
        const phoneId = String(body.phone_number_id ?? SEED.phoneNumbers.coex.id);
        const n = w.numbers.get(phoneId);
        if (!n) return bad(`unknown phone_number_id ${phoneId}`, 404);
        const now = core.clock.now();
        w.csw.set(`${phoneId}|${u.phone}`, now);
        w.csw.set(`${phoneId}|${u.userId}`, now);
        const record = core.emit('messages', inboundValue(core, n, u, content, now), {
          phoneNumberId: phoneId,
        });
        await core.webhooks.idle();
        return { json: { id: record.id, status: record.status, skipped: record.skipped, body: record.body } };
      }
      case 'users': {
        // POST /__sandbox/users/<phone | BSUID | username | index> {username}: the user adopts (or drops) a username
        if (arg !== undefined) {
          const u = w.user(/^\d+$/.test(arg) && Number(arg) < w.users.length ? Number(arg) : arg);
          if (!u) return bad(`unknown user ${arg}`, 404);
          if (method === 'POST' && body.username !== undefined) {
            if (body.username !== null && (typeof body.username !== 'string' || !body.username.trim()))
              return bad('username must be a non-empty string, or null');
            u.username = body.username === null ? null : body.username.trim();
          }
        }
        return {
          json: w.users.map((u) => ({
            phone: u.phone,
            user_id: u.userId,
            parent_user_id: u.parentUserId,
            username: u.username,
            full_name: u.fullName,
            phone_shared: w.phoneShared(u),
          })),
        };
      }
      case 'emit': {
        if (method !== 'POST') return bad('POST {field, value}', 405);
        const field = body.field;
        const value = body.value;
        if (typeof field !== 'string' || !field) return bad('field is required');
        if (!value || typeof value !== 'object' || Array.isArray(value))
          return bad('value must be an object');
        const phoneId = String(body.phone_number_id ?? SEED.phoneNumbers.coex.id);
        const v = value as Record<string, unknown>;
        applyEmitDefaults(core, field, v, phoneId);
        const record = core.emit(field, v, {
          phoneNumberId: phoneId,
          withTime: field === 'account_update' || field.startsWith('message_template'),
        });
        await core.webhooks.idle();
        return {
          json: { id: record.id, field, status: record.status, skipped: record.skipped, body: record.body },
        };
      }
      case 'reset': {
        core.scheduler.clear();
        core.webhooks.clear();
        core.statusOutbox.clear();
        core.scenarios.historyDeclined = false;
        core.scenarios.signupDeclined = false;
        core.scenarios.faults = { errorRate: 0, resetRate: 0, latencyMs: 0, path: null, resetMode: 'after' };
        core.scenarios.applied = [];
        core.webhooks.config.duplicateRate = core.options.webhookDuplicateRate ?? 0;
        core.clock.offsetMs = 0;
        core.clock.frozenAt = null;
        core.resetWorld();
        return { json: { reset: true } };
      }
      case 'receiver': {
        if (method === 'GET') {
          const q = req.query;
          if (q['hub.mode'] === 'subscribe' && q['hub.verify_token'] === core.verifyToken) {
            return { text: q['hub.challenge'] ?? '' };
          }
          return bad('verification failed', 403);
        }
        return verifyOwnSignature(core, req) ? { json: { received: true } } : bad('invalid signature', 403);
      }
      case 'env': {
        const lines = [
          ['WACX_GRAPH_URL', core.url],
          ['WACX_TOKEN', SEED.token],
          ['WACX_APP_ID', SEED.app.id],
          ['WACX_APP_SECRET', core.appSecret],
          ['WACX_BUSINESS_ID', SEED.businessId],
          ['WACX_WABA_ID', SEED.waba.id],
          ['WACX_PHONE_NUMBER_ID', SEED.phoneNumbers.coex.id],
          ['WACX_CONFIG_ID', SEED.configId],
        ].map(([k, v]) => `export ${k}='${String(v).replace(/'/g, `'\\''`)}'`);
        return { text: `${lines.join('\n')}\n` };
      }
      case 'fields':
        return { json: ALL_WEBHOOK_FIELDS };
      default:
        return bad(`unknown control path ${req.pathname}`, 404);
    }
  } catch (error) {
    if (error instanceof ScenarioError) return bad(error.message);
    throw error;
  }
}
