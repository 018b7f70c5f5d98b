import { resolve as resolvePath } from 'node:path';
import { UsageError } from '../errors.js';
import { SECRET_ENV, SECRET_KEYS, type SecretKey } from './secret-keys.js';

export { SECRET_ENV, SECRET_KEYS, type SecretKey };

import {
  API_VERSION_PATTERN,
  DEFAULT_API_VERSION,
  DEFAULT_GRAPH_URL,
  validateBaseUrl,
} from '../graph/url.js';
import { LATEST_KNOWN_VERSION, oldestKnownVersion, versionMajor } from '../graph/versions.js';

/** Non-secret settings of a profile. */
export const SETTING_KEYS = [
  'graphUrl',
  'apiVersion',
  'appId',
  'wabaId',
  'phoneNumberId',
  'configId',
  'businessId',
  'rateCard',
  'database',
] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];

export type Source = 'flag' | 'env' | 'profile' | 'keychain' | 'file' | 'default' | 'unset';
export interface Resolved<T = string> {
  value: T | undefined;
  source: Source;
}

export const SETTING_ENV: Record<SettingKey, string> = {
  graphUrl: 'WACX_GRAPH_URL',
  apiVersion: 'WACX_API_VERSION',
  appId: 'WACX_APP_ID',
  wabaId: 'WACX_WABA_ID',
  phoneNumberId: 'WACX_PHONE_NUMBER_ID',
  configId: 'WACX_CONFIG_ID',
  businessId: 'WACX_BUSINESS_ID',
  rateCard: 'WACX_RATE_CARD',
  database: 'WACX_DATABASE_URL',
};

export const SETTING_DEFAULTS: Partial<Record<SettingKey, string>> = {
  graphUrl: DEFAULT_GRAPH_URL,
  apiVersion: DEFAULT_API_VERSION,
};

export const SETTING_DESCRIPTIONS: Record<SettingKey | SecretKey, string> = {
  graphUrl: 'Graph API base URL',
  apiVersion: 'Graph API version, e.g. v25.0',
  appId: 'Meta app id',
  wabaId: 'WhatsApp Business Account id',
  phoneNumberId: 'Business phone number id',
  configId: 'Embedded Signup configuration id',
  businessId: 'Business portfolio id',
  rateCard: "Meta's rate card (CSV file) for cost estimates",
  database: "The store: sqlite:PATH (default: the profile's file) or postgres://USER@HOST/DB",
  token: 'Access token (secret)',
  appSecret: 'App secret (secret)',
  databasePassword: 'PostgreSQL password of the database setting (secret)',
};

export function isSettingKey(key: string): key is SettingKey {
  return (SETTING_KEYS as readonly string[]).includes(key);
}
export function isSecretKey(key: string): key is SecretKey {
  return (SECRET_KEYS as readonly string[]).includes(key);
}

/** flag > env > profile > default, with the source of the winning value. */
export function resolveSetting(
  key: SettingKey,
  layers: {
    flags: Partial<Record<SettingKey, string | undefined>>;
    env: NodeJS.ProcessEnv;
    profile: Partial<Record<SettingKey, string>>;
  },
): Resolved {
  const flag = layers.flags[key];
  if (flag !== undefined && flag !== '') return { value: flag, source: 'flag' };
  const env = layers.env[SETTING_ENV[key]];
  if (env !== undefined && env !== '') return { value: env, source: 'env' };
  const prof = layers.profile[key];
  if (prof !== undefined && prof !== '') return { value: prof, source: 'profile' };
  const def = SETTING_DEFAULTS[key];
  if (def !== undefined) return { value: def, source: 'default' };
  return { value: undefined, source: 'unset' };
}

/** Every key (settings and secrets) by its lower-case spelling. */
const KEY_ALIASES: Record<string, SettingKey | SecretKey> = Object.fromEntries(
  [...SETTING_KEYS, ...SECRET_KEYS].map((k) => [k.toLowerCase(), k]),
);

/**
 * The canonical key for what a user typed: `graphUrl`, `graph-url`, `graph_url` and `GRAPHURL` all name
 * graphUrl; the env var name (WACX_GRAPH_URL) works too. Undefined when unknown.
 */
