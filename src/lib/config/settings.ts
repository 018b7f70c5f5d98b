import { UsageError } from '../errors.js';
import {
  API_VERSION_PATTERN,
  DEFAULT_API_VERSION,
  DEFAULT_GRAPH_URL,
  validateBaseUrl,
} from '../graph/url.js';

/** Non-secret settings of a profile. */
export const SETTING_KEYS = [
  'graphUrl',
  'apiVersion',
  'appId',
  'wabaId',
  'phoneNumberId',
  'configId',
  'businessId',
] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];
export const SECRET_KEYS = ['token', 'appSecret'] as const;
export type SecretKey = (typeof SECRET_KEYS)[number];

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
};
export const SECRET_ENV: Record<SecretKey, string> = { token: 'WACX_TOKEN', appSecret: 'WACX_APP_SECRET' };

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
  token: 'Access token (secret)',
  appSecret: 'App secret (secret)',
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

/**
 * Checks a value before it is stored (`wacx config set`): API version form, https (or loopback http) Graph URL,
 * numeric Meta ids. Returns the normalised value; throws a UsageError naming the key.
 */
export function validateSetting(key: SettingKey, raw: string): string {
  const value = raw.trim();
  if (value === '')
    throw new UsageError(`Empty value for ${key}.`, {
      hint: `To remove it, run \`wacx config unset ${key}\`.`,
    });
  switch (key) {
    case 'apiVersion': {
      // accept 25, v25, 25.0 for v25.0
      const m = /^v?(\d{2})(?:\.0)?$/i.exec(value);
      const v = m ? `v${m[1]}.0` : value;
      if (!API_VERSION_PATTERN.test(v)) {
        throw new UsageError(`Invalid apiVersion "${value}": use the form v25.0.`, {
          hint: `The default is ${DEFAULT_API_VERSION}; see Meta's Graph API changelog for the versions still available.`,
        });
      }
      return v;
    }
    case 'graphUrl': {
      try {
        return validateBaseUrl(value).href.replace(/\/+$/, '');
      } catch (error) {
        throw new UsageError((error as Error).message, { hint: (error as { hint?: string }).hint });
      }
    }
    default:
      if (!NUMERIC_ID.test(value)) {
        throw new UsageError(`Invalid ${key} "${value}": Meta ids are numbers, e.g. 106540352242922.`, {
          hint: `Copy the ${SETTING_DESCRIPTIONS[key]} from Meta's App Dashboard or WhatsApp Manager.`,
        });
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
