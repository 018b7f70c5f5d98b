import { existsSync } from 'node:fs';
import { ConfigError, UsageError } from '../errors.js';
import { DEFAULT_PROFILE, PROFILE_NAME, type ProfileData, ProfileStore } from './profiles.js';
import { mask, Redactor } from './redact.js';
import { type KeychainProbe, noKeychainReason, probeKeychain, type SecretBackend } from './secrets.js';
import {
  type Resolved,
  resolveSetting,
  SECRET_ENV,
  SECRET_KEYS,
  SETTING_ENV,
  SETTING_FLAG,
  SETTING_KEYS,
  type SecretKey,
  type SettingKey,
  type Source,
  validateSetting,
} from './settings.js';

export * from './profiles.js';
export * from './redact.js';
export type { KeychainProbe, SecretBackend } from './secrets.js';
export * from './settings.js';

export interface ConfigOptions {
  env: NodeJS.ProcessEnv;
  /** Values given on the command line (highest precedence). */
  flags?: Partial<Record<SettingKey, string | undefined>> & { profile?: string | undefined };
  redactor?: Redactor;
  /** Prints a warning for people (stderr). */
  warn?: (message: string) => void;
  /**
   * Injected secret backend (tests, or a backend already opened by the caller); null = no keychain.
   * By default the OS keychain when available (see secrets.ts), opened on first use.
   */
  keychain?: KeychainInput | Promise<KeychainInput | undefined>;
  /**
   * The running command may create the profile (`auth login`, `config set`, `onboard`, the webhook receiver and
   * import, which create its store); for every other one a profile named by --profile or WACX_PROFILE that has
   * neither settings nor a store is an error, not an empty profile.
   */
  createsProfile?: boolean;
  /** The profiles file already opened by the Config this one derives from (withFlags). */
  profileStore?: ProfileStore;
}

type KeychainInput = SecretBackend | KeychainProbe | null;

function asProbe(input: KeychainInput | undefined, env: NodeJS.ProcessEnv): KeychainProbe {
  if (input && 'get' in input) return { backend: input };
  return input ?? { backend: undefined, why: noKeychainReason(env) };
}

/** Where stored secrets go: the keychain (by name), or the 0600 file and why. */
export type SecretStorage = { kind: 'keychain'; name: string } | { kind: 'file'; path: string; why: string };

export interface DescribedValue {
  key: string;
  value: string | null;
  source: Source;
  secret: boolean;
}

/** Where a stored secret went, or was removed from. */
export type SecretStore = 'keychain' | 'file';

/**
 * Resolved configuration for one run: which profile, each setting with its source
 * (flag > env > profile > default), and secrets (env > OS keychain > 0600 file).
 * Every secret it sees is registered with the redactor before it can be printed.
 */
export class Config {
  readonly env: NodeJS.ProcessEnv;
  readonly redactor: Redactor;
  private readonly flags: NonNullable<ConfigOptions['flags']>;
  private readonly warn: (message: string) => void;
  private store: ProfileStore | undefined;
  private keychain: Promise<KeychainProbe> | undefined;
  private warnedFileFallback = false;
  private readonly options: ConfigOptions;

  constructor(options: ConfigOptions) {
    this.options = options;
    this.env = options.env;
    this.store = options.profileStore;
    this.flags = options.flags ?? {};
    this.redactor = options.redactor ?? new Redactor();
    this.warn = options.warn ?? (() => {});
    if (options.keychain !== undefined) {
      this.keychain = Promise.resolve(options.keychain).then((k) => asProbe(k, this.env));
    }
    for (const key of SECRET_KEYS) this.redactor.add(this.env[SECRET_ENV[key]]);
    const explicit = this.flags.profile ?? this.env.WACX_PROFILE;
    const origin = this.flags.profile !== undefined ? '--profile' : 'WACX_PROFILE';
    if (explicit !== undefined && !PROFILE_NAME.test(explicit)) {
      throw new UsageError(
        explicit === ''
          ? 'Empty profile name.'
          : `Invalid profile name "${explicit}": use letters, digits, "-" and "_".`,
        { location: origin },
      );
    }
    if (
      explicit !== undefined &&
      !options.createsProfile &&
      explicit !== DEFAULT_PROFILE &&
      !this.profiles.get(explicit) &&
      !existsSync(this.profiles.profileDir(explicit))
    ) {
      const names = this.profiles.names();
      throw new UsageError(`Profile "${explicit}" does not exist.`, {
        location: origin,
        hint: `${names.length > 0 ? `Profiles: ${names.join(', ')}. ` : ''}Create it with \`wacx auth login --profile ${explicit}\`.`,
      });
    }
    // Secrets kept in the file are known to the redactor from the start, whatever the command prints.
    for (const profile of Object.values(this.profiles.all())) {
      for (const value of Object.values(profile.secrets ?? {})) this.redactor.add(value);
    }
  }

