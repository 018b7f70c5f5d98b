/**
 * Meta Business Agent (meta-cloud-api.md §15.5): while Meta's agent holds a conversation, the user's messages, the
 * agent's replies and their receipts arrive on the webhook field `standby`, and control changes on
 * `messaging_handovers`. Without those subscriptions nothing errors: the conversations silently stop reaching wacx.
 */
import type { Db } from '../../store/store.js';
import { ago, plural } from '../format.js';
import type { AgentFacts, CheckDefinition } from '../types.js';
import { fail, pass, skip } from './common.js';

export const AGENT_FIELDS = ['standby', 'messaging_handovers'] as const;

/** What the webhook store has seen of Meta Business Agent: its events, and the last `standby` one. */
export function agentFacts(db: Db): AgentFacts {
  const rows = db
    .prepare(
      `SELECT field, COUNT(*) AS n, MAX(received_at) AS last FROM webhook_events
       WHERE field IN ('standby', 'messaging_handovers') GROUP BY field`,
    )
    .all() as { field: string; n: number; last: number | null }[];
  const standby = rows.find((r) => r.field === 'standby');
  const handovers = rows.find((r) => r.field === 'messaging_handovers');
  return {
    standbyEvents: standby?.n ?? 0,
    handoverEvents: handovers?.n ?? 0,
    lastStandbyAt: standby?.last ?? null,
  };
}

const LOST =
  "while Meta's agent holds a conversation, the user's messages, the agent's replies and their delivery receipts arrive only on standby (control changes on messaging_handovers): without the subscription they never reach wacx, and nothing reports an error";

export const STANDBY_CHECKS: readonly CheckDefinition[] = [
  {
    id: 'waba.standby',
    group: 'WABA',
    title: 'Meta Business Agent webhooks',
    run(f) {
      const subs = f.appSubscriptions;
      if (subs.state === 'skipped') return skip(subs.reason, subs.fix);
      if (subs.state === 'error')
        return skip("the app's webhook fields could not be read (see waba.webhook_fields)");
      const waba = subs.value.find((s) => s.object === 'whatsapp_business_account');
      const names = new Set((waba?.fields ?? []).map((x) => x.name));
      const missing = AGENT_FIELDS.filter((x) => !names.has(x));
      const agent = f.agent?.state === 'ok' ? f.agent.value : null;
      const seen = agent ? agent.standbyEvents + agent.handoverEvents : 0;
      const last = agent?.lastStandbyAt ? `, last standby event ${ago(f.now, agent.lastStandbyAt)}` : '';
      if (missing.length === 0) return pass(`standby and messaging_handovers subscribed${last}`);
      const app = f.config.appId.value ?? '{app-id}';
      const fix = `Subscribe the app to ${missing.join(' and ')}: POST /${app}/subscriptions with object=whatsapp_business_account and fields=${AGENT_FIELDS.join(',')} (these fields are listed under Messenger Platform, not in WhatsApp's own field list).`;
      if (seen > 0) {
        return fail(
          `Meta Business Agent answers on this number (${plural(seen, 'agent event')} stored${last}) but the app is not subscribed to ${missing.join(' or ')}: ${LOST}`,
          fix,
        );
      }
      return pass(
        `not subscribed to ${missing.join(' or ')}; no Meta Business Agent activity seen. Before turning the agent on, subscribe them: ${LOST}`,
      );
    },
  },
];
