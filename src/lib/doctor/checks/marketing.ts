/**
 * Marketing Messages API (meta-cloud-api.md §15.3): whether the WABA is onboarded to `/marketing_messages`, and
 * whether MARKETING templates on `/messages` are blocked (`disable_marketing_messages_on_cloud_api`, error 131063).
 * The onboarding status's exact values are not documented: the raw value is shown.
 */
import type { CheckDefinition, MarketingFacts } from '../types.js';
import { describeError, fail, pass, skip, unavailable } from './common.js';

/** Values that mean onboarding is complete (the same reading as `send --api auto`). */
const ONBOARDED = new Set(['ONBOARDED', 'COMPLETE', 'COMPLETED', 'APPROVED', 'ACTIVE']);

export function isOnboarded(m: MarketingFacts): boolean {
  return m.onboardingStatus !== null && ONBOARDED.has(m.onboardingStatus.toUpperCase());
}

export const MARKETING_CHECKS: readonly CheckDefinition[] = [
  {
    id: 'waba.marketing_messages',
    group: 'WABA',
    title: 'Marketing Messages API',
    run(f) {
      const g = f.marketing;
      if (!g) return skip('not gathered');
      if (g.state === 'skipped') return unavailable(g, 'the WABA', 'waba.reachable');
      if (g.state === 'error')
        return skip(
          `the WABA's Marketing Messages API fields could not be read: ${describeError(g.error)}`,
          'Run `wacx doctor --verbose` to see the request; older API versions may not know these fields.',
        );
      const m = g.value;
      const onboarded = isOnboarded(m);
      const status = `marketing_messages_onboarding_status ${m.onboardingStatus ?? 'not reported'}`;
      const waba = f.config.wabaId.value ?? '{waba-id}';
      if (m.blockedOnMessages === true && !onboarded) {
        return fail(
          `marketing on /messages is blocked (disable_marketing_messages_on_cloud_api true: error 131063) and the WABA is not onboarded to the Marketing Messages API (${status}): MARKETING templates cannot be sent at all until onboarding completes`,
          `Onboard the WABA to the Marketing Messages API (WhatsApp Manager), then send MARKETING templates with \`--api marketing\`; or allow them on /messages again: POST /${waba} {"disable_marketing_messages_on_cloud_api":false}.`,
        );
      }
      if (m.blockedOnMessages === true) {
        return pass(
          `onboarded (${status}); marketing on /messages is blocked (131063): MARKETING templates go only through the Marketing Messages API, with \`--api marketing\` (or \`--api auto\`)`,
        );
      }
      const messages =
        m.blockedOnMessages === null
          ? 'whether marketing on /messages is blocked was not reported (a 131063 answer means it is)'
          : 'marketing on /messages is allowed';
      if (onboarded) {
        return pass(
          `onboarded (${status}), ${messages}: \`--api auto\` sends MARKETING templates through the Marketing Messages API, \`--api marketing\` forces it`,
        );
      }
      return pass(
        `not onboarded to the Marketing Messages API (${status}), ${messages}: MARKETING templates go through /messages; onboard in WhatsApp Manager to use \`--api marketing\``,
      );
    },
  },
];
