import type { Config } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { ANSWERS } from '../graph/answers.js';
import { graphPath } from '../graph/client.js';
import { GraphApiError, GraphNetworkError } from '../graph/errors.js';
import type { Graph } from '../graph/graph.js';
import { WABA_FIELDS } from '../graph/resources/waba.js';
import {
  type AppSubscription,
  type MessageTemplate,
  PHONE_NUMBER_FIELDS,
  type PhoneNumber,
  type SubscribedApp,
} from '../graph/types.js';
import { parseBusinessUseCaseUsage } from '../graph/usage.js';
import { historyStatus } from '../history/queries.js';
import { type Db, Store } from '../store/store.js';
import { type HealthScope, syncHealth } from '../webhooks/queries.js';
import { consentFacts } from './checks/consent.js';
import { agentFacts } from './checks/standby.js';
import type {
  AgentFacts,
  ConfigFacts,
  ConsentFacts,
  DoctorFacts,
  GatherError,
  Gathered,
  MarketingFacts,
  ProbeFacts,
  StoreFacts,
  TokenFacts,
  WabaFacts,
} from './types.js';

export interface GatherInput {
  config: Config;
  /** Logical "now" of the run (deps.clock), ms. */
  now: number;
  /** The machine's wall clock, for the clock-skew check (defaults to Date.now). */
  wallClock?: () => number;
  nodeVersion?: string;
  /** Do not contact the API at all. */
  offline?: boolean;
  /** Builds the authenticated API client; called only when a token is configured. */
  graph: () => Promise<Graph>;
  /** The store as shown (a SQLite path, or a PostgreSQL URL without its password). */
  storePath: string;
  /** False when the SQLite file is not there yet: nothing was received, and the doctor does not create it. */
  storeExists: boolean;
  /** Opens the profile's database. */
  openStore: () => Promise<Db>;
  signal?: AbortSignal;
}

const TEMPLATE_DOCTOR_FIELDS = [
  'id',
  'name',
  'language',
  'category',
  'status',
  'rejected_reason',
  'quality_score',
];

const ok = <T>(value: T): Gathered<T> => ({ state: 'ok', value });
const skipped = <T>(reason: string, fix: string | null = null): Gathered<T> => ({
  state: 'skipped',
  reason,
  fix,
});
const failed = <T>(error: unknown): Gathered<T> => ({ state: 'error', error: toGatherError(error) });

export function toGatherError(error: unknown): GatherError {
  if (error instanceof GraphApiError) {
    return { message: error.message, code: error.code, status: error.status, network: false };
  }
  if (error instanceof GraphNetworkError)
    return { message: error.message, code: null, status: null, network: true };
  return {
    message: error instanceof Error ? error.message : String(error),
    code: null,
    status: null,
    network: false,
  };
}

/** Reads the configuration: profile, file, settings with sources, where secrets come from (never their values). */
export async function gatherConfig(config: Config): Promise<ConfigFacts> {
  const profiles = config.profiles;
  const names = profiles.names();
  const setting = (key: Parameters<Config['setting']>[0]) => {
    const r = config.setting(key);
    return { value: r.value ?? null, source: r.source };
  };
  const token = await config.secret('token');
  const appSecret = await config.secret('appSecret');
  return {
    profileName: config.profileName,
    profileExists: config.profile() !== undefined,
    profileNames: names,
    configPath: profiles.path,
    configMode: profiles.mode() ?? null,
    configHoldsSecrets: names.some((n) => Object.values(profiles.get(n)?.secrets ?? {}).some(Boolean)),
    graphUrl: setting('graphUrl'),
    apiVersion: setting('apiVersion'),
    appId: setting('appId'),
    wabaId: setting('wabaId'),
    phoneNumberId: setting('phoneNumberId'),
    token: { present: Boolean(token.value), source: token.source },
    appSecret: { present: Boolean(appSecret.value), source: appSecret.source },
  };
}

/** An empty store's facts (no database yet): the same shapes the queries return, from a throw-away database. */
function emptyStoreFacts(path: string, phoneNumberId: string | undefined, scope: HealthScope): StoreFacts {
  const mem = Store.open(':memory:');
  try {
    return {
      path,
      exists: false,
      health: syncHealth(mem.db, phoneNumberId, scope),
      history: historyStatus(mem.db, phoneNumberId),
    };
  } finally {
    mem.close();
  }
}