  get profiles(): ProfileStore {
    this.store ??= new ProfileStore(this.env);
    return this.store;
  }

  get profileName(): string {
    return this.flags.profile || this.env.WACX_PROFILE || this.profiles.currentProfile() || DEFAULT_PROFILE;
  }

  /** Where the profile name came from. */
  get profileSource(): 'flag' | 'env' | 'profile' | 'default' {
    if (this.flags.profile) return 'flag';
    if (this.env.WACX_PROFILE) return 'env';
    return this.profiles.currentProfile() !== DEFAULT_PROFILE ? 'profile' : 'default';
  }

  profile(): ProfileData | undefined {
    return this.profiles.get(this.profileName);
  }

  /**
   * A setting with its source, checked where it entered: a malformed id, version or URL from a flag, the
   * environment or the profile file is a UsageError naming that place, never silently used or ignored.
   */
  setting(key: SettingKey): Resolved {
    const resolved = resolveSetting(key, {
      flags: this.flags,
      env: this.env,
      profile: this.profile()?.settings ?? {},
    });
    if (resolved.value === undefined || resolved.source === 'default') return resolved;
    return { ...resolved, value: validateSetting(key, resolved.value, this.origin(key, resolved.source)) };
  }

  /** Where a value came from, as a user would look for it: the flag, the variable, or the profile file. */
  private origin(key: SettingKey, source: Source): string {
    if (source === 'flag') return SETTING_FLAG[key];
    if (source === 'env') return SETTING_ENV[key];
    return `${this.profiles.path} (profile "${this.profileName}", ${key})`;
  }

  /**
   * This configuration with a command's own flags on top (`--waba-id`…): a new Config, so a value given by a flag
   * flows forward to whoever is handed it, and nothing is parked for later.
   */
  withFlags(flags: Partial<Record<SettingKey, string | undefined>>): Config {
    const given = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
    return new Config({
      ...this.options,
      flags: { ...this.flags, ...given },
      createsProfile: true,
      profileStore: this.profiles,
      keychain: this.probe(),
    });
  }

  get(key: SettingKey): string | undefined {
    return this.setting(key).value;
  }

  /** A setting that must be present; the error names the flag, env var and config key to set. */
  require(key: SettingKey, flag?: string): string {
    const value = this.get(key);
    if (value) return value;
    const ways = [
      flag ? `pass ${flag}` : undefined,
      `set ${SETTING_ENV[key]}`,
      `or run \`wacx config set ${key} VALUE\``,
    ]
      .filter(Boolean)
      .join(', ');
    throw new ConfigError(`No ${key} configured for profile "${this.profileName}".`, {
      hint: `To fix: ${ways}.`,
    });
  }

  /** The secret backend (OS keychain) when one is available; undefined means the 0600 file. */
  async backend(): Promise<SecretBackend | undefined> {
    return (await this.probe()).backend;
  }

  private probe(): Promise<KeychainProbe> {
    this.keychain ??= probeKeychain(this.env);
    return this.keychain;
  }

  /** Where `setSecret` puts secrets on this machine, and why: for `auth status` and the fallback warning. */
  async secretStorage(): Promise<SecretStorage> {
    const { backend, why } = await this.probe();
    if (backend) return { kind: 'keychain', name: backend.name ?? 'the OS keychain' };
    return { kind: 'file', path: this.profiles.path, why: why ?? noKeychainReason(this.env) };
  }

  async secret(key: SecretKey): Promise<Resolved> {
    const fromEnv = this.env[SECRET_ENV[key]];
    if (fromEnv) return { value: fromEnv, source: 'env' };
    const keychain = await this.backend();
    if (keychain) {
      const value = await keychain.get(this.profileName, key).catch(() => undefined);
      if (value) {
        this.redactor.add(value);
        return { value, source: 'keychain' };
      }
    }
    const fromFile = this.profile()?.secrets?.[key];
    if (fromFile) {
      this.redactor.add(fromFile);
      return { value: fromFile, source: 'file' };
    }
    return { value: undefined, source: 'unset' };
  }

