import type { Source } from '../config/settings.js';
import type {
  AppSubscription,
  DebugTokenData,
  MessageTemplate,
  PhoneNumber,
  SubscribedApp,
  Waba,
} from '../graph/types.js';
import type { BusinessUseCaseUsage } from '../graph/usage.js';
import type { HistoryStatus } from '../history/queries.js';
import type { SyncHealth } from '../webhooks/queries.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';
export const CHECK_GROUPS = ['Set-up', 'Token', 'WABA', 'Number', 'Sync health', 'Templates'] as const;
export type CheckGroup = (typeof CHECK_GROUPS)[number];

/** One line of the doctor's report, exactly what `--json` prints (keys always present). */
export interface CheckResult {
  /** Stable id, e.g. `token.valid`. */
  id: string;
  group: CheckGroup;
  status: CheckStatus;
  title: string;
  /** What was found (for a skipped check: why it was skipped). */
  detail: string;
  /** What to do about it; null when there is nothing to do. */
  fix: string | null;
}

export interface Outcome {
  status: CheckStatus;
  detail: string;
  fix?: string | null;
}

/** Why something could not be gathered from the API. */
export interface GatherError {
  message: string;
  /** Graph error code, when the API answered with one. */
  code: number | null;
  status: number | null;
  /** The request never got an answer (connection refused, DNS, timeout). */
  network: boolean;
}

/** A fact that was read, not attempted (with why), or attempted and failed. */
export type Gathered<T> =
  | { state: 'ok'; value: T }
  | { state: 'skipped'; reason: string; fix: string | null }
  | { state: 'error'; error: GatherError };

export interface SettingFact {
  value: string | null;
  source: Source;
}

export interface ConfigFacts {
  profileName: string;
  profileExists: boolean;
  /** Names of all saved profiles. */
  profileNames: string[];
  configPath: string;
  /** Permission bits of the config file, null when it does not exist. */
  configMode: number | null;
  /** The config file holds secrets (keychain fallback). */
  configHoldsSecrets: boolean;
  graphUrl: SettingFact;
  apiVersion: SettingFact;
  appId: SettingFact;
  wabaId: SettingFact;
  phoneNumberId: SettingFact;
  token: { present: boolean; source: Source };
  appSecret: { present: boolean; source: Source };
}

export interface ProbeFacts {
  /** Local wall-clock time when the request left and when the answer came back (ms). */
  sentAt: number;
  receivedAt: number;
  /** The API's Date header, parsed (ms), or null when absent. */
  serverDate: number | null;
}

export interface TokenFacts {
  debug: DebugTokenData;
  /** Which token inspected it: the app token APP_ID|APP_SECRET, or the token itself. */
  via: 'app' | 'self';
  /** Set when the app token was refused and the token itself was used instead. */
  appTokenError: string | null;
}

/** One entry of X-Business-Use-Case-Usage for the WABA. */
export type { BusinessUseCaseUsage } from '../graph/usage.js';

export interface WabaFacts {
  node: Waba;
  /** Parsed X-Business-Use-Case-Usage entries for this WABA; null when the header was absent. */
  usage: BusinessUseCaseUsage[] | null;
}

/** From the webhook store (src/lib/webhooks/queries.ts) and the history import's state (src/lib/history/queries.ts). */
export interface StoreFacts {
  path: string;
  /** false when no database exists yet (nothing was ever received); the doctor never creates one. */
  exists: boolean;
  health: SyncHealth;
  /** The history import and contact sync of the configured number (or of every number). */
  history: HistoryStatus;
}

/** What the webhook store has seen of Meta Business Agent (meta-cloud-api.md §15.5). */
export interface AgentFacts {
  standbyEvents: number;
  handoverEvents: number;
  /** received_at of the last `standby` event (ms), null when none. */
  lastStandbyAt: number | null;
}

/** Marketing campaigns' messages sent to recipients with no opt-in recorded before the send (consent register). */
export interface ConsentFacts {
  campaigns: { id: string; recipients: number }[];
}

/** The WABA's Marketing Messages API fields (meta-cloud-api.md §15.3); null when the API left a field out. */
export interface MarketingFacts {
  /** `marketing_messages_onboarding_status`, raw (its exact values are not documented). */
  onboardingStatus: string | null;
  /** `disable_marketing_messages_on_cloud_api`: MARKETING templates on /messages fail with 131063. */
  blockedOnMessages: boolean | null;
}

/** Everything the doctor reads, gathered once (all reads, no writes), then evaluated by pure checks. */
export interface DoctorFacts {
  /** Logical time of the run (deps.clock), ms. */
  now: number;
  nodeVersion: string;
  config: ConfigFacts;
  /** Whether API checks ran: skipped with --offline, without a token, or when the Graph URL is invalid. */
  api: Gathered<ProbeFacts>;
  token: Gathered<TokenFacts>;
  waba: Gathered<WabaFacts>;
  subscribedApps: Gathered<SubscribedApp[]>;
  appSubscriptions: Gathered<AppSubscription[]>;
  phone: Gathered<PhoneNumber>;
  /** The WABA's numbers, read only when no phone number id is configured (to suggest one). */
  wabaNumbers: Gathered<PhoneNumber[]>;
  templates: Gathered<MessageTemplate[]>;
  store: Gathered<StoreFacts>;
  /** Meta Business Agent events in the store (absent: not gathered). */
  agent?: Gathered<AgentFacts>;
  /** Marketing sends without a recorded opt-in (absent: not gathered). */
  consent?: Gathered<ConsentFacts>;
  /** The WABA's Marketing Messages API state (absent: not gathered). */
  marketing?: Gathered<MarketingFacts>;
}

export interface DoctorOptions {
  /** Warn when the last sign of Business App activity is older than this many days (default 10). */
  activityWarnDays: number;
  /** Fail when it is older than this many days (default 13; Meta disconnects after about 14). */
  activityFailDays: number;
  /** History import with no new chunk for this long, before progress 100, is "stalled" (default 6 h). */
  historyStallMs: number;
  /** Clock skew that warns / fails (ms). */
  skewWarnMs: number;
  skewFailMs: number;
  /** Warn when the API version ends within this many days (default 90). */
  versionWarnDays: number;
  /** Warn when the token expires within this many days (default 7). */
  tokenWarnDays: number;
  /** Check ids or groups (id prefixes like `templates`) to skip. */
  skip: string[];
}

export const DEFAULT_DOCTOR_OPTIONS: DoctorOptions = {
  activityWarnDays: 10,
  activityFailDays: 13,
  historyStallMs: 6 * 3_600_000,
  skewWarnMs: 60_000,
  skewFailMs: 300_000,
  versionWarnDays: 90,
  tokenWarnDays: 7,
  skip: [],
};

/** A check: a stable id, its group and title, and a pure function of the gathered facts. */
export interface CheckDefinition {
  id: string;
  group: CheckGroup;
  title: string;
  run(facts: DoctorFacts, options: DoctorOptions): Outcome;
}
