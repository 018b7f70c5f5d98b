import type { Migration } from '../index.js';

export const CAMPAIGN_MIGRATIONS: readonly Migration[] = [];
