import { isMissingSchema } from '../store/database.js';
import type { Db } from '../store/store.js';

/** Readers of the people in the store (see ./store.ts). Safe on a store without those tables: they read as empty. */

/** A reader's answer, or `fallback` when the store has no identity tables (a store migrated by an older wacx). */
function orEmpty<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch (error) {
    if (isMissingSchema(error)) return fallback;
    throw error;
  }
}

export interface KnownIdentity {
  /** The person's latest BSUID, when one was seen. */
  userId: string | null;
  parentUserId: string | null;
  /** The person has been named in payloads without a phone (a username user whose phone Meta withholds). */
  bsuidOnly: boolean;
}

/**
 * What the store knows of the person behind a phone (E.164, with or without '+'): null when it never saw that
 * phone.
 */
export function knownIdentityForPhone(db: Db, e164: string): KnownIdentity | null {
  const key = e164.replace(/\D/g, '');
  if (!key) return null;
  return orEmpty(() => {
    const row = db
      .prepare(
        `SELECT i.user_id AS userId, i.parent_user_id AS parentUserId, i.phoneless_at AS phonelessAt
         FROM identity_keys k JOIN identities i ON i.id = k.identity_id WHERE k.key = ?`,
      )
      .get(key) as
      | { userId: string | null; parentUserId: string | null; phonelessAt: number | null }
      | undefined;
    if (!row) return null;
    return { userId: row.userId, parentUserId: row.parentUserId, bsuidOnly: row.phonelessAt !== null };
  }, null);
}

export interface PeopleCounts {
  /** Distinct people the store knows (linked keys count once). */
  known: number;
  /** People with a current phone. */
  withPhone: number;
  /** People known only by a BSUID (or parent BSUID): no current phone. */
  bsuidOnly: number;
  /** People named at least once without a phone (Meta withheld it), whether or not a phone is known. */
  phoneWithheld: number;
  withUsername: number;
  /** Identity changes received (user_changed_number, user_changed_user_id) and the last one. */
  identityChanges: number;
  lastIdentityChange: { type: string; at: number } | null;
}

const NO_PEOPLE: PeopleCounts = {
  known: 0,
  withPhone: 0,
  bsuidOnly: 0,
  phoneWithheld: 0,
  withUsername: 0,
  identityChanges: 0,
  lastIdentityChange: null,
};

/** How many people the store knows, and how many of them only by a BSUID. */
export function peopleCounts(db: Db): PeopleCounts {
  return orEmpty(() => {
    const c = db
      .prepare(
        `SELECT COUNT(*) AS known,
           COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM identity_keys k
             WHERE k.identity_id = i.id AND k.kind = 'phone' AND k.retired = 0) THEN 1 ELSE 0 END), 0) AS withPhone,
           COALESCE(SUM(CASE WHEN i.phoneless_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS phoneWithheld,
           COALESCE(SUM(CASE WHEN i.username IS NOT NULL THEN 1 ELSE 0 END), 0) AS withUsername
         FROM identities i WHERE i.merged_into IS NULL`,
      )
      .get() as { known: number; withPhone: number; phoneWithheld: number; withUsername: number };
    const changes = db.prepare('SELECT COUNT(*) AS n FROM identity_changes').get() as { n: number };
    const last =
      changes.n > 0
        ? (db.prepare('SELECT type, at FROM identity_changes ORDER BY at DESC, id DESC LIMIT 1').get() as {
            type: string;
            at: number;
          })
        : null;
    return {
      known: c.known,
      withPhone: c.withPhone,
      bsuidOnly: c.known - c.withPhone,
      phoneWithheld: c.phoneWithheld,
      withUsername: c.withUsername,
      identityChanges: changes.n,
      lastIdentityChange: last,
    };
  }, NO_PEOPLE);
}

/** Every key (phones, BSUIDs, parent BSUIDs, retired ones included) of the person known by `key`. */
export function keysOfPerson(db: Db, key: string): string[] {
  return orEmpty(
    () =>
      (
        db
          .prepare(
            `SELECT k.key FROM identity_keys k
             WHERE k.identity_id = (SELECT identity_id FROM identity_keys WHERE key = ?) ORDER BY k.key`,
          )
          .all(key) as { key: string }[]
      ).map((r) => r.key),
    [],
  );
}
