import type { Db } from '../store/store.js';
import type { Sighting } from './sighting.js';

/**
 * People in the store (tables of migration 114, src/lib/store/schema/events.ts). A person is known by a phone, a
 * BSUID, a parent BSUID and a username, any of them possibly missing; every payload that names someone is a
 * sighting, and a sighting that shows two keys together links them. Usernames are shown, never used as keys
 * (users change them).
 *
 * Linking errs on the side of one person: two people are folded into one whenever an event ties their keys,
 * so an opt-out reaches every key that may be the same person. One exception: a phone that was retired by a
 * number change and then shows up with the BSUID of someone else has been given to a new user, and moves to them.
 */

interface IdentityRow {
  id: number;
  phone: string | null;
  user_id: string | null;
  parent_user_id: string | null;
  username: string | null;
  first_seen_at: number | null;
  last_seen_at: number | null;
  phoneless_at: number | null;
}

interface KeyRow {
  id: number;
  retired: number;
}

/** How far last_seen_at (and phoneless_at) may lag behind the latest sighting. */
const LAST_SEEN_STEP_MS = 3_600_000;

const later = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.max(a, b));
const earlier = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));

type KeyKind = 'phone' | 'user_id' | 'parent_user_id';

/** Prepared statements of one connection; every step is a primary-key or index lookup. */
class Linker {
  private readonly keyOf;
  private readonly identity;
  private readonly create;
  private readonly update;
  private readonly putKey;
  private readonly moveKeys;
  private readonly retireKey;
  private readonly retirePhones;
  private readonly markMerged;

