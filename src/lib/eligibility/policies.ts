/**
 * Coexistence country policies, as dated data (meta-cloud-api.md §9.1).
 *
 * Meta launched coexistence on 2025-02-11 with a list of unsupported countries and lifted it step by step:
 *   2025-05-05  India                                                         (changelog #297)
 *   2025-10-23  Australia, Japan, Philippines, Russia, South Korea, Turkey,
 *               EU/EEA, United Kingdom                                        (changelog #356–359)
 *   2026-04-15  Nigeria, South Africa                                         (changelog #388)
 * Meta's current page (Jun 2026) has no country list at all: the default policy excludes nothing.
 * The launch list stays selectable (`--policy 2025-02`) and each exclusion carries the date it was lifted.
 */

export type PolicyId = 'current' | '2025-02';
export const POLICY_IDS: readonly PolicyId[] = ['current', '2025-02'];
export const DEFAULT_POLICY: PolicyId = 'current';

export interface CountryExclusion {
  /** ISO 3166-1 alpha-2, as libphonenumber-js reports a number's region. */
  country: string;
  name: string;
  callingCode: string;
  /** The group the exclusion was announced under (e.g. "EU/EEA"), when any. */
  group: string | null;
  /** When Meta lifted the exclusion (YYYY-MM-DD), or null while it still applies. */
  liftedOn: string | null;
  /** Where the lifting is documented. */
  liftedBy: string | null;
}

export interface CoexistencePolicy {
  id: PolicyId;
  title: string;
  /** The date the policy describes (YYYY-MM-DD). */
  asOf: string;
  description: string;
  excluded: readonly CountryExclusion[];
}

const LIFT_INDIA = { liftedOn: '2025-05-05', liftedBy: 'WhatsApp changelog #297 (May 5, 2025)' };
const LIFT_OCT_2025 = { liftedOn: '2025-10-23', liftedBy: 'WhatsApp changelog #356–359 (Oct 23, 2025)' };
const LIFT_APR_2026 = { liftedOn: '2026-04-15', liftedBy: 'WhatsApp changelog #388 (Apr 15, 2026)' };

/** EU member states plus the EEA (Iceland, Liechtenstein, Norway), with the EU regions libphonenumber reports apart. */
const EU_EEA: readonly (readonly [string, string, string])[] = [
  ['AT', 'Austria', '43'],
  ['BE', 'Belgium', '32'],
  ['BG', 'Bulgaria', '359'],
  ['HR', 'Croatia', '385'],
  ['CY', 'Cyprus', '357'],
  ['CZ', 'Czechia', '420'],
  ['DK', 'Denmark', '45'],
  ['EE', 'Estonia', '372'],
  ['FI', 'Finland', '358'],
  ['FR', 'France', '33'],
  ['DE', 'Germany', '49'],
  ['GR', 'Greece', '30'],
  ['HU', 'Hungary', '36'],
  ['IE', 'Ireland', '353'],
  ['IT', 'Italy', '39'],
  ['LV', 'Latvia', '371'],
  ['LT', 'Lithuania', '370'],
  ['LU', 'Luxembourg', '352'],
  ['MT', 'Malta', '356'],
  ['NL', 'Netherlands', '31'],
  ['PL', 'Poland', '48'],
  ['PT', 'Portugal', '351'],
  ['RO', 'Romania', '40'],
  ['SK', 'Slovakia', '421'],
  ['SI', 'Slovenia', '386'],
  ['ES', 'Spain', '34'],
  ['SE', 'Sweden', '46'],
  ['IS', 'Iceland', '354'],
  ['LI', 'Liechtenstein', '423'],
  ['NO', 'Norway', '47'],
  // Parts of EU member states that libphonenumber-js reports as their own region
  ['AX', 'Åland Islands (Finland)', '358'],
  ['GF', 'French Guiana (France)', '594'],
  ['GP', 'Guadeloupe (France)', '590'],
  ['MQ', 'Martinique (France)', '596'],
  ['RE', 'Réunion (France)', '262'],
  ['YT', 'Mayotte (France)', '262'],
  ['MF', 'Saint Martin (France)', '590'],
];

const LAUNCH_EXCLUSIONS: readonly CountryExclusion[] = [
  ...EU_EEA.map(([country, name, callingCode]) => ({
    country,
    name,
    callingCode,
    group: 'EU/EEA',
    ...LIFT_OCT_2025,
  })),
  { country: 'GB', name: 'United Kingdom', callingCode: '44', group: null, ...LIFT_OCT_2025 },
  { country: 'AU', name: 'Australia', callingCode: '61', group: null, ...LIFT_OCT_2025 },
  { country: 'JP', name: 'Japan', callingCode: '81', group: null, ...LIFT_OCT_2025 },
  { country: 'ZA', name: 'South Africa', callingCode: '27', group: null, ...LIFT_APR_2026 },
  { country: 'NG', name: 'Nigeria', callingCode: '234', group: null, ...LIFT_APR_2026 },
  { country: 'RU', name: 'Russia', callingCode: '7', group: null, ...LIFT_OCT_2025 },
  { country: 'TR', name: 'Turkey', callingCode: '90', group: null, ...LIFT_OCT_2025 },
  { country: 'IN', name: 'India', callingCode: '91', group: null, ...LIFT_INDIA },
  { country: 'PH', name: 'Philippines', callingCode: '63', group: null, ...LIFT_OCT_2025 },
  { country: 'KR', name: 'South Korea', callingCode: '82', group: null, ...LIFT_OCT_2025 },
];

export const POLICIES: Readonly<Record<PolicyId, CoexistencePolicy>> = {
  current: {
    id: 'current',
    title: "Meta's current policy",
    asOf: '2026-06-26',
    description:
      'No country is excluded: since 2026-04-15 every country of the launch list is supported (Meta docs, Jun 2026).',
    excluded: [],
  },
  '2025-02': {
    id: '2025-02',
    title: 'Launch policy (Feb 2025)',
    asOf: '2025-02-11',
    description:
      'Coexistence at launch: EU/EEA, United Kingdom, Australia, Japan, South Africa, Nigeria, Russia, Turkey, India, Philippines and South Korea excluded.',
    excluded: LAUNCH_EXCLUSIONS,
  },
};

export function isPolicyId(value: string): value is PolicyId {
  return (POLICY_IDS as readonly string[]).includes(value);
}

export function policy(id: PolicyId): CoexistencePolicy {
  return POLICIES[id];
}

/** The exclusion of `country` under a policy, if any. */
export function exclusionFor(
  p: CoexistencePolicy,
  country: string | undefined,
): CountryExclusion | undefined {
  if (!country) return undefined;
  const cc = country.toUpperCase();
  return p.excluded.find((e) => e.country === cc);
}

/** The launch-policy record of a country (used to tell the history under the current policy). */
export function launchExclusionFor(country: string | undefined): CountryExclusion | undefined {
  return exclusionFor(POLICIES['2025-02'], country);
}
