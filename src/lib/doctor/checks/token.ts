import { ago, formatDuration, isoDate } from '../format.js';
import type { CheckDefinition, DoctorFacts, Outcome, TokenFacts } from '../types.js';
import { describeError, fail, pass, skip, unavailable, warn } from './common.js';

export const REQUIRED_SCOPES = ['whatsapp_business_management', 'whatsapp_business_messaging'] as const;

const NEW_TOKEN_FIX =
  'Generate a new system-user token (Business Settings › System users › Generate token, with whatsapp_business_management and whatsapp_business_messaging), then run `wacx auth login`; for a business token, onboard again with `wacx onboard`.';

/** The inspected token when it is there and valid; otherwise the outcome dependent checks report. */
function validToken(f: DoctorFacts): TokenFacts | Outcome {
  if (f.token.state !== 'ok') return unavailable(f.token, 'the token', 'token.valid');
  if (!f.token.value.debug.is_valid) return skip('the token is not valid (see token.valid)');
  return f.token.value;
}
const isOutcome = (v: TokenFacts | Outcome): v is Outcome => 'status' in v;

export const TOKEN_CHECKS: CheckDefinition[] = [
  {
    id: 'token.valid',
    group: 'Token',
    title: 'Access token valid',
    run(f) {
      if (f.token.state === 'skipped') return skip(f.token.reason, f.token.fix);
      if (f.token.state === 'error') {
        const e = f.token.error;
        if (e.network) return skip(`API unreachable: ${e.message}`);
        if (/appsecret_proof/i.test(e.message)) {
          return fail(
            `the API refuses the appsecret_proof, so the app secret does not belong to the token's app: ${describeError(e)}`,
            `Set the secret of app ${f.config.appId.value ?? '(the token’s app)'} from App Dashboard › App settings › Basic: WACX_APP_SECRET, or store it with \`wacx auth login\`.`,
          );
        }
        const revoked = e.code === 190 || e.code === 0 || e.code === 102;
        return fail(
          revoked
            ? `the token expired or was revoked: ${describeError(e)}`
            : `debug_token failed: ${describeError(e)}`,
          revoked
            ? NEW_TOKEN_FIX
            : 'Run `wacx doctor --verbose` to see the request; check the token with `wacx auth status`.',
        );
      }
      const { debug, via, appTokenError } = f.token.value;
      if (!debug.is_valid) {
        const why = debug.error?.message ? `: ${debug.error.message}` : '';
        return fail(`the token is not valid${why}`, NEW_TOKEN_FIX);
      }
      const what = `${debug.type ?? 'unknown-type'} token of app ${debug.application ?? '?'} (${debug.app_id})`;
      const configuredApp = f.config.appId.value;
      if (configuredApp && debug.app_id && configuredApp !== debug.app_id) {
        return warn(
          `${what}, but the profile's appId is ${configuredApp}`,
          `Set the app id the token belongs to (\`wacx config set appId ${debug.app_id}\`), or use a token of app ${configuredApp}.`,
        );
      }
      if (appTokenError) {
        return warn(
          `${what}; the app token APP_ID|APP_SECRET was refused (${appTokenError}), so the token was inspected with itself`,
          'Check appId and the app secret (`wacx config get appId`, WACX_APP_SECRET).',
        );
      }
      return pass(`${what}, checked with ${via === 'app' ? 'the app token' : 'itself'}`);
    },
  },
  {
    id: 'token.expiry',
    group: 'Token',
    title: 'Token expiry',
    run(f, o) {
      const t = validToken(f);
      if (isOutcome(t)) return t;
      const { debug } = t;
      const warnMs = o.tokenWarnDays * 86_400_000;
      const fix =
        'Use a system-user token that does not expire (Business Settings › System users › Generate token, expiry "Never"), then `wacx auth login`.';
      const dataAccess =
        debug.data_access_expires_at && debug.data_access_expires_at > 0
          ? debug.data_access_expires_at * 1000
          : null;
      if (dataAccess !== null && dataAccess - f.now < warnMs) {
        const when =
          dataAccess <= f.now
            ? `ended ${ago(f.now, dataAccess)}`
            : `ends in ${formatDuration(dataAccess - f.now)}`;
        return (dataAccess <= f.now ? fail : warn)(`data access ${when} (${isoDate(dataAccess)})`, fix);
      }
      if (!debug.expires_at) return pass('never expires');
      const at = debug.expires_at * 1000;
      if (at <= f.now) return fail(`expired ${ago(f.now, at)} (${isoDate(at)})`, fix);
      if (at - f.now < warnMs) return warn(`expires in ${formatDuration(at - f.now)} (${isoDate(at)})`, fix);
      return pass(`expires on ${isoDate(at)} (in ${formatDuration(at - f.now)})`);
    },
  },
  {
    id: 'token.scopes',
    group: 'Token',
    title: 'Token scopes',
    run(f) {
      const t = validToken(f);
      if (isOutcome(t)) return t;
      const scopes = t.debug.scopes ?? [];
      const missing = REQUIRED_SCOPES.filter((s) => !scopes.includes(s));
      if (missing.length) {
        return fail(
          `missing ${missing.join(' and ')} (has: ${scopes.join(', ') || 'none'})`,
          'Generate a token with whatsapp_business_management and whatsapp_business_messaging (Business Settings › System users › Generate token), then `wacx auth login`.',
        );
      }
      return pass(REQUIRED_SCOPES.join(', '));
    },
  },
  {
    id: 'token.waba_access',
    group: 'Token',
    title: 'Token covers the WABA',
    run(f) {
      const t = validToken(f);
      if (isOutcome(t)) return t;
      const waba = f.config.wabaId.value;
      if (!waba) return skip('no WABA id configured (see waba.reachable)');
      const granular = t.debug.granular_scopes;
      if (!granular || granular.length === 0) {
        return pass('debug_token lists no granular scopes: the token is not limited to particular assets');
      }
      const problems: string[] = [];
      const others = new Set<string>();
      for (const scope of REQUIRED_SCOPES) {
        const entry = granular.find((g) => g.scope === scope);
        if (!entry?.target_ids) continue; // absent scope: token.scopes reports it; no target_ids: all assets
        if (!entry.target_ids.includes(waba)) {
          problems.push(scope);
          for (const id of entry.target_ids) others.add(id);
        }
      }
      if (problems.length) {
        const elsewhere = others.size ? ` (it covers ${[...others].join(', ')})` : '';
        return fail(
          `${problems.join(' and ')} not granted on WABA ${waba}${elsewhere}`,
          others.size
            ? `Point the profile at a WABA the token covers (\`wacx config set wabaId ${[...others][0]}\`), or assign WABA ${waba} to the system user and generate a new token.`
            : `Assign WABA ${waba} to the system user (Business Settings › System users › Assign assets) and generate a new token.`,
        );
      }
      return pass(`granted on WABA ${waba}`);
    },
  },
];
