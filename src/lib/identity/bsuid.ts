/**
 * Business-scoped user IDs (BSUIDs): `CC.` + up to 128 alphanumerics, or a parent BSUID `CC.ENT.` + alphanumerics.
 * Classify a value with this BEFORE any phone normalisation: digit-stripping turns `MY.2035200694071263`
 * into a plausible phone number.
 */
export const BSUID_PATTERN = /^[A-Z]{2}\.(ENT\.)?[A-Za-z0-9]{1,128}$/;

/** A BSUID or a parent BSUID. */
export function isBsuid(value: string): boolean {
  return BSUID_PATTERN.test(value);
}

/** A parent BSUID (`CC.ENT.…`), shared across the linked portfolios of a managed business. */
export function isParentBsuid(value: string): boolean {
  return BSUID_PATTERN.test(value) && value.slice(2, 7) === '.ENT.';
}
