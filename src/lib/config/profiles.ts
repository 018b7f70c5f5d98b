import { chmodSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Conf from 'conf';
import type { SecretKey, SettingKey } from './settings.js';

export interface ProfileData {
  settings: Partial<Record<SettingKey, string>>;
  /** Fallback secret storage when no keychain is available (file mode 0600). */
  secrets?: Partial<Record<SecretKey, string>>;
}
interface ConfigFile {
  currentProfile?: string;
  profiles: Record<string, ProfileData>;
}

export const DEFAULT_PROFILE = 'default';
export const PROFILE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The profiles file (conf), always mode 0600 because it may hold secrets.
 * Location: $WACX_CONFIG_DIR, else the platform config dir (XDG_CONFIG_HOME/wacx on Linux).
 */
export class ProfileStore {
  private readonly conf: Conf<ConfigFile>;

  constructor(env: NodeJS.ProcessEnv) {
    this.conf = new Conf<ConfigFile>({
      projectName: 'wacx',
      projectSuffix: '',
      ...(env.WACX_CONFIG_DIR ? { cwd: env.WACX_CONFIG_DIR } : {}),
      configName: 'config',
      configFileMode: 0o600,
      defaults: { profiles: {} },
    });
  }

  get path(): string {
    return this.conf.path;
  }
  get dir(): string {
    return join(this.conf.path, '..');
  }
  exists(): boolean {
    return existsSync(this.conf.path);
  }
  /** The file's permission bits, or undefined when it does not exist. */
  mode(): number | undefined {
    return this.exists() ? statSync(this.conf.path).mode & 0o777 : undefined;
  }

  currentProfile(): string {
    return this.conf.get('currentProfile') ?? DEFAULT_PROFILE;
  }
  setCurrentProfile(name: string): void {
    this.conf.set('currentProfile', name);
    this.fixMode();
  }
  names(): string[] {
    return Object.keys(this.conf.get('profiles') ?? {}).sort();
  }
  get(name: string): ProfileData | undefined {
    return this.conf.get('profiles')?.[name];
  }
  update(name: string, change: (p: ProfileData) => void): ProfileData {
    const profiles = { ...(this.conf.get('profiles') ?? {}) };
    const profile: ProfileData = structuredClone(profiles[name] ?? { settings: {} });
    change(profile);
    profiles[name] = profile;
    this.conf.set('profiles', profiles);
    this.fixMode();
    return profile;
  }
  remove(name: string): boolean {
    const profiles = { ...(this.conf.get('profiles') ?? {}) };
    if (!(name in profiles)) return false;
    delete profiles[name];
    this.conf.set('profiles', profiles);
    return true;
  }

  /** conf writes atomically through a temp file; make sure the result is 0600 even on an old file. */
  private fixMode(): void {
    if (this.exists() && this.mode() !== 0o600) chmodSync(this.conf.path, 0o600);
  }
}