  async requireToken(): Promise<string> {
    const { value } = await this.secret('token');
    if (value) return value;
    throw new ConfigError(`No access token for profile "${this.profileName}".`, {
      hint: 'Run `wacx auth login`, set WACX_TOKEN, or try everything locally with --sandbox.',
    });
  }

  /**
   * Stores a secret in the OS keychain when available, else in the 0600 config file (with a one-time warning).
   * The profile is created when new.
   */
  async setSecret(key: SecretKey, value: string): Promise<SecretStore> {
    this.redactor.add(value);
    const keychain = await this.backend();
    if (keychain) {
      try {
        await keychain.set(this.profileName, key, value);
        // Some keychains accept a write they cannot give back (locked, session-only): read it back.
        if ((await keychain.get(this.profileName, key)) !== value)
          throw new Error('keychain read-back mismatch');
        this.profiles.update(this.profileName, (p) => {
          if (p.secrets) delete p.secrets[key];
        });
        return 'keychain';
      } catch {
        // fall through to the file
      }
    }
    this.profiles.update(this.profileName, (p) => {
      p.secrets = { ...p.secrets, [key]: value };
    });
    this.warnFileFallbackOnce(keychain ? 'the OS keychain refused the write' : (await this.probe()).why);
    return 'file';
  }

  /** Removes the stored secrets (keychain and file) of a profile; returns what was removed and from where. */
  async deleteSecrets(profile: string = this.profileName): Promise<{ key: SecretKey; from: SecretStore }[]> {
    const removed: { key: SecretKey; from: SecretStore }[] = [];
    const keychain = await this.backend();
    if (keychain) {
      for (const key of SECRET_KEYS) {
        const present = await keychain.get(profile, key).catch(() => undefined);
        if (present === undefined) continue;
        await keychain.delete(profile, key);
        removed.push({ key, from: 'keychain' });
      }
    }
    const inFile = this.profiles.get(profile)?.secrets ?? {};
    const fileKeys = SECRET_KEYS.filter((k) => inFile[k]);
    if (fileKeys.length > 0) {
      this.profiles.update(profile, (p) => {
        delete p.secrets;
      });
      for (const key of fileKeys) removed.push({ key, from: 'file' });
    }
    return removed;
  }

  /** Registers every stored secret (all profiles, keychain and file) with the redactor. */
  async registerStoredSecrets(): Promise<void> {
    const keychain = await this.backend();
    for (const profile of this.profileNames()) {
      for (const key of SECRET_KEYS) {
        this.redactor.add(this.profiles.get(profile)?.secrets?.[key]);
        if (keychain) this.redactor.add(await keychain.get(profile, key).catch(() => undefined));
      }
    }
  }

  /** Stores a setting in the profile (creating the profile when new); undefined removes it. */
  setSetting(key: SettingKey, value: string | undefined): void {
    this.profiles.update(this.profileName, (p) => {
      if (value === undefined) delete p.settings[key];
      else p.settings[key] = value;
    });
  }

  /** The names of the profiles in the file, plus the active one. */
  profileNames(): string[] {
    return [...new Set([...this.profiles.names(), this.profileName])].sort();
  }

  /** Every setting and secret with its source, secrets redacted: for `config list` and `auth status`. */
  async describe(): Promise<DescribedValue[]> {
    const rows: DescribedValue[] = SETTING_KEYS.map((key) => {
      // Listing shows a stored value even when it is invalid: that is how the user finds and fixes it.
      const r = resolveSetting(key, {
        flags: this.flags,
        env: this.env,
        profile: this.profile()?.settings ?? {},
      });
      return { key, value: r.value ?? null, source: r.source, secret: false };
    });
    for (const key of SECRET_KEYS) {
      const r = await this.secret(key);
      rows.push({ key, value: r.value ? mask(r.value) : null, source: r.source, secret: true });
    }
    return rows;
  }

  private warnFileFallbackOnce(why = noKeychainReason(this.env)): void {
    if (this.warnedFileFallback) return;
    this.warnedFileFallback = true;
    this.warn(
      `Secrets for profile "${this.profileName}" are kept in ${this.profiles.path} (mode 0600) because ${why}. On shared machines prefer WACX_TOKEN / WACX_APP_SECRET in the environment.`,
    );
  }
}
