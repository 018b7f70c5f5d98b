/**
 * The consent register as a campaign uses it (`wacx send`, `wacx campaigns resume`): who may be messaged with a
 * template of a category, and the revokes an `--exclude` file records. lib/campaign does not import this domain;
 * the command layer hands it the result as plain data.
 */
import { storeIdentityLinks } from '../campaign/identities.js';
import type { CampaignConsent, ConsentReader } from '../campaign/types.js';
import type { Db } from '../store/store.js';
import { type ConsentChange, ConsentRegister, scopeForCategory } from './register.js';

/**
 * The recipients with an opt-in (when `required`) and those who revoked, for the scope a template of `category`
 * needs. A person is one set of keys: a consent recorded for a phone also covers the BSUIDs the store links to it.
 */
export function campaignConsent(db: Db, category: string, required: boolean): CampaignConsent {
  const scope = scopeForCategory(category);
  const granted = new Set<string>();
  const revoked = new Set<string>();
  for (const s of new ConsentRegister(db, Date.now).list()) {
    if (s[scope] === 'revoked') revoked.add(s.subject);
    else if (s[scope] === 'granted') granted.add(s.subject);
  }
  for (const [phone, bsuid] of storeIdentityLinks(db).pairs) {
    for (const set of [granted, revoked]) {
      if (set.has(phone)) set.add(bsuid);
      else if (set.has(bsuid)) set.add(phone);
    }
  }
  return { granted: required ? granted : null, revoked };
}

/** A ConsentReader over the profile's store (opened when the plan needs it). */
export function consentReader(db: () => Promise<Db>): ConsentReader {
  return async (category, required) => campaignConsent(await db(), category, required);
}

/**
 * Records an `--exclude FILE` list as revokes (scope all, source `--exclude FILE`): whoever is listed is never
 * messaged again. A recipient whose latest change already is this file's revoke is not recorded twice.
 */
export function recordExcludes(db: Db, file: string, keys: Iterable<string>, now: () => number): number {
  const register = new ConsentRegister(db, now);
  const source = `--exclude ${file}`;
  const at = now();
  const changes: ConsentChange[] = [];
  for (const subject of keys) {
    const last = register.history(subject).at(-1);
    if (last && last.action === 'revoke' && last.scope === 'all' && last.source === source) continue;
    changes.push({ subject, scope: 'all', action: 'revoke', at, source, proof: null });
  }
  register.record(changes);
  return changes.length;
}
