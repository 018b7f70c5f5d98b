import { AUDIT_MIGRATIONS } from './schema/audit.js';
import { CAMPAIGN_MIGRATIONS } from './schema/campaigns.js';
import { COMPAT_MIGRATIONS } from './schema/compat.js';
import { CONSENT_MIGRATIONS } from './schema/consent.js';
import { EVENT_MIGRATIONS } from './schema/events.js';
import { ONBOARDING_MIGRATIONS } from './schema/onboarding.js';
import { REPORT_MIGRATIONS } from './schema/report.js';
import { SYNC_MIGRATIONS } from './schema/syncs.js';
import { TEMPLATE_MIGRATIONS } from './schema/templates.js';
import type { Migration } from './store.js';

/**
 * All migrations. Each domain owns an id range so that they never collide:
 *   1–99    the store itself (PostgreSQL's SQLite-compatible functions)
 *   100–199 webhook events (webhooks, history status, doctor)
 *   200–299 coexistence sync requests (onboarding, history sync)
 *   300–399 campaigns ledger (send)
 *   400–499 template edit and deletion history (templates plan/push)
 *   500–599 onboarding progress (onboard)
 *   700–799 report indexes (report)
 *   800–899 audit trail (audit)
 *   900–999 consent register (consent)
 */
export const MIGRATIONS: readonly Migration[] = [
  ...COMPAT_MIGRATIONS,
  ...EVENT_MIGRATIONS,
  ...SYNC_MIGRATIONS,
  ...CAMPAIGN_MIGRATIONS,
  ...TEMPLATE_MIGRATIONS,
  ...ONBOARDING_MIGRATIONS,
  ...REPORT_MIGRATIONS,
  ...AUDIT_MIGRATIONS,
  ...CONSENT_MIGRATIONS,
];