/** Sync health from the webhook store; a missing database counts as "nothing received" and is not created. */
export async function gatherStore(
  input: Pick<GatherInput, 'storePath' | 'storeExists' | 'openStore'>,
  phoneNumberId: string | undefined,
  scope: HealthScope = {},
): Promise<Gathered<StoreFacts>> {
  const path = input.storePath;
  if (!input.storeExists) return ok(emptyStoreFacts(path, phoneNumberId, scope));
  try {
    const db = await input.openStore();
    return ok({
      path,
      exists: true,
      health: syncHealth(db, phoneNumberId, scope),
      history: historyStatus(db, phoneNumberId),
    });
  } catch (error) {
    return failed(error);
  }
}

/** Meta Business Agent events in the webhook store; none when there is no database yet (it is not created). */
export async function gatherAgent(
  input: Pick<GatherInput, 'storePath' | 'storeExists' | 'openStore'>,
): Promise<Gathered<AgentFacts>> {
  if (!input.storeExists) return ok({ standbyEvents: 0, handoverEvents: 0, lastStandbyAt: null });
  try {
    return ok(agentFacts(await input.openStore()));
  } catch (error) {
    return failed(error);
  }
}

/** Marketing sends without a recorded opt-in; none when there is no database yet (it is not created). */
export async function gatherConsent(
  input: Pick<GatherInput, 'storePath' | 'storeExists' | 'openStore'>,
): Promise<Gathered<ConsentFacts>> {
  if (!input.storeExists) return ok({ campaigns: [] });
  try {
    return ok(consentFacts(await input.openStore()));
  } catch (error) {
    return failed(error);
  }
}

export const MARKETING_WABA_FIELDS = [
  'marketing_messages_onboarding_status',
  'disable_marketing_messages_on_cloud_api',
] as const;

/**
 * The WABA's Marketing Messages API fields, read only when the WABA itself answered (else its reason is kept).
 * A separate request: a version or account that does not know these fields must not break the WABA checks.
 */
export async function gatherMarketing(
  input: Pick<GatherInput, 'graph'>,
  wabaId: string | null,
  waba: Gathered<WabaFacts>,
): Promise<Gathered<MarketingFacts>> {
  if (waba.state === 'skipped') return waba;
  if (waba.state === 'error' || !wabaId) return skipped('the WABA could not be read (see waba.reachable)');
  try {
    const node = (await (await input.graph()).waba.get(wabaId, ['id', ...MARKETING_WABA_FIELDS])) as Record<
      string,
      unknown
    >;
    const status = node.marketing_messages_onboarding_status;
    const blocked = node.disable_marketing_messages_on_cloud_api;
    return ok({
      onboardingStatus: status === undefined || status === null ? null : String(status),
      blockedOnMessages: typeof blocked === 'boolean' ? blocked : null,
    });
  } catch (error) {
    return failed(error);
  }
}

export { parseBusinessUseCaseUsage };

type ApiFacts = Pick<
  DoctorFacts,
  'api' | 'token' | 'waba' | 'subscribedApps' | 'appSubscriptions' | 'phone' | 'wabaNumbers' | 'templates'
>;

function allSkipped(reason: string, fix: string | null): ApiFacts {
  const s = skipped<never>(reason, fix);
  return {
    api: s,
    token: s,
    waba: s,
    subscribedApps: s,
    appSubscriptions: s,
    phone: s,
    wabaNumbers: s,
    templates: s,
  };
}

function versionMajor(v: string | null): number {
  const m = v ? /^v(\d+)\.0$/.exec(v) : null;
  return m ? Number(m[1]) : 0;
}

/**
 * Reads everything the API checks need, GET only. The first call (debug_token) doubles as the reachability
 * probe and gives the Date header for the clock-skew check; when it cannot connect, everything else is
 * skipped as "API unreachable" instead of waiting on each call.
 */
