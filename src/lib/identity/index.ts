export { BSUID_PATTERN, isBsuid, isParentBsuid } from './bsuid.js';
export { bsuidKey, personKey, phoneKey } from './keys.js';
export {
  type KnownIdentity,
  keysOfPerson,
  knownIdentityForPhone,
  type PeopleCounts,
  peopleCounts,
} from './queries.js';
