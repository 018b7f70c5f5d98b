import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type Conf from 'conf';
import { ConfigError, UsageError } from '../errors.js';
import { fsReason, makeDirectory } from '../files.js';
import type { SecretKey, SettingKey } from './settings.js';

export interface ProfileData {
  settings: Partial<Record<SettingKey, string>>;
  /** Fallback secret storage when no keychain is available (file mode 0600). */
  secrets?: Partial<Record<SecretKey, string>>;
}
interface ConfigFile {
  currentProfile?: string;
  profiles?: Record<string, ProfileData>;
}

export const DEFAULT_PROFILE = 'default';
export const PROFILE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
/** Permission bits of the profiles file: it may hold secrets. */
export const CONFIG_FILE_MODE = 0o600;

type ConfConstructor = typeof Conf;
let confConstructor: ConfConstructor | undefined;

/**
 * Loads `conf` (and its schema validator) ahead of a write. It costs ~50 ms, so it is never imported at start-up,
 * nor to read the profiles: the CLI awaits this before a command that writes a profile runs.
 */
export async function preloadConf(): Promise<void> {
  if (confConstructor) return;
  const dropNewHandlers = signalHandlerSnapshot();
  confConstructor = (await import('conf')).default;
  dropNewHandlers();
}

const HANDLED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGBREAK'] as const;

/**
 * conf's atomic writes load when-exit, which hooks every signal and re-raises it on the process: with the
 * CLI's own handler in place, that second signal reads as a person's second Ctrl+C and forces exit 130
 * in the middle of a graceful shutdown. Signals are the CLI's business: the returned function drops the
 * handlers added since the snapshot (when-exit still cleans its temp files on 'exit').
 */
function signalHandlerSnapshot(): () => void {
  const before = new Map(HANDLED_SIGNALS.map((s) => [s, process.listeners(s)] as const));
  return () => {
    for (const [signal, listeners] of before) {
      for (const l of process.listeners(signal))
        if (!listeners.includes(l)) process.removeListener(signal, l);
    }
  };
}

function loadConf(): ConfConstructor {
  if (!confConstructor) {
    // Outside the CLI (library use, unit tests) without preloadConf(): Node >= 20.19 can require() ESM.
    try {
      const require = createRequire(import.meta.url);
      const before = new Map(HANDLED_SIGNALS.map((s) => [s, process.listeners(s)] as const));
      confConstructor = (require('conf') as { default: ConfConstructor }).default;
      for (const [signal, listeners] of before) {
        for (const l of process.listeners(signal))
          if (!listeners.includes(l)) process.removeListener(signal, l);
      }
    } catch (error) {
      throw new ConfigError('The profile store is not loaded.', {
        hint: 'Call `await preloadConf()` before opening profiles (Node < 20.19 cannot require ES modules).',
        cause: error,
      });
    }
  }
  return confConstructor;
}

/**
 * The directory holding `config.json` (and each profile's database): $WACX_CONFIG_DIR, else the platform's
 * config directory computed from the given env (never from process.env, so tests can point HOME elsewhere):
 * $XDG_CONFIG_HOME/wacx or ~/.config/wacx on Linux, ~/Library/Preferences/wacx on macOS, %APPDATA%\wacx on Windows.
 */
export function configDir(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  if (env.WACX_CONFIG_DIR) return env.WACX_CONFIG_DIR;
  const home = env.HOME || env.USERPROFILE || homedir();
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'wacx');
  if (platform === 'darwin') return join(home, 'Library', 'Preferences', 'wacx');
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), 'wacx');
}

function unreadable(path: string, error: unknown): ConfigError {
  return new ConfigError(`Cannot read the configuration file ${path}: ${(error as Error).message}`, {
    hint: 'Fix or delete the file (it is JSON), then log in again with `wacx auth login`.',
    cause: error,
  });
}

/**
 * The profiles file (conf), always mode 0600 because it may hold secrets; the directory is created 0700.
 * Reading never writes the file: it appears with the first change.
 */
export class ProfileStore {
  /** conf, made on the first write: reading needs none of it (see read()). */
  private conf: Conf<ConfigFile> | undefined;
  readonly dir: string;
  readonly path: string;

  /** The directory was given by WACX_CONFIG_DIR (errors then name the variable). */
  private readonly fromEnv: boolean;