export async function gatherApi(input: GatherInput, c: ConfigFacts): Promise<ApiFacts> {
  if (input.offline)
    return allSkipped('--offline: the API was not contacted', 'Run without --offline to check the API.');
  if (!c.token.present)
    return allSkipped('no token: run `wacx auth login`', 'Run `wacx auth login`, or set WACX_TOKEN.');

  let graph: Graph;
  try {
    graph = await input.graph();
  } catch (error) {
    if (error instanceof ConfigError || error instanceof GraphApiError) {
      const e = toGatherError(error);
      const facts = allSkipped(
        `API not called: ${e.message}`,
        error instanceof ConfigError ? (error.hint ?? null) : null,
      );
      return { ...facts, api: { state: 'error', error: e } };
    }
    throw error;
  }
  const client = graph.client;
  const wall = input.wallClock ?? Date.now;
  const signal = input.signal;
  const secrets = input.config;
  const token = (await secrets.secret('token')).value!;
  const appSecret = (await secrets.secret('appSecret')).value;
  const appId = c.appId.value;
  const appToken = appId && appSecret ? `${appId}|${appSecret}` : null;

  // 1. Probe + token inspection.
  const debugCall = (accessToken: string, retry: boolean) =>
    client.requestWithHeaders({
      method: 'GET',
      path: 'debug_token',
      query: { input_token: token },
      token: accessToken,
      signal,
      retry,
      answer: ANSWERS.debugToken,
      // The probe: a dead network should not keep the doctor waiting for the default 30 s.
      timeoutMs: 10_000,
    });
  let api: Gathered<ProbeFacts>;
  let tokenFacts: Gathered<TokenFacts>;
  const sentAt = wall();
  try {
    let via: TokenFacts['via'] = appToken ? 'app' : 'self';
    let appTokenError: string | null = null;
    let res: Awaited<ReturnType<typeof debugCall>>;
    try {
      res = await debugCall(appToken ?? token, false);
    } catch (error) {
      if (error instanceof GraphNetworkError) throw error;
      if (error instanceof GraphApiError && error.retryable) {
        res = await debugCall(appToken ?? token, true);
      } else if (appToken && error instanceof GraphApiError) {
        // The app token was refused (wrong app id or secret): inspect the token with itself.
        appTokenError = `${error.message} (code ${error.code})`;
        via = 'self';
        res = await debugCall(token, true);
      } else {
        throw error;
      }
    }
    const receivedAt = wall();
    const date = res.headers.date;
    const serverDate = date ? Date.parse(Array.isArray(date) ? date[0]! : date) : Number.NaN;
    api = ok({ sentAt, receivedAt, serverDate: Number.isNaN(serverDate) ? null : serverDate });
    tokenFacts = ok({ debug: res.data.data, via, appTokenError });
  } catch (error) {
    if (error instanceof GraphNetworkError) {
      const e = toGatherError(error);
      // "GET https://… failed: connection refused (ECONNREFUSED)" → the reason only, for the skipped checks.
      const why = e.message.replace(/^[A-Z]+ \S+ failed: /, '');
      return { ...allSkipped(`API unreachable: ${why}`, null), api: { state: 'error', error: e } };
    }
    if (!(error instanceof GraphApiError)) throw error;
    // The API answered (with an error): it is reachable, but an error answer carries no headers for us.
    api = ok({ sentAt, receivedAt: wall(), serverDate: null });
    tokenFacts = failed(error);
  }

  const tokenDead =
    (tokenFacts.state === 'ok' && !tokenFacts.value.debug.is_valid) ||
    (tokenFacts.state === 'error' && [0, 102, 190].includes(tokenFacts.error.code ?? -1));
  if (tokenFacts.state === 'error' && /appsecret_proof/i.test(tokenFacts.error.message)) {
    // Every call carries the same proof: they would all be refused the same way.
    const rest = allSkipped(
      'the API refuses the appsecret_proof (see token.valid)',
      'Fix the app secret (WACX_APP_SECRET).',
    );
    return { ...rest, api, token: tokenFacts };
  }
  if (tokenDead) {
    const rest = allSkipped(
      'the token is not valid (see token.valid)',
      'Run `wacx auth login` with a valid token.',
    );
    return { ...rest, api, token: tokenFacts };
  }

  // 2. Everything else, in parallel.
  const wabaId = c.wabaId.value;
  const pnId = c.phoneNumberId.value;
  const subscriptionsAppId = appId ?? (tokenFacts.state === 'ok' ? tokenFacts.value.debug.app_id : null);
  const noWaba = skipped<never>('no WABA id configured (see waba.reachable)');

  const wabaP: Promise<Gathered<WabaFacts>> = wabaId
    ? client
        .requestWithHeaders({
          method: 'GET',
          path: graphPath(wabaId),
          query: { fields: [...WABA_FIELDS].join(',') },
          signal,
          answer: ANSWERS.waba,
        })
        .then((r) =>
          ok({
            node: r.data,
            usage: parseBusinessUseCaseUsage(r.headers['x-business-use-case-usage'], wabaId),
          }),
        )
        .catch((e) => failed<WabaFacts>(e))
    : Promise.resolve(noWaba);
  const subscribedP: Promise<Gathered<SubscribedApp[]>> = wabaId
    ? graph.waba.subscribedApps(wabaId).then(ok, (e) => failed<SubscribedApp[]>(e))
    : Promise.resolve(noWaba);
  const appSubsP: Promise<Gathered<AppSubscription[]>> =
    subscriptionsAppId && appSecret
      ? graph.appSubscriptions
          .list(subscriptionsAppId, `${subscriptionsAppId}|${appSecret}`)
          .then(ok, (e) => failed<AppSubscription[]>(e))
      : Promise.resolve(
          skipped(
            appSecret
              ? 'no app id: the app webhook fields are read with the app token APP_ID|APP_SECRET'
              : 'no app secret: the app webhook fields are read with the app token APP_ID|APP_SECRET',
            appSecret
              ? 'Set the app id: `wacx config set appId ID`.'
              : 'Set WACX_APP_SECRET (App Dashboard › App settings › Basic).',
          ),
        );
  // whatsapp_business_manager_messaging_limit exists from v24.0; older versions reject unknown fields.
  const phoneFields = PHONE_NUMBER_FIELDS.filter(
    (f) => f !== 'whatsapp_business_manager_messaging_limit' || versionMajor(c.apiVersion.value) >= 24,
  );
  const phoneP: Promise<Gathered<PhoneNumber>> = pnId
    ? graph.phoneNumbers.get(pnId, phoneFields, signal).then(ok, (e) => failed<PhoneNumber>(e))
    : Promise.resolve(skipped('no phone number id configured (see number.reachable)'));
  const numbersP: Promise<Gathered<PhoneNumber[]>> =
    !pnId && wabaId
      ? collect(
          graph.phoneNumbers.list(wabaId, ['id', 'display_phone_number', 'is_on_biz_app', 'platform_type']),
        ).then(ok, (e) => failed<PhoneNumber[]>(e))
      : Promise.resolve(skipped(pnId ? 'a phone number id is configured' : 'no WABA id configured'));
  const templatesP: Promise<Gathered<MessageTemplate[]>> = wabaId
    ? collect(graph.templates.list(wabaId, {}, TEMPLATE_DOCTOR_FIELDS)).then(ok, (e) =>
        failed<MessageTemplate[]>(e),
      )
    : Promise.resolve(noWaba);

  const [waba, subscribedApps, appSubscriptions, phone, wabaNumbers, templates] = await Promise.all([
    wabaP,
    subscribedP,
    appSubsP,
    phoneP,
    numbersP,
    templatesP,
  ]);
  return { api, token: tokenFacts, waba, subscribedApps, appSubscriptions, phone, wabaNumbers, templates };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/**
 * Gathers every fact once: configuration, API (GET only), then the webhook store (a local read), scoped to the
 * profile's WABA and number (the number's display digits come from the API when it answered).
 */
export async function gatherFacts(input: GatherInput): Promise<DoctorFacts> {
  const config = await gatherConfig(input.config);
  const api = await gatherApi(input, config);
  const display = api.phone.state === 'ok' ? api.phone.value.display_phone_number : undefined;
  const digits = display ? display.replace(/\D/g, '') : '';
  const store = await gatherStore(input, config.phoneNumberId.value ?? undefined, {
    wabaId: config.wabaId.value ?? undefined,
    phoneNumber: digits || undefined,
  });
  return {
    now: input.now,
    nodeVersion: input.nodeVersion ?? process.version,
    config,
    ...api,
    store,
    agent: await gatherAgent(input),
    consent: await gatherConsent(input),
    marketing: await gatherMarketing(input, config.wabaId.value, api.waba),
  };
}
