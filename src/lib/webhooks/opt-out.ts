/**
 * Opt-out (and opt-in) keywords in inbound messages. A message counts only when its whole text, once
 * normalised (case, accents, punctuation, spacing), is one of these words: "stop" opts out, "Stop sending
 * me offers please" is left to a person. Meta's own marketing opt-out arrives as `user_preferences`.
 */
const OPT_OUT_WORDS = [
  // English
  'STOP',
  'STOP ALL',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'OPT OUT',
  'OPTOUT',
  'OPT-OUT',
  'STOP PROMOTIONS',
  'REMOVE ME',
  // Spanish
  'BAJA',
  'DAR DE BAJA',
  'DARME DE BAJA',
  'PARAR',
  'ALTO',
  'CANCELAR',
  'DETENER',
  // Portuguese
  'SAIR',
  'PARE',
  'DESCADASTRAR',
  'CANCELAR INSCRIÇÃO',
  // French
  'ARRÊT',
  'ARRÊTER',
  'DÉSABONNER',
  'DÉSINSCRIRE',
  'DÉSINSCRIPTION',
  // German
  'STOPP',
  'ABMELDEN',
  'ABBESTELLEN',
  // Italian
  'BASTA',
  'DISISCRIVI',
  'DISISCRIVIMI',
  'CANCELLAMI',
  // Dutch
  'AFMELDEN',
  'UITSCHRIJVEN',
  // Indonesian / Malay
  'BERHENTI',
  // Turkish
  'DUR',
  'İPTAL',
  // Russian
  'СТОП',
  'ОТПИСАТЬСЯ',
  // Arabic
  'توقف',
  'إلغاء الاشتراك',
  // Hindi
  'बंद',
  'बंद करो',
  'बंद करें',
] as const;

const OPT_IN_WORDS = ['START', 'UNSTOP', 'SUBSCRIBE', 'RESUME', 'ALTA', 'INICIAR'] as const;

/** Upper-case, no accents, no punctuation, single spaces. */
export function normaliseKeyword(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

const OUT = new Map(OPT_OUT_WORDS.map((w) => [normaliseKeyword(w), w] as const));
const IN = new Map(OPT_IN_WORDS.map((w) => [normaliseKeyword(w), w] as const));

/** The opt-out/opt-in keyword the whole message is, or null. */
export function optOutKeyword(text: string | null | undefined): { word: string; optOut: boolean } | null {
  if (!text || text.length > 60) return null;
  const n = normaliseKeyword(text);
  if (!n) return null;
  const out = OUT.get(n);
  if (out) return { word: out, optOut: true };
  const inn = IN.get(n);
  if (inn) return { word: inn, optOut: false };
  return null;
}
