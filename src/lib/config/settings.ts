import { DEFAULT_API_VERSION, DEFAULT_GRAPH_URL } from '../graph/client.js';

/** Non-secret settings of a profile. */
export const SETTING_KEYS = ['graphUrl', 'apiVersion', 'appId', 'wabaId', 'phoneNumberId', 'configId', 'businessId'] as const;
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
  layers: { flags: Partial<Record<SettingKey, string | undefined>>; env: NodeJS.ProcessEnv; profile: Partial<Record<SettingKey, string>> },
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
