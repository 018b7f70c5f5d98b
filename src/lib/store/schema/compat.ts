import type { Migration } from '../store.js';

/**
 * SQLite functions wacx's queries use, for PostgreSQL (id 1; nothing to do on SQLite, where they are built in).
 * `json_extract(text, '$.a.b')` returns the value as text (wacx compares it with text only).
 */
export const COMPAT_MIGRATIONS: readonly Migration[] = [
  {
    id: 1,
    name: "SQLite's instr and json_extract on PostgreSQL",
    up: '',
    postgres: `
      CREATE OR REPLACE FUNCTION instr(haystack text, needle text) RETURNS bigint
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS 'SELECT strpos(haystack, needle)';
      CREATE OR REPLACE FUNCTION json_extract(doc text, path text) RETURNS text
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS 'SELECT CASE WHEN doc IS NULL OR doc = '''' THEN NULL
                        ELSE doc::jsonb #>> string_to_array(substr(path, 3), ''.'') END';
    `,
  },
];
