/** Scenario names and the `name:k=v,…` grammar: what the CLI checks and lists without loading the sandbox. */
export const SCENARIOS = [
  'none',
  'history_declined',
  'signup_declined',
  'primary_inactivity',
  'partner_removed',
  'device_change',
  'token_revoked',
  'template_paused',
  'faults',
  'app_unsubscribed',
  'missing_webhook_fields',
  'webhook_duplicates',
  'throttling',
  'bsuid',
  'user_changed_number',
  'user_changed_user_id',
] as const;

export class ScenarioError extends Error {}

/** `name`, `name:value` (the main parameter) or `name:k=v,k=v`. */
export function parseScenarioSpec(spec: string): { name: string; params: Record<string, unknown> } {
  const i = spec.indexOf(':');
  if (i === -1) return { name: spec.trim(), params: {} };
  const name = spec.slice(0, i).trim();
  const rest = spec.slice(i + 1).trim();
  const params: Record<string, unknown> = {};
  if (!rest.includes('=')) {
    params[MAIN_PARAM[name] ?? 'value'] = rest;
    return { name, params };
  }
  for (const part of rest.split(',')) {
    const [k, ...v] = part.split('=');
    if (!k?.trim()) continue;
    const raw = v.join('=').trim();
    const num = Number(raw);
    params[k.trim()] =
      raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(num) ? num : raw;
  }
  return { name, params };
}

const MAIN_PARAM: Record<string, string> = {
  template_paused: 'name',
  token_revoked: 'token',
  primary_inactivity: 'phone_number_id',
  device_change: 'phone_number_id',
  partner_removed: 'reason',
  webhook_duplicates: 'rate',
  throttling: 'enforced_mps',
  user_changed_number: 'user',
  user_changed_user_id: 'user',
};