  constructor(db: Db) {
    this.keyOf = db.prepare('SELECT identity_id AS id, retired FROM identity_keys WHERE key = ?');
    this.identity = db.prepare(
      `SELECT id, phone, user_id, parent_user_id, username, first_seen_at, last_seen_at, phoneless_at
       FROM identities WHERE id = ?`,
    );
    this.create = db.prepare(
      `INSERT INTO identities (phone, user_id, parent_user_id, username, first_seen_at, last_seen_at, phoneless_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.update = db.prepare(
      `UPDATE identities SET phone = ?, user_id = ?, parent_user_id = ?, username = ?, first_seen_at = ?,
         last_seen_at = ?, phoneless_at = ? WHERE id = ?`,
    );
    this.putKey = db.prepare(
      `INSERT INTO identity_keys (key, kind, identity_id, retired, first_seen_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET identity_id = excluded.identity_id, retired = excluded.retired`,
    );
    this.moveKeys = db.prepare('UPDATE identity_keys SET identity_id = ? WHERE identity_id = ?');
    this.retireKey = db.prepare('UPDATE identity_keys SET retired = 1 WHERE key = ?');
    this.retirePhones = db.prepare(
      "UPDATE identity_keys SET retired = 1 WHERE identity_id = ? AND kind = 'phone' AND key IS DISTINCT FROM ?",
    );
    this.markMerged = db.prepare('UPDATE identities SET merged_into = ? WHERE id = ?');
  }

  /** Records a sighting (its time known); returns the person's identity id. */
  link(s: Sighting & { at: number }): number {
    const current: [string, KeyKind][] = [];
    if (s.phone) current.push([s.phone, 'phone']);
    if (s.userId) current.push([s.userId, 'user_id']);
    if (s.parentUserId) current.push([s.parentUserId, 'parent_user_id']);
    const previous: [string, KeyKind][] = [];
    const p = s.previous;
    const isCurrent = (k: string) => current.some(([c]) => c === k);
    if (p?.phone && !isCurrent(p.phone)) previous.push([p.phone, 'phone']);
    if (p?.userId && !isCurrent(p.userId)) previous.push([p.userId, 'user_id']);
    if (p?.parentUserId && !isCurrent(p.parentUserId)) previous.push([p.parentUserId, 'parent_user_id']);

    const found = new Map<string, KeyRow>();
    for (const [k] of [...current, ...previous]) {
      const row = this.keyOf.get(k) as KeyRow | undefined;
      if (row) found.set(k, row);
    }
    const bsuidOwner = [s.userId, s.parentUserId]
      .map((k) => (k ? found.get(k)?.id : undefined))
      .find((id) => id !== undefined);
    const hasBsuid = Boolean(s.userId || s.parentUserId);
    // A retired phone seen now with another person's (or a new) BSUID was given to someone else: it moves.
    const moved = (k: string, r: KeyRow) =>
      r.retired === 1 && isCurrent(k) && hasBsuid && r.id !== bsuidOwner;
    const ids = new Set<number>();
    for (const [k, r] of found) if (!moved(k, r)) ids.add(r.id);

    let target: IdentityRow;
    /** The row as stored, to write only what changed. */
    let stored: IdentityRow;
    if (ids.size === 0) {
      const id = Number(
        this.create.run(s.phone, s.userId, s.parentUserId, s.username, s.at, s.at, s.phoneless ? s.at : null)
          .lastInsertRowid,
      );
      target = {
        id,
        phone: s.phone,
        user_id: s.userId,
        parent_user_id: s.parentUserId,
        username: s.username,
        first_seen_at: s.at,
        last_seen_at: s.at,
        phoneless_at: s.phoneless ? s.at : null,
      };
      stored = target;
    } else {
      const [first, ...others] = [...ids].sort((a, b) => a - b);
      stored = this.identity.get(first) as IdentityRow;
      target = stored;
      for (const other of others) target = this.fold(target, this.identity.get(other) as IdentityRow);
    }

    for (const [k, kind] of current) {
      const r = found.get(k);
      if (!r || moved(k, r)) this.putKey.run(k, kind, target.id, 0, s.at);
    }
    for (const [k, kind] of previous) {
      const r = found.get(k);
      if (!r) this.putKey.run(k, kind, target.id, 1, s.at);
      else if (r.retired === 0) this.retireKey.run(k);
    }
    if (p?.phoneChanged) this.retirePhones.run(target.id, s.phone);

    const fresh = target.last_seen_at === null || s.at >= target.last_seen_at;
    // the latest values win; an older sighting only fills what is unknown
    const pick = (seen: string | null, known: string | null) => (seen && (fresh || !known) ? seen : known);
    // an identity change is authoritative, whenever it arrives: the previous phone and BSUIDs are no longer current
    const next: IdentityRow = {
      id: target.id,
      phone: p ? s.phone : pick(s.phone, target.phone),
      user_id: p
        ? (s.userId ?? (target.user_id === p.userId ? null : target.user_id))
        : pick(s.userId, target.user_id),
      parent_user_id: p
        ? (s.parentUserId ?? (target.parent_user_id === p.parentUserId ? null : target.parent_user_id))
        : pick(s.parentUserId, target.parent_user_id),
      username: pick(s.username, target.username),
      first_seen_at: earlier(target.first_seen_at, s.at),
      last_seen_at: later(target.last_seen_at, s.at),
      phoneless_at: s.phoneless ? later(target.phoneless_at, s.at) : target.phoneless_at,
    };
    if (
      next.phone !== stored.phone ||
      next.user_id !== stored.user_id ||
      next.parent_user_id !== stored.parent_user_id ||
      next.username !== stored.username ||
      next.first_seen_at !== stored.first_seen_at ||
      // times move on at most once an hour: a stream of statuses about one person does not rewrite their row
      (next.last_seen_at ?? 0) - (stored.last_seen_at ?? 0) > LAST_SEEN_STEP_MS ||
      (next.phoneless_at ?? 0) - (stored.phoneless_at ?? 0) > LAST_SEEN_STEP_MS ||
      (next.phoneless_at === null) !== (stored.phoneless_at === null)
    ) {
      this.update.run(
        next.phone,
        next.user_id,
        next.parent_user_id,
        next.username,
        next.first_seen_at,
        next.last_seen_at,
        next.phoneless_at,
        next.id,
      );
    }
    return target.id;
  }

  /** Folds `other` into `into`: its keys move, its latest values count, it is marked as merged. */
  private fold(into: IdentityRow, other: IdentityRow): IdentityRow {
    this.moveKeys.run(into.id, other.id);
    this.markMerged.run(into.id, other.id);
    const newer = (other.last_seen_at ?? 0) > (into.last_seen_at ?? 0) ? other : into;
    const older = newer === into ? other : into;
    return {
      id: into.id,
      phone: newer.phone ?? older.phone,
      user_id: newer.user_id ?? older.user_id,
      parent_user_id: newer.parent_user_id ?? older.parent_user_id,
      username: newer.username ?? older.username,
      first_seen_at: earlier(into.first_seen_at, other.first_seen_at),
      last_seen_at: later(into.last_seen_at, other.last_seen_at),
      phoneless_at: later(into.phoneless_at, other.phoneless_at),
    };
  }
}

const linkers = new WeakMap<Db, Linker>();

/**
 * Records sightings in the store, inside the caller's transaction (the webhook store writer batches them with the
 * events that carry them); a sighting without a time of its own counts at `receivedAt`.
 */
export function recordSightings(db: Db, sightings: readonly Sighting[], receivedAt: number): void {
  if (sightings.length === 0) return;
  let linker = linkers.get(db);
  if (!linker) {
    linker = new Linker(db);
    linkers.set(db, linker);
  }
  for (const s of sightings) linker.link({ ...s, at: s.at ?? receivedAt });
}
