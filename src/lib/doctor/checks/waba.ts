import type { CheckDefinition, DoctorFacts } from '../types.js';
import { describeError, fail, fixForError, pass, skip, unavailable, warn } from './common.js';

/** Webhook fields a coexistence app must receive (meta-cloud-api.md §1.5, §2.1, §8.5). */
export const REQUIRED_WEBHOOK_FIELDS = [
  'history',
  'smb_app_state_sync',
  'smb_message_echoes',
  'account_update',
  'messages',
] as const;

/** WABAs the token covers, from debug_token's granular scopes (to suggest a WABA id). */
function tokenWabas(f: DoctorFacts): string[] {
  if (f.token.state !== 'ok') return [];
  const entry = f.token.value.debug.granular_scopes?.find((g) => g.scope === 'whatsapp_business_management');
  return entry?.target_ids ?? [];
}

/** Our app id: the profile's, else the token's. */
export function ourAppId(f: DoctorFacts): string | null {
  if (f.config.appId.value) return f.config.appId.value;
  if (f.token.state === 'ok' && f.token.value.debug.app_id) return f.token.value.debug.app_id;
  return null;
}

export const WABA_CHECKS: CheckDefinition[] = [
  {
    id: 'waba.reachable',
    group: 'WABA',
    title: 'WABA reachable',
    run(f) {
      const id = f.config.wabaId.value;
      if (!id) {
        const known = tokenWabas(f);
        return fail(
          'no WABA id configured',
          known.length
            ? `The token covers WABA ${known.join(', ')}: \`wacx config set wabaId ${known[0]}\`.`
            : 'Set it with `wacx config set wabaId ID` (or WACX_WABA_ID), or run `wacx onboard`.',
        );
      }
      if (f.waba.state === 'skipped') return skip(f.waba.reason, f.waba.fix);
      if (f.waba.state === 'error') {
        const e = f.waba.error;
        if (e.network) return skip(`API unreachable: ${e.message}`);
        return fail(
          `cannot read WABA ${id}: ${describeError(e)}`,
          fixForError(e, 'WABA', '`wacx config get wabaId`.'),
        );
      }
      const w = f.waba.value.node;
      const review = w.account_review_status ? `, account review ${w.account_review_status}` : '';
      if (w.account_review_status === 'REJECTED') {
        return fail(
          `${w.name ?? id} (${id})${review}`,
          'The WABA failed account review: see WhatsApp Manager › Account overview and request a review.',
        );
      }
      return pass(`${w.name ?? id} (${id})${review}`);
    },
  },
  {
    id: 'waba.subscribed',
    group: 'WABA',
    title: 'App subscribed to the WABA',
    run(f) {
      const waba = f.config.wabaId.value;
      if (!waba) return skip('no WABA id configured (see waba.reachable)');
      if (f.waba.state === 'error') return unavailable(f.waba, 'the WABA', 'waba.reachable');
      if (f.subscribedApps.state === 'skipped') return skip(f.subscribedApps.reason, f.subscribedApps.fix);
      if (f.subscribedApps.state === 'error') {
        const e = f.subscribedApps.error;
        if (e.network) return skip(`API unreachable: ${e.message}`);
        return fail(
          `cannot read the WABA's subscribed apps: ${describeError(e)}`,
          fixForError(e, 'WABA', ''),
        );
      }
      const apps = f.subscribedApps.value;
      const subscribeFix = `Subscribe the app to WABA ${waba}'s webhooks (POST /${waba}/subscribed_apps with the business token; \`wacx onboard\` does this step).`;
      const names = apps.map(
        (a) => `${a.whatsapp_business_api_data.name ?? '?'} (${a.whatsapp_business_api_data.id})`,
      );
      if (apps.length === 0)
        return fail('no app is subscribed to the WABA: no webhook will arrive', subscribeFix);
      const mine = ourAppId(f);
      if (!mine) {
        return warn(
          `subscribed: ${names.join(', ')}; cannot tell which one is this profile's app (no app id)`,
          'Set the app id: `wacx config set appId ID` (or WACX_APP_ID).',
        );
      }
      const found = apps.find((a) => a.whatsapp_business_api_data.id === mine);
      if (!found)
        return fail(`app ${mine} is not subscribed (subscribed: ${names.join(', ')})`, subscribeFix);
      const override = found.override_callback_uri
        ? `, callback override ${found.override_callback_uri}`
        : '';
      return pass(
        `app ${found.whatsapp_business_api_data.name ?? ''} (${mine}) is subscribed${override}`.replace(
          '  ',
          ' ',
        ),
      );
    },
  },
  {
    id: 'waba.webhook_fields',
    group: 'WABA',
    title: 'App webhook fields',
    run(f) {
      const subs = f.appSubscriptions;
      if (subs.state === 'skipped') return skip(subs.reason, subs.fix);
      const app = ourAppId(f) ?? '{app-id}';
      const fieldsFix = (missing: readonly string[]) =>
        `Subscribe ${missing.join(', ')} in App Dashboard › WhatsApp › Configuration › Webhook fields (or POST /${app}/subscriptions with object=whatsapp_business_account and fields=${REQUIRED_WEBHOOK_FIELDS.join(',')}).`;
      if (subs.state === 'error') {
        const e = subs.error;
        if (e.network) return skip(`API unreachable: ${e.message}`);
        return fail(
          `cannot read the app's webhook subscriptions: ${describeError(e)}`,
          e.code === 190 || e.code === 102 || e.code === 101
            ? 'The app token APP_ID|APP_SECRET was refused: check appId and WACX_APP_SECRET.'
            : fixForError(e, 'app', '`wacx config get appId`.'),
        );
      }
      const waba = subs.value.find((s) => s.object === 'whatsapp_business_account');
      if (!waba) {
        return fail(
          'the app has no webhook subscription for whatsapp_business_account',
          fieldsFix(REQUIRED_WEBHOOK_FIELDS),
        );
      }
      const names = new Set((waba.fields ?? []).map((x) => x.name));
      const missing = REQUIRED_WEBHOOK_FIELDS.filter((x) => !names.has(x));
      if (waba.active === false) {
        return fail(
          `the app's whatsapp_business_account subscription is inactive${waba.callback_url ? ` (${waba.callback_url})` : ''}`,
          'Re-verify the callback URL in App Dashboard › WhatsApp › Configuration (Meta deactivates endpoints that keep failing).',
        );
      }
      if (missing.length) return fail(`missing ${missing.join(', ')}`, fieldsFix(missing));
      return pass(
        `${REQUIRED_WEBHOOK_FIELDS.join(', ')} subscribed${waba.callback_url ? `, callback ${waba.callback_url}` : ''}`,
      );
    },
  },
  {
    id: 'waba.rate_usage',
    group: 'WABA',
    title: 'Management API rate usage',
    run(f) {
      if (!f.config.wabaId.value) return skip('no WABA id configured (see waba.reachable)');
      if (f.waba.state !== 'ok') return unavailable(f.waba, 'the WABA', 'waba.reachable');
      const usage = f.waba.value.usage;
      if (!usage || usage.length === 0) return skip('the API sent no X-Business-Use-Case-Usage header');
      const blocked = usage.filter((u) => u.estimatedTimeToRegainAccess > 0);
      if (blocked.length) {
        const worst = Math.max(...blocked.map((u) => u.estimatedTimeToRegainAccess));
        return fail(
          `throttled (${blocked.map((u) => u.type).join(', ')}): access regained in about ${worst} min`,
          `Wait about ${worst} min and reduce management calls (loops over templates list/pull, repeated doctor runs).`,
        );
      }
      const top = usage.reduce((a, b) =>
        Math.max(b.callCount, b.totalCputime, b.totalTime) >
        Math.max(a.callCount, a.totalCputime, a.totalTime)
          ? b
          : a,
      );
      const pct = Math.max(top.callCount, top.totalCputime, top.totalTime);
      const detail = `${pct}% of the hourly budget used (${top.type})`;
      if (pct >= 80)
        return warn(detail, 'Slow down management calls: Meta throttles at 100% (codes 4 and 80007).');
      return pass(detail);
    },
  },
];
