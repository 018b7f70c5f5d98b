import type { Migration } from './index.js';
import { CAMPAIGN_MIGRATIONS } from './schema/campaigns.js';
import { EVENT_MIGRATIONS } from './schema/events.js';
import { SYNC_MIGRATIONS } from './schema/syncs.js';

/**
 * All migrations. Each domain owns an id range so that they never collide:
 *   100–199 webhook events (webhooks, history status, doctor)
 *   200–299 coexistence sync requests (onboarding, history sync)
 *   300–399 campaigns ledger (send)
 */
export const MIGRATIONS: readonly Migration[] = [...EVENT_MIGRATIONS, ...SYNC_MIGRATIONS, ...CAMPAIGN_MIGRATIONS];
