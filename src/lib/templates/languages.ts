/**
 * Language codes accepted by Meta for message templates (Meta, "Supported Languages",
 * developers.facebook.com/documentation/business-messaging/whatsapp/templates/supported-languages,
 * updated May 21, 2026): 111 codes, in the order of Meta's table.
 * Codes are case-sensitive and use an underscore (`en_US`, never `en-US`).
 */
export const TEMPLATE_LANGUAGES = [
  'af', // Afrikaans
  'sq', // Albanian
  'ar', // Arabic
  'ar_EG', // Arabic (EGY)
  'ar_AE', // Arabic (UAE)
  'ar_LB', // Arabic (LBN)
  'ar_MA', // Arabic (MAR)
  'ar_QA', // Arabic (QAT)
  'az', // Azerbaijani
  'be_BY', // Belarusian
  'bn', // Bengali
  'bn_IN', // Bengali (IND)
  'bg', // Bulgarian
  'ca', // Catalan
  'zh_CN', // Chinese (CHN)
  'zh_HK', // Chinese (HKG)
  'zh_TW', // Chinese (TAI)
  'hr', // Croatian
  'cs', // Czech
  'da', // Danish
  'prs_AF', // Dari
  'nl', // Dutch
  'nl_BE', // Dutch (BEL)
  'en', // English
  'en_GB', // English (UK)
  'en_US', // English (US)
  'en_AE', // English (UAE)
  'en_AU', // English (AUS)
  'en_CA', // English (CAN)
  'en_GH', // English (GHA)
  'en_IE', // English (IRL)
  'en_IN', // English (IND)
  'en_JM', // English (JAM)
  'en_MY', // English (MYS)
  'en_NZ', // English (NZL)
  'en_QA', // English (QAT)
  'en_SG', // English (SGP)
  'en_UG', // English (UGA)
  'en_ZA', // English (ZAF)
  'et', // Estonian
  'fil', // Filipino
  'fi', // Finnish
  'fr', // French
  'fr_BE', // French (BEL)
  'fr_CA', // French (CAN)
  'fr_CH', // French (CHE)
  'fr_CI', // French (CIV)
  'fr_MA', // French (MAR)
  'ka', // Georgian
  'de', // German
  'de_AT', // German (AUT)
  'de_CH', // German (CHE)
  'el', // Greek
  'gu', // Gujarati
  'ha', // Hausa
  'he', // Hebrew
  'hi', // Hindi
  'hu', // Hungarian
  'id', // Indonesian
  'ga', // Irish
  'it', // Italian
  'ja', // Japanese
  'kn', // Kannada
  'kk', // Kazakh
  'rw_RW', // Kinyarwanda
  'ko', // Korean
  'ky_KG', // Kyrgyz (Kyrgyzstan)
  'lo', // Lao
  'lv', // Latvian
  'lt', // Lithuanian
  'mk', // Macedonian
  'ms', // Malay
  'ml', // Malayalam
  'mr', // Marathi
  'nb', // Norwegian
  'ps_AF', // Pashto
  'fa', // Persian
  'pl', // Polish
  'pt_BR', // Portuguese (BR)
  'pt_PT', // Portuguese (POR)
  'pa', // Punjabi
  'ro', // Romanian
  'ru', // Russian
  'sr', // Serbian
  'si_LK', // Sinhala
  'sk', // Slovak
  'sl', // Slovenian
  'es', // Spanish
  'es_AR', // Spanish (ARG)
  'es_CL', // Spanish (CHL)
  'es_CO', // Spanish (COL)
  'es_CR', // Spanish (CRI)
  'es_DO', // Spanish (DOM)
  'es_EC', // Spanish (ECU)
  'es_HN', // Spanish (HND)
  'es_MX', // Spanish (MEX)
  'es_PA', // Spanish (PAN)
  'es_PE', // Spanish (PER)
  'es_ES', // Spanish (SPA)
  'es_UY', // Spanish (URY)
  'sw', // Swahili
  'sv', // Swedish
  'ta', // Tamil
  'te', // Telugu
  'th', // Thai
  'tr', // Turkish
  'uk', // Ukrainian
  'ur', // Urdu
  'uz', // Uzbek
  'vi', // Vietnamese
  'zu', // Zulu
] as const;

export type TemplateLanguage = (typeof TEMPLATE_LANGUAGES)[number];

const LANGUAGE_SET: ReadonlySet<string> = new Set(TEMPLATE_LANGUAGES);
const BY_LOWER = new Map(TEMPLATE_LANGUAGES.map((code) => [code.toLowerCase(), code]));

export function isTemplateLanguage(code: string): code is TemplateLanguage {
  return LANGUAGE_SET.has(code);
}

/** The supported code a user probably meant (`en-us` → `en_US`, `pt` → `pt_BR`), or null. */
export function suggestLanguage(code: string): string | null {
  const lower = code.trim().replace(/-/g, '_').toLowerCase();
  const exact = BY_LOWER.get(lower);
  if (exact) return exact;
  const base = lower.split('_')[0] ?? '';
  const sameBase = TEMPLATE_LANGUAGES.filter((c) => c.toLowerCase().split('_')[0] === base);
  return sameBase[0] ?? null;
}
