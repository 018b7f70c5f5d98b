/**
 * Scenarios: named situations applied at start (`--scenario name[:k=v,…]`) or at any time through
 * `POST /__sandbox/scenario {name, …params}`.
 */
import { accountEvent, identityChangeValue } from './activity.js';
import type { SandboxCore } from './core.js';
import { pauseTemplate } from './routes-messages.js';
import { parseScenarioSpec, SCENARIOS, ScenarioError } from './scenario-spec.js';
import { SEED } from './seed.js';

export { parseScenarioSpec, SCENARIOS, ScenarioError };

function num(v: unknown, dflt: number, name: string): number {
  if (v === undefined || v === null || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ScenarioError(`${name} must be a number, got "${String(v)}"`);
  return n;
}

function rate(v: unknown, name: string): number {
  const n = num(v, 0, name);
  if (n < 0 || n > 1) throw new ScenarioError(`${name} must be between 0 and 1, got ${n}`);
  return n;
}

function numberParam(core: SandboxCore, params: Record<string, unknown>) {
  const id = String(params.phone_number_id ?? SEED.phoneNumbers.coex.id);
  const n = core.world.numbers.get(id);
  if (!n) throw new ScenarioError(`unknown phone_number_id ${id}`);
  return n;
}

export function applyScenario(
  core: SandboxCore,
  name: string,
  params: Record<string, unknown> = {},
): Record<string, unknown> {
  const w = core.world;
  const s = core.scenarios;
  let result: Record<string, unknown> = {};
  switch (name) {
    case 'none':
      w.bsuid = { enabled: false, parents: false, emptyPhones: false };
      s.historyDeclined = false;
      s.signupDeclined = false;
      s.faults = { errorRate: 0, resetRate: 0, latencyMs: 0, path: null, resetMode: 'after' };
      core.webhooks.config.duplicateRate = 0;
      for (const n of w.numbers.values()) {
        n.enforcedMps = null;
        n.stormUntil = 0;
      }
      break;
    case 'bsuid':
      // BSUID mode: BSUIDs in every webhook field Meta sends them; users with a username have their phone withheld
      w.bsuid = {
        enabled: params.enabled !== false,
        parents: params.parents === true,
        emptyPhones: params.empty_phones === true,
      };
      result = {
        ...w.bsuid,
        users: w.users.map((u) => ({
          user_id: u.userId,
          username: u.username,
          phone_shared: w.phoneShared(u),
        })),
      };
      break;
    case 'user_changed_number':
    case 'user_changed_user_id': {
      const n = numberParam(core, params);
      const key = params.user ?? params.value ?? 0;
      const u = typeof key === 'number' || typeof key === 'string' ? w.user(key) : undefined;
      if (!u)
        throw new ScenarioError(`unknown user ${JSON.stringify(key)} (a phone, BSUID, username or index)`);
      const phone = params.new_phone === undefined ? null : String(params.new_phone).replace(/\D/g, '');
      if (phone !== null && (!phone || w.user(phone)))
        throw new ScenarioError(
          `new_phone must be a phone number no other user has, got "${String(params.new_phone)}"`,
        );
      const previous = { phone: u.phone, user_id: u.userId };
      const value = identityChangeValue(core, n, u, name, phone, core.clock.now());
      core.emit('messages', value, { phoneNumberId: n.id });
      result = { previous, phone: u.phone, user_id: u.userId, phone_shared: w.phoneShared(u) };
      break;
    }
    case 'history_declined':
      s.historyDeclined = params.enabled !== false;
      break;
    case 'signup_declined':
      s.signupDeclined = params.enabled !== false;
      break;
    case 'primary_inactivity':
    case 'partner_removed': {
      const n = numberParam(core, params);
      const reason =
        name === 'primary_inactivity'
          ? 'PRIMARY_INACTIVITY'
          : String(params.reason ?? 'ACCOUNT_DISCONNECTED');
      const initiatedBy = String(
        params.initiated_by ??
          (reason === 'PRIMARY_INACTIVITY' || reason === 'COMPANION_INACTIVITY' ? 'SYSTEM' : 'USER'),
      );
      n.offboarded = true;
      n.status = 'DISCONNECTED';
      n.platformType = 'NOT_APPLICABLE';
      accountEvent(core, {
        phone_number: n.e164,
        event: 'PARTNER_REMOVED',
        disconnection_info: { reason, initiated_by: initiatedBy },
      });
      result = { phone_number_id: n.id, reason, initiated_by: initiatedBy };
      break;
    }
    case 'device_change': {
      const n = numberParam(core, params);
      const after = num(params.reconnect_after_ms, 10_000, 'reconnect_after_ms');
      n.offboarded = true;
      accountEvent(core, { event: 'ACCOUNT_OFFBOARDED' });
      if (params.reconnect !== false) {
        core.scheduler.after(after, () => {
          n.offboarded = false;
          accountEvent(core, { event: 'ACCOUNT_RECONNECTED' });
        });
      }
      result = {
        phone_number_id: n.id,
        reconnect_at: params.reconnect === false ? null : core.clock.now() + after,
      };
      break;
    }
    case 'token_revoked': {
      const which = String(params.token ?? SEED.token);
      const revoked: string[] = [];
      for (const t of w.tokens.values()) {
        if (which === 'all' || t.token === which) {
          t.revoked = true;
          revoked.push(`${t.token.slice(0, 8)}…`);
        }
      }
      if (revoked.length === 0) throw new ScenarioError('no such token');
      result = { revoked: revoked.length };
      break;
    }
    case 'template_paused': {
      const tname = params.name ?? params.template ?? params.template_name ?? params.value;
      if (typeof tname !== 'string' || !tname) throw new ScenarioError('template_paused needs {name}');
      const targets = [...w.templates.values()].filter(
        (t) => t.name === tname && (params.language === undefined || t.language === params.language),
      );
      if (targets.length === 0) throw new ScenarioError(`no template named ${tname}`);
      const after = num(params.after_sends, 0, 'after_sends');
      for (const t of targets) {
        if (after > 0) t.pauseAfter = after;
        else pauseTemplate(core, t);
      }
      result = { templates: targets.map((t) => t.id), after_sends: after };
      break;
    }
    case 'faults': {
      const mode = params.reset_mode ?? 'after';
      if (mode !== 'after' && mode !== 'before')
        throw new ScenarioError(`reset_mode must be after or before, got "${String(mode)}"`);
      s.faults = {
        errorRate: rate(params.error_rate, 'error_rate'),
        resetRate: rate(params.reset_rate, 'reset_rate'),
        latencyMs: num(params.latency_ms, 0, 'latency_ms'),
        path: typeof params.path === 'string' && params.path ? params.path : null,
        resetMode: mode,
      };
      result = { ...s.faults };
      break;
    }
    case 'app_unsubscribed':
      w.subscribedApps.delete(SEED.app.id);
      break;
    case 'missing_webhook_fields': {
      const drop = Array.isArray(params.fields)
        ? params.fields.map(String)
        : typeof params.fields === 'string'
          ? params.fields.split(/[,\s]+/)
          : ['history', 'smb_app_state_sync', 'smb_message_echoes'];
      if (w.appSubscription)
        w.appSubscription.fields = w.appSubscription.fields.filter((f) => !drop.includes(f));
      result = { removed: drop, fields: w.appSubscription?.fields ?? [] };
      break;
    }
    case 'webhook_duplicates':
      core.webhooks.config.duplicateRate = params.rate === undefined ? 1 : rate(params.rate, 'rate');
      result = { rate: core.webhooks.config.duplicateRate };
      break;
    case 'throttling': {
      // the API enforces less than the number advertises (enforced_mps), and/or refuses every send with 130429
      // for storm_ms; on one number (phone_number_id) or every number
      const targets =
        params.phone_number_id === undefined ? [...w.numbers.values()] : [numberParam(core, params)];
      const enforced =
        params.enforced_mps === undefined || params.enforced_mps === null || params.enforced_mps === ''
          ? undefined
          : num(params.enforced_mps, 0, 'enforced_mps');
      if (enforced !== undefined && !(enforced > 0))
        throw new ScenarioError(`enforced_mps must be a positive number, got ${enforced}`);
      const storm = num(params.storm_ms, 0, 'storm_ms');
      if (storm < 0) throw new ScenarioError(`storm_ms must be 0 or more, got ${storm}`);
      for (const n of targets) {
        if (enforced !== undefined) n.enforcedMps = enforced;
        if (storm > 0) n.stormUntil = core.clock.now() + storm;
      }
      result = {
        numbers: targets.map((n) => ({
          id: n.id,
          mps: n.mps,
          enforced_mps: n.enforcedMps ?? n.mps,
          throttle_storm_until: n.stormUntil > core.clock.now() ? n.stormUntil : null,
        })),
      };
      break;
    }
    default:
      throw new ScenarioError(`unknown scenario "${name}" (known: ${SCENARIOS.join(', ')})`);
  }
  s.applied.push({ name, params, at: core.clock.now() });
  core.log(`scenario ${name} applied`);
  return { scenario: name, applied: true, ...result };
}