export function normalizeKey(input: string): SettingKey | SecretKey | undefined {
  const bare = input
    .trim()
    .replace(/^WACX_/i, '')
    .replace(/[-_\s]/g, '')
    .toLowerCase();
  return KEY_ALIASES[bare] ?? (bare === 'accesstoken' ? 'token' : undefined);
}

const NUMERIC_ID = /^\d{1,32}$/;

/** The command-line flag that sets each key, for messages that name where a bad value came from. */
export const SETTING_FLAG: Record<SettingKey, string> = {
  graphUrl: '--graph-url',
  apiVersion: '--api-version',
  appId: '--app-id',
  wabaId: '--waba-id',
  phoneNumberId: '--phone-number-id',
  configId: '--config-id',
  businessId: '--business-id',
  rateCard: '--rate-card',
  database: '--database',
};

/** A Graph API version: the form vNN.0 (also 25, v25, 25.0), a version Meta has published or the next one. */
function validateApiVersion(value: string): string {
  const m = /^v?(\d{1,3})(?:\.0)?$/i.exec(value);
  const version = m ? `v${Number(m[1])}.0` : value;
  const known = `Known versions: ${oldestKnownVersion()} to ${LATEST_KNOWN_VERSION}; the default is ${DEFAULT_API_VERSION}.`;
  if (!API_VERSION_PATTERN.test(version))
    throw new UsageError(`Invalid API version "${value}": use the form ${DEFAULT_API_VERSION}.`, {
      hint: known,
    });
  const major = Number(m![1]);
  if (major > versionMajor(LATEST_KNOWN_VERSION) + 1)
    throw new UsageError(`Graph API ${version} does not exist yet.`, { hint: known });
  if (major < versionMajor(oldestKnownVersion()))
    throw new UsageError(`Graph API ${version} has expired: Meta no longer answers it.`, { hint: known });
  return version;
}

/**
 * Checks a setting's value wherever it enters (flag, environment, profile file, `wacx config set`): API
 * version form and range, https (or loopback http) Graph URL, numeric Meta ids. Returns the normalised
 * value; throws a UsageError whose location names where the value came from.
 */
export function validateSetting(key: SettingKey, raw: string, origin?: string): string {
  const value = raw.trim();
  const located = (error: unknown): UsageError => {
    const e = error as UsageError;
    return new UsageError(e.message, { hint: e.hint, ...(origin ? { location: origin } : {}) });
  };
  if (value === '')
    throw located(
      new UsageError(`Empty value for ${key}.`, {
        hint: `To remove it, run \`wacx config unset ${key}\`.`,
      }),
    );
  switch (key) {
    case 'apiVersion':
      try {
        return validateApiVersion(value);
      } catch (error) {
        throw located(error);
      }
    case 'graphUrl':
      try {
        return validateBaseUrl(value).href.replace(/\/+$/, '');
      } catch (error) {
        throw located(error);
      }
    case 'rateCard':
      // a profile keeps the absolute path, so that the card is found from any directory
      return resolvePath(value);
    case 'database':
      // parsed where it is used (store/location.ts), which names the flag, variable or setting it came from
      return value;
    default:
      if (!NUMERIC_ID.test(value)) {
        throw located(
          new UsageError(`Invalid ${key} "${value}": Meta ids are numbers, e.g. 106540352242922.`, {
            hint: `Copy the ${SETTING_DESCRIPTIONS[key]} from Meta's App Dashboard or WhatsApp Manager.`,
          }),
        );
      }
      return value;
  }
}

/**
 * The setting key named by a `config get|set|unset` argument; a UsageError for unknown keys and for secrets
 * (which only `wacx auth login` stores and nothing prints).
 */
export function parseSettingKey(input: string, verb: 'print' | 'store' | 'remove'): SettingKey {
  const key = normalizeKey(input);
  if (key === undefined) {
    throw new UsageError(`Unknown setting "${input}".`, { hint: `Settings: ${SETTING_KEYS.join(', ')}.` });
  }
  if (isSecretKey(key)) {
    throw new UsageError(`"${key}" is a secret: wacx does not ${verb} secrets with \`config\`.`, {
      hint: 'Use `wacx auth login` to store it, `wacx auth logout` to forget it, `wacx auth status` to see its source.',
    });
  }
  return key;
}
