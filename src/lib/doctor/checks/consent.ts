/**
 * Compliance (issue #20): marketing messages need the recipient's opt-in. The check reads the campaign ledger and
 * the consent register and warns about marketing campaigns that reached recipients with no opt-in recorded before
 * the send (`wacx send --require-consent` prevents it).
 */
import type { Db } from '../../store/store.js';
import { plural } from '../format.js';
import type { CheckDefinition, ConsentFacts } from '../types.js';
import { pass, skip, warn } from './common.js';

/** The marketing campaigns (by their template snapshot) with sent rows whose recipient had no marketing opt-in. */
export function consentFacts(db: Db): ConsentFacts {
  const rows = db
    .prepare(
      `SELECT c.id AS id, COUNT(*) AS recipients
       FROM campaigns c JOIN campaign_rows r ON r.cid = c.cid
       WHERE upper(json_extract(c.template_json, '$.category')) = 'MARKETING' AND r.state = 'sent'
         AND NOT EXISTS (SELECT 1 FROM consent_events e
                         WHERE e.subject = r.recipient AND e.action = 'grant'
                           AND e.scope IN ('marketing', 'all') AND e.at <= r.updated_at)
       GROUP BY c.cid ORDER BY c.cid`,
    )
    .all() as { id: string; recipients: number }[];
  return { campaigns: rows };
}

export const CONSENT_CHECKS: readonly CheckDefinition[] = [
  {
    id: 'sync.consent',
    group: 'Sync health',
    title: 'Marketing opt-ins',
    run(f) {
      const c = f.consent;
      if (!c) return skip('the consent register was not read');
      if (c.state === 'skipped') return skip(c.reason, c.fix);
      if (c.state === 'error') return skip(`the campaign ledger could not be read: ${c.error.message}`);
      const total = c.value.campaigns.reduce((n, x) => n + x.recipients, 0);
      if (total === 0)
        return pass('every marketing message in the ledger went to a recipient with a recorded opt-in');
      const list = c.value.campaigns
        .slice(0, 5)
        .map((x) => `${x.id} (${x.recipients})`)
        .join(', ');
      return warn(
        `${plural(total, 'marketing message')} went to recipients without a recorded opt-in: ${list}${c.value.campaigns.length > 5 ? ', …' : ''}`,
        'Record the opt-ins you hold with `wacx consent import FILE`, and send marketing campaigns with --require-consent.',
      );
    },
  },
];
