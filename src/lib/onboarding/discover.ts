import { UsageError, WacxError } from '../errors.js';
import type { Graph } from '../graph/graph.js';
import { parseGraphTime } from '../graph/time.js';
import type { PhoneNumber } from '../graph/types.js';
import type { Prompter } from '../io/prompter.js';
import type { SessionInfo } from './session.js';

export const DISCOVER_FIELDS = [
  'id',
  'display_phone_number',
  'verified_name',
  'is_on_biz_app',
  'platform_type',
  'status',
  'last_onboarded_time',
] as const;

export function isCoexistence(n: PhoneNumber): boolean {
  return n.is_on_biz_app === true && n.platform_type === 'CLOUD_API';
}

export function describeNumber(n: PhoneNumber): string {
  return `${n.display_phone_number ?? n.id} (${n.id}${n.verified_name ? `, ${n.verified_name}` : ''})`;
}

/** Why a number is not a coexistence number, in words a user can act on. Never suggests /register. */
export function notCoexistenceError(n: PhoneNumber): WacxError {
  const facts = `is_on_biz_app ${n.is_on_biz_app ?? 'unknown'}, platform_type ${n.platform_type ?? 'unknown'}`;
  if (n.platform_type === 'CLOUD_API') {
    return new WacxError(
      `${describeNumber(n)} is not a coexistence number (${facts}): it is a Cloud API-only number, not used in the WhatsApp Business app. Nothing was changed.`,
      {
        hint: 'Onboard the Business App number instead (--phone-number-id), or check a number first with `wacx eligibility`.',
      },
    );
  }
  if (n.is_on_biz_app === true) {
    return new WacxError(
      `${describeNumber(n)} is a Business App number whose signup is not finished (${facts}).`,
      {
        hint: 'Finish the flow in the Business App (Connect, then Confirm), wait a minute, then run `wacx onboard` again: it resumes here.',
      },
    );
  }
  return new WacxError(`${describeNumber(n)} is not a coexistence number (${facts}). Nothing was changed.`, {
    hint: 'wacx onboard connects numbers already used in the WhatsApp Business app; check it with `wacx eligibility`.',
  });
}

export interface Discovered {
  wabaId: string;
  number: PhoneNumber;
  onboardedAt: number | null;
  pickedBy: 'flag' | 'signup' | 'only' | 'prompt';
  wabaFrom: 'flag' | 'signup' | 'debug_token' | 'earlier';
}

export interface DiscoverContext {
  graph: Graph;
  appToken: string;
  businessToken: string;
  prompter: Prompter;
  interactive: boolean;
  signal?: AbortSignal;
}

/** The WABAs the business token was granted (debug_token granular_scopes, whatsapp_business_management). */
export async function grantedWabas(ctx: DiscoverContext): Promise<string[]> {
  const data = await ctx.graph.oauth.debugToken(ctx.businessToken, ctx.appToken);
  const ids = new Set<string>();
  for (const g of data.granular_scopes ?? []) {
    if (g.scope === 'whatsapp_business_management') for (const id of g.target_ids ?? []) ids.add(id);
  }
  return [...ids];
}

/**
 * Finds the WABA (flag, else the signup's session info, else debug_token granular scopes) and the coexistence
 * number (flag, else the one the signup's session info names, else the WABA's only one or the user's choice),
 * and verifies it: is_on_biz_app true and platform_type CLOUD_API. Never calls /register. Never guesses from
 * onboarding times: two numbers onboarded in the same second are told apart only by facts.
 */
export async function discover(
  ctx: DiscoverContext,
  wanted: {
    wabaId?: string | undefined;
    phoneNumberId?: string | undefined;
    wabaFrom?: 'flag' | 'earlier';
    session?: SessionInfo | null;
  },
): Promise<Discovered> {
  let wabaId = wanted.wabaId;
  let wabaFrom: Discovered['wabaFrom'] = wanted.wabaFrom ?? 'flag';
  const session = wanted.session ?? null;
  if (!wabaId && session) {
    wabaId = session.wabaId;
    wabaFrom = 'signup';
  }
  if (!wabaId) {
    const wabas = await grantedWabas(ctx);
    wabaFrom = 'debug_token';
    if (wabas.length === 0) {
      throw new WacxError(
        'The business token grants no WhatsApp Business Account (debug_token granular_scopes).',
        {
          hint: 'Finish Embedded Signup with a WABA shared with the app, or pass --waba-id.',
        },
      );
    }
    if (wabas.length === 1) wabaId = wabas[0]!;
    else
      wabaId = await ctx.prompter.select({
        message: 'Which WhatsApp Business Account?',
        flag: '--waba-id',
        choices: wabas.map((id) => ({ value: id })),
      });
  }

  const named = wanted.phoneNumberId ?? (session?.wabaId === wabaId ? session.phoneNumberId : null);
  if (named) {
    const n = await ctx.graph.phoneNumbers.get(named, DISCOVER_FIELDS, ctx.signal);
    if (!isCoexistence(n)) throw notCoexistenceError(n);
    return {
      wabaId,
      number: n,
      onboardedAt: parseGraphTime(n.last_onboarded_time) ?? null,
      pickedBy: wanted.phoneNumberId ? 'flag' : 'signup',
      wabaFrom,
    };
  }

  const all: PhoneNumber[] = [];
  for await (const n of ctx.graph.phoneNumbers.list(wabaId, DISCOVER_FIELDS)) all.push(n);
  const coex = all
    .filter(isCoexistence)
    .sort(
      (a, b) => (parseGraphTime(b.last_onboarded_time) ?? 0) - (parseGraphTime(a.last_onboarded_time) ?? 0),
    );
  if (coex.length === 0) {
    const others = all.map(
      (n) => `${describeNumber(n)}: is_on_biz_app ${n.is_on_biz_app}, ${n.platform_type}`,
    );
    throw new WacxError(
      `WABA ${wabaId} has no coexistence number${others.length ? ` (${others.join('; ')})` : ''}.`,
      {
        hint: 'The signup may still be finishing: wait a minute and run `wacx onboard` again (it resumes), or pass --phone-number-id.',
      },
    );
  }
  const done = (n: PhoneNumber, pickedBy: Discovered['pickedBy']): Discovered => ({
    wabaId: wabaId!,
    number: n,
    onboardedAt: parseGraphTime(n.last_onboarded_time) ?? null,
    pickedBy,
    wabaFrom,
  });
  if (coex.length === 1) return done(coex[0]!, 'only');
  if (ctx.interactive) {
    const id = await ctx.prompter.select({
      message: 'Several coexistence numbers: which one did you just onboard?',
      flag: '--phone-number-id',
      choices: coex.map((n) => ({
        value: n.id,
        name: `${describeNumber(n)}${n.last_onboarded_time ? `, onboarded ${n.last_onboarded_time}` : ''}`,
      })),
    });
    return done(coex.find((n) => n.id === id)!, 'prompt');
  }
  throw new UsageError(
    `WABA ${wabaId} has several coexistence numbers: ${coex.map(describeNumber).join(', ')}.`,
    {
      location: '--phone-number-id',
      hint: "The signup did not say which number it onboarded: pass --phone-number-id with that number (or --session-info with the signup's WA_EMBEDDED_SIGNUP event).",
    },
  );
}
