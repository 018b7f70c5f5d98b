/**
 * A sighting: one mention of a person in a payload, with the keys it shows together (pure data, made by the
 * webhook parser, recorded by ./store.ts).
 */

/** The previous keys of an identity change (`user_changed_number`, `user_changed_user_id`). */
export interface PreviousKeys {
  phone: string | null;
  userId: string | null;
  parentUserId: string | null;
  /** The person's phone changed (a new BSUID means a new number): every phone known so far but the new one retires. */
  phoneChanged: boolean;
}

/** One mention of a person in a payload; keys already normalised (see ./keys.ts). */
export interface Sighting {
  phone: string | null;
  userId: string | null;
  parentUserId: string | null;
  username: string | null;
  /** Named by a BSUID in a payload without a phone (the phone withheld). */
  phoneless: boolean;
  previous: PreviousKeys | null;
  /** ms; when the payload says it happened (null: when it was received). */
  at: number | null;
}

/** A sighting of `keys`, or null when it names nobody. `phoneless` follows from the keys. */
export function sighting(
  keys: {
    phone: string | null;
    userId: string | null;
    parentUserId?: string | null;
    username?: string | null;
  },
  at: number | null,
  previous: PreviousKeys | null = null,
): Sighting | null {
  const parentUserId = keys.parentUserId ?? null;
  if (!keys.phone && !keys.userId && !parentUserId && !previous) return null;
  return {
    phone: keys.phone,
    userId: keys.userId,
    parentUserId,
    username: keys.username ?? null,
    phoneless: !keys.phone && Boolean(keys.userId || parentUserId),
    previous,
    at,
  };
}