  constructor(env: NodeJS.ProcessEnv) {
    this.dir = configDir(env);
    this.path = join(this.dir, 'config.json');
    this.fromEnv = Boolean(env.WACX_CONFIG_DIR);
    // private from the start (conf, on the first write, would create it with the default mode)
    this.ensureDir();
  }

  /** The profile's own directory (its database), beside the config file. */
  profileDir(name: string): string {
    return join(this.dir, 'profiles', name);
  }
  exists(): boolean {
    return existsSync(this.path);
  }
  /** The file's permission bits, or undefined when it does not exist. */
  mode(): number | undefined {
    return this.exists() ? statSync(this.path).mode & 0o777 : undefined;
  }

  private ensureDir(): void {
    if (existsSync(this.dir)) return;
    try {
      makeDirectory(this.dir);
    } catch (error) {
      const message = `Cannot create the configuration directory ${this.dir}: ${fsReason(error)}.`;
      if (this.fromEnv) throw new UsageError(message, { location: 'WACX_CONFIG_DIR', cause: error });
      throw new ConfigError(message, {
        hint: 'Set WACX_CONFIG_DIR to a directory you can write.',
        cause: error,
      });
    }
  }

  /**
   * The file as conf reads it (JSON; none yet: no profiles), without conf: loading conf and its schema validator
   * costs ~50 ms of every command's start, and only the commands that change a profile write.
   */
  private read(): ConfigFile {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw unreadable(this.path, error);
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw unreadable(this.path, error);
    }
    if (typeof data !== 'object' || data === null || Array.isArray(data)) {
      throw unreadable(this.path, new Error('it is not a JSON object'));
    }
    return data as ConfigFile;
  }

  /** conf writes the file atomically, with our mode. */
  private write(data: ConfigFile): void {
    this.ensureDir();
    this.writer().store = data;
    this.ensureMode();
  }

  private writer(): Conf<ConfigFile> {
    if (this.conf) return this.conf;
    const ConfClass = loadConf();
    try {
      this.conf = new ConfClass<ConfigFile>({
        projectName: 'wacx',
        projectSuffix: '',
        cwd: this.dir,
        configName: 'config',
        configFileMode: CONFIG_FILE_MODE,
      });
    } catch (error) {
      throw unreadable(this.path, error);
    }
    return this.conf;
  }

  currentProfile(): string {
    return this.read().currentProfile ?? DEFAULT_PROFILE;
  }
  setCurrentProfile(name: string): void {
    this.write({ ...this.read(), currentProfile: name });
  }
  names(): string[] {
    return Object.keys(this.read().profiles ?? {}).sort();
  }
  get(name: string): ProfileData | undefined {
    const profile = this.read().profiles?.[name];
    return profile ? { ...profile, settings: profile.settings ?? {} } : undefined;
  }
  /** All profiles, as stored. */
  all(): Record<string, ProfileData> {
    return this.read().profiles ?? {};
  }
  /** Changes one profile (creating it when new) and writes the file. */
  update(name: string, change: (p: ProfileData) => void): ProfileData {
    const data = this.read();
    const profiles = { ...(data.profiles ?? {}) };
    const profile: ProfileData = structuredClone(profiles[name] ?? { settings: {} });
    profile.settings ??= {};
    change(profile);
    if (profile.secrets && Object.keys(profile.secrets).length === 0) delete profile.secrets;
    profiles[name] = profile;
    this.write({ ...data, profiles });
    return profile;
  }
  remove(name: string): boolean {
    const data = this.read();
    const profiles = { ...(data.profiles ?? {}) };
    if (!(name in profiles)) return false;
    delete profiles[name];
    this.write({ ...data, profiles });
    return true;
  }

  /**
   * conf writes atomically through a temp file created with our mode, but an older file or an odd umask could
   * leave other bits: force 0600 after every write and check that it held.
   */
  private ensureMode(): void {
    if (process.platform === 'win32' || !this.exists()) return;
    if (this.mode() !== CONFIG_FILE_MODE) chmodSync(this.path, CONFIG_FILE_MODE);
    const mode = this.mode();
    if (mode !== CONFIG_FILE_MODE) {
      throw new ConfigError(
        `The configuration file ${this.path} has mode ${mode?.toString(8)}, not 600, and could not be fixed.`,
        { hint: `Run \`chmod 600 ${this.path}\`; it may hold secrets.` },
      );
    }
  }
}
