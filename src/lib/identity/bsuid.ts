/**
 * Business-scoped user ids (meta-cloud-api.md §15.1): `CC.` + up to 128 alphanumerics, or a parent BSUID
 * `CC.ENT.` + alphanumerics. Classify a value with these BEFORE any phone normalisation: a digit-stripping
 * normaliser turns `MY.2035200694071263` into a plausible phone number.
 */
export const BSUID_PATTERN = /^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$/;

const PARENT_PATTERN = /^[A-Z]{2}\.ENT\.[A-Za-z0-9]{1,128}$/;

/** A BSUID or a parent BSUID (both are accepted in `recipient`). */
export function isBsuid(value: string): boolean {
  return BSUID_PATTERN.test(value);
}

/** A parent BSUID (`CC.ENT.…`). */
export function isParentBsuid(value: string): boolean {
  return PARENT_PATTERN.test(value);
}
