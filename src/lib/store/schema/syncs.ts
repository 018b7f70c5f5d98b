import type { Migration } from '../index.js';

export const SYNC_MIGRATIONS: readonly Migration[] = [];
