import type { SecretKey } from './settings.js';

/** Where secrets live when not in the environment. */
export interface SecretBackend {
  readonly kind: 'keychain' | 'file';
  get(profile: string, key: SecretKey): Promise<string | undefined>;
  set(profile: string, key: SecretKey, value: string): Promise<void>;
  delete(profile: string, key: SecretKey): Promise<void>;
}

const SERVICE = 'wacx';

interface KeyringEntry {
  getPassword(): string | null;
  setPassword(password: string): void;
  deletePassword(): boolean;
}
type KeyringModule = { Entry: new (service: string, account: string) => KeyringEntry };

/**
 * The OS keychain through @napi-rs/keyring, when the module loads and a keychain answers
 * (on Linux it needs a Secret Service on D-Bus). Returns undefined otherwise.
 * WACX_KEYCHAIN=0 disables it (tests, CI, headless servers).
 */
export async function openKeychain(env: NodeJS.ProcessEnv): Promise<SecretBackend | undefined> {
  if (env.WACX_KEYCHAIN === '0' || env.WACX_KEYCHAIN === 'false') return undefined;
  let mod: KeyringModule;
  try {
    mod = (await import('@napi-rs/keyring' as string)) as KeyringModule;
  } catch {
    return undefined;
  }
  const entry = (profile: string, key: SecretKey) => new mod.Entry(SERVICE, `${profile}:${key}`);
  try {
    // Probe: fails fast when no keychain daemon is reachable.
    entry('__probe__', 'token').getPassword();
  } catch {
    return undefined;
  }
  return {
    kind: 'keychain',
    get: async (profile, key) => entry(profile, key).getPassword() ?? undefined,
    set: async (profile, key, value) => entry(profile, key).setPassword(value),
    delete: async (profile, key) => {
      try {
        entry(profile, key).deletePassword();
      } catch {
        // absent already
      }
    },
  };
}
