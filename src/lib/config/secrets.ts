import type { SecretKey } from './settings.js';

/** Where secrets live when not in the environment. */
export interface SecretBackend {
  readonly kind: 'keychain' | 'file';
  /** For people: "macOS Keychain", "Secret Service (D-Bus)"… */
  readonly name?: string;
  get(profile: string, key: SecretKey): Promise<string | undefined>;
  set(profile: string, key: SecretKey, value: string): Promise<void>;
  delete(profile: string, key: SecretKey): Promise<void>;
}

/** The outcome of looking for a persistent OS keychain: the backend, or why secrets go to the 0600 file. */
export interface KeychainProbe {
  backend: SecretBackend | undefined;
  /** Set when there is no backend: a reason a person can act on. */
  why?: string;
}

const SERVICE = 'wacx';

interface KeyringEntry {
  getPassword(): string | null;
  setPassword(password: string): void;
  deletePassword(): boolean;
}
export interface KeyringModule {
  Entry: {
    new (service: string, account: string): KeyringEntry;
    withTarget(target: string, service: string, account: string): KeyringEntry;
  };
}

/** What the probe needs from the machine; injectable for tests. */
export interface KeychainSystem {
  platform: NodeJS.Platform;
  load(): Promise<KeyringModule>;
}

const nodeSystem: KeychainSystem = {
  platform: process.platform,
  load: async () => (await import('@napi-rs/keyring' as string)) as KeyringModule,
};

const NAMES: Partial<Record<NodeJS.Platform, string>> = {
  darwin: 'macOS Keychain',
  win32: 'Windows Credential Manager',
};

function keychainDisabled(env: NodeJS.ProcessEnv): boolean {
  return env.WACX_KEYCHAIN === '0' || env.WACX_KEYCHAIN === 'false';
}

/** Why there is no backend when none was looked for or given. */
export function noKeychainReason(env: NodeJS.ProcessEnv): string {
  return keychainDisabled(env)
    ? 'the OS keychain is disabled (WACX_KEYCHAIN=0)'
    : 'no OS keychain is available';
}

/**
 * @napi-rs/keyring on Linux uses Secret Service when it can connect to one over the D-Bus session bus,
 * and otherwise silently falls back to the kernel keyring (keyutils), which is emptied at reboot.
 * Only the keyutils store rejects the "target" modifier, so building (not writing) an entry with one
 * tells which store the library picked.
 */
function linuxStoreIsPersistent(mod: KeyringModule): boolean {
  try {
    mod.Entry.withTarget(SERVICE, SERVICE, '__probe__');
    return true;
  } catch {
    return false;
  }
}

/**
 * Looks for a persistent OS keychain through @napi-rs/keyring: macOS Keychain, Windows Credential Manager,
 * or Secret Service over D-Bus (Linux, BSD). The kernel keyring is not one: it forgets at reboot, and a
 * cron job would then find no token. WACX_KEYCHAIN=0 disables the keychain (tests, CI, headless servers).
 */
export async function probeKeychain(
  env: NodeJS.ProcessEnv,
  system: KeychainSystem = nodeSystem,
): Promise<KeychainProbe> {
  if (keychainDisabled(env)) return { backend: undefined, why: noKeychainReason(env) };
  let mod: KeyringModule;
  try {
    mod = await system.load();
  } catch {
    return { backend: undefined, why: 'the OS keychain module could not be loaded' };
  }
  if (system.platform === 'linux' && !linuxStoreIsPersistent(mod)) {
    const bus = env.DBUS_SESSION_BUS_ADDRESS
      ? 'no Secret Service answers on the D-Bus session bus'
      : 'no Secret Service: no D-Bus session';
    return { backend: undefined, why: `no persistent keychain on this machine (${bus})` };
  }
  const entry = (profile: string, key: SecretKey) => new mod.Entry(SERVICE, `${profile}:${key}`);
  try {
    // Probe: fails fast when no keychain daemon is reachable.
    entry('__probe__', 'token').getPassword();
  } catch {
    return { backend: undefined, why: 'the OS keychain did not answer' };
  }
  return {
    backend: {
      kind: 'keychain',
      name: NAMES[system.platform] ?? 'Secret Service (D-Bus)',
      get: async (profile, key) => entry(profile, key).getPassword() ?? undefined,
      set: async (profile, key, value) => entry(profile, key).setPassword(value),
      delete: async (profile, key) => {
        try {
          entry(profile, key).deletePassword();
        } catch {
          // absent already
        }
      },
    },
  };
}

/** The persistent OS keychain, or undefined (secrets then go to the 0600 file). */
export async function openKeychain(
  env: NodeJS.ProcessEnv,
  system?: KeychainSystem,
): Promise<SecretBackend | undefined> {
  return (await probeKeychain(env, system)).backend;
}
