import { WacxError } from '../errors.js';
import type { Graph } from '../graph/graph.js';

/** App-level webhook fields coexistence needs before the one-shot syncs (meta-cloud-api.md §1.5 step 4, §8.5). */
export const REQUIRED_WEBHOOK_FIELDS = [
  'history',
  'smb_app_state_sync',
  'smb_message_echoes',
  'account_update',
] as const;

export interface WebhookFieldsReport {
  object: string | null;
  callbackUrl: string | null;
  active: boolean | null;
  fields: string[];
  missing: string[];
}

/** Reads `GET /{app-id}/subscriptions` (app token) and lists the required fields that are missing. */
export async function checkWebhookFields(
  graph: Graph,
  appId: string,
  appToken: string,
): Promise<WebhookFieldsReport> {
  const subs = await graph.appSubscriptions.list(appId, appToken);
  const waba = subs.find((s) => s.object === 'whatsapp_business_account');
  const fields = (waba?.fields ?? []).map((f) => f.name);
  return {
    object: waba?.object ?? null,
    callbackUrl: waba?.callback_url ?? null,
    active: waba?.active ?? null,
    fields,
    missing: REQUIRED_WEBHOOK_FIELDS.filter((f) => !fields.includes(f)),
  };
}

/** The exact fix, both ways: the App Dashboard path and the Graph call (the secret stays a placeholder). */
export function webhookFieldsFix(p: {
  appId: string;
  missing: string[];
  present: string[];
  callbackUrl: string | null;
  graphUrl: string;
  apiVersion: string;
}): string[] {
  const fields = [...new Set([...p.present, 'messages', ...REQUIRED_WEBHOOK_FIELDS])];
  return [
    `Missing webhook field${p.missing.length === 1 ? '' : 's'}: ${p.missing.join(', ')}.`,
    'Fix it in the App Dashboard: your app › WhatsApp › Configuration › Webhook fields › Manage,',
    `  and subscribe ${p.missing.join(', ')}.`,
    'Or with the Graph API (app token APP_ID|APP_SECRET; this replaces the field list):',
    `  curl -X POST '${p.graphUrl.replace(/\/+$/, '')}/${p.apiVersion}/${p.appId}/subscriptions' \\`,
    `    -d object=whatsapp_business_account -d callback_url='${p.callbackUrl ?? 'https://YOUR-HOST/webhook'}' \\`,
    `    -d verify_token=YOUR_VERIFY_TOKEN -d fields=${fields.join(',')} \\`,
    `    -d access_token="${p.appId}|$WACX_APP_SECRET"`,
    'Then run `wacx onboard` again: it resumes at this check, before the one-shot syncs.',
  ];
}

export class WebhookFieldsError extends WacxError {
  readonly missing: string[];
  readonly fix: string[];
  constructor(missing: string[], fix: string[]) {
    super(
      `The app's webhook subscription lacks ${missing.join(', ')}: the history and contact syncs would be lost, so wacx stopped before requesting them.`,
      {
        hint: 'Subscribe the fields (App Dashboard › WhatsApp › Configuration, or POST /{app-id}/subscriptions), then run `wacx onboard` again.',
      },
    );
    this.missing = missing;
    this.fix = fix;
  }
}
