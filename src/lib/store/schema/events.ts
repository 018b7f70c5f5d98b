import type { Migration } from '../index.js';

export const EVENT_MIGRATIONS: readonly Migration[] = [];
