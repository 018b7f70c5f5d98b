import { ConfigError, UsageError } from '../errors.js';
import { DEFAULT_PROFILE, PROFILE_NAME, type ProfileData, ProfileStore } from './profiles.js';
import { Redactor } from './redact.js';
import { openKeychain, type SecretBackend } from './secrets.js';
import {
  type Resolved,
  resolveSetting,
  SECRET_ENV,
  SECRET_KEYS,
  type SecretKey,
  SETTING_ENV,
  SETTING_KEYS,
  type SettingKey,
} from './settings.js';

export * from './profiles.js';
export * from './redact.js';
export * from './settings.js';

export interface ConfigOptions {
  env: NodeJS.ProcessEnv;
  /** Values given on the command line (highest precedence). */
  flags?: Partial<Record<SettingKey, string | undefined>> & { profile?: string | undefined };
  redactor?: Redactor;
  /** Prints a warning for people (stderr). */
  warn?: (message: string) => void;
  /** Injected secret backend (tests); by default the OS keychain when available. */
  keychain?: SecretBackend | null;
}

/**
 * Resolved configuration for one run: which profile, each setting with its source
 * (flag > env > profile > default), and secrets (env > OS keychain > 0600 file).
 */
export class Config {
  readonly env: NodeJS.ProcessEnv;
  readonly redactor: Redactor;
  private readonly flags: NonNullable<ConfigOptions['flags']>;
  private readonly warn: (message: string) => void;
  private store: ProfileStore | undefined;
  private keychain: Promise<SecretBackend | undefined> | undefined;
  private warnedFileFallback = false;

  constructor(options: ConfigOptions) {
    this.env = options.env;
    this.flags = options.flags ?? {};
    this.redactor = options.redactor ?? new Redactor();
    this.warn = options.warn ?? (() => {});
    if (options.keychain !== undefined) this.keychain = Promise.resolve(options.keychain ?? undefined);
    for (const key of SECRET_KEYS) this.redactor.add(this.env[SECRET_ENV[key]]);
    const name = this.profileName;
    if (!PROFILE_NAME.test(name)) {
      throw new UsageError(`Invalid profile name "${name}": use letters, digits, "-" and "_".`, { location: '--profile' });
    }
  }

  get profiles(): ProfileStore {
    this.store ??= new ProfileStore(this.env);
    return this.store;
  }

  get profileName(): string {
    return this.flags.profile || this.env.WACX_PROFILE || (this.store ?? this.profiles).currentProfile() || DEFAULT_PROFILE;
  }

  profile(): ProfileData | undefined {
    return this.profiles.get(this.profileName);
  }

  setting(key: SettingKey): Resolved {
    return resolveSetting(key, { flags: this.flags, env: this.env, profile: this.profile()?.settings ?? {} });
  }

  get(key: SettingKey): string | undefined {
    return this.setting(key).value;
  }

  /** A setting that must be present; the error names the flag, env var and config key to set. */
  require(key: SettingKey, flag?: string): string {
    const value = this.get(key);
    if (value) return value;
    const ways = [flag ? `pass ${flag}` : undefined, `set ${SETTING_ENV[key]}`, `or run \`wacx config set ${key} VALUE\``]
      .filter(Boolean)
      .join(', ');
    throw new ConfigError(`No ${key} configured for profile "${this.profileName}".`, { hint: `To fix: ${ways}.` });
  }

  private backend(): Promise<SecretBackend | undefined> {
    this.keychain ??= openKeychain(this.env);
    return this.keychain;
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
      this.warnFileFallbackOnce();
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

  /** Stores a secret in the keychain when available, else in the 0600 config file. */
  async setSecret(key: SecretKey, value: string): Promise<'keychain' | 'file'> {
    this.redactor.add(value);
    const keychain = await this.backend();
    if (keychain) {
      try {
        await keychain.set(this.profileName, key, value);
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
    this.warnFileFallbackOnce();
    return 'file';
  }

  async deleteSecrets(): Promise<void> {
    const keychain = await this.backend();
    for (const key of SECRET_KEYS) await keychain?.delete(this.profileName, key);
    if (this.profile()) {
      this.profiles.update(this.profileName, (p) => {
        delete p.secrets;
      });
    }
  }

  setSetting(key: SettingKey, value: string | undefined): void {
    this.profiles.update(this.profileName, (p) => {
      if (value === undefined) delete p.settings[key];
      else p.settings[key] = value;
    });
  }

  /** Every setting and secret with its source, secrets redacted: for `config list` and `auth status`. */
  async describe(): Promise<{ key: string; value: string | null; source: string; secret: boolean }[]> {
    const rows: { key: string; value: string | null; source: string; secret: boolean }[] = SETTING_KEYS.map((key) => {
      const r = this.setting(key);
      return { key, value: r.value ?? null, source: r.source, secret: false };
    });
    for (const key of SECRET_KEYS) {
      const r = await this.secret(key);
      rows.push({ key, value: r.value ? this.redactor.redact(r.value) : null, source: r.source, secret: true });
    }
    return rows;
  }

  private warnFileFallbackOnce(): void {
    if (this.warnedFileFallback) return;
    this.warnedFileFallback = true;
    this.warn(
      `No OS keychain available: secrets for profile "${this.profileName}" are kept in ${this.profiles.path} (mode 0600). Prefer WACX_TOKEN / WACX_APP_SECRET in the environment on shared machines.`,
    );
  }
}
