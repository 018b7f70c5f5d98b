import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import { type Clock, systemClock } from '../lib/clock.js';
import type { Config } from '../lib/config/config.js';
import { passwordInUrl, Redactor } from '../lib/config/redact.js';
import { SECRET_ENV, SECRET_KEYS } from '../lib/config/secret-keys.js';
import type { KeychainProbe, SecretBackend } from '../lib/config/secrets.js';
import type { Graph } from '../lib/graph/graph.js';
import { Io, type IoStreams } from '../lib/io/io.js';
import { inquirerPrompter, type Prompter } from '../lib/io/prompter.js';
import type { StoreLocation } from '../lib/store/location.js';
import type { Store } from '../lib/store/store.js';
import { VERSION } from '../lib/version.js';
import type { InProcessSandbox, WebhookSink } from '../sandbox/in-process.js';

/** How `Deps.graph()` builds a client; every Graph client of a run is built here. */
export interface GraphOptions {
  /** false: no token at all (public endpoints). */
  auth?: false;
  /** Use this token instead of the profile's (e.g. `auth login` checking one); null: none. */
  token?: string | null;
  /** Use this app secret instead of the profile's; null: none (no appsecret_proof). */
  appSecret?: string | null;
  /** Settings with a command's own flags on top (Config.withFlags); default: the run's configuration. */
  config?: Config;
  /** The HTTP transport (bulk sends use a keep-alive Pool sized to the in-flight window). */
  dispatcher?: Dispatcher;
  /**
   * false: Ctrl+C does not abort requests in flight (a bulk send lets them finish, so that no outcome becomes
   * unknown); default: it does.
   */
  abortOnSignal?: false;
}

interface ConfigModule {
  Config: typeof Config;
  probeKeychain: typeof import('../lib/config/secrets.js').probeKeychain;
  location: typeof import('../lib/store/location.js');
}

const DEFAULT_GLOBALS: GlobalOptions = {
  json: false,
  color: true,
  input: true,
  verbose: false,
  sandbox: false,
};

/** Global options, parsed by commander and applied before any command runs. */
export interface GlobalOptions {
  profile?: string;
  json: boolean;
  /** --jq: a jq filter over the JSON output (implies json). */
  jq?: string;
  color: boolean;
  input: boolean;
  verbose: boolean;
  apiVersion?: string;
  /** --database: the store's location (sqlite:PATH or postgres://…). */
  database?: string;
  sandbox: boolean;
  /** The command may create the profile it is given (see CommandSpec.createsProfile). */
  createsProfile?: boolean;
  /** The command may write the profiles file (it creates a profile, or changes one). */
  writesProfiles?: boolean;
}

export interface DepsInit {
  argv?: string[];
  env: NodeJS.ProcessEnv;
  streams: IoStreams;
  clock?: Clock;
  prompter?: Prompter;
  /** Aborted on Ctrl+C / SIGTERM by bin/wacx.js. */
  signal?: AbortSignal;
  /** Starts the in-process sandbox for --sandbox; injectable for tests. */
  startSandbox?: (env: NodeJS.ProcessEnv, webhookSink: WebhookSink) => Promise<InProcessSandbox>;
  /** The secret backend instead of the OS keychain (tests); null = none (the 0600 file). */
  keychain?: SecretBackend | KeychainProbe | null;
}

/**
 * The one dependency object, built only at the entry point. Expensive parts (config file, API client,
 * database, sandbox) are created on first use, so `wacx --help` touches none of them.
 */
export class Deps {
  readonly env: NodeJS.ProcessEnv;
  readonly io: Io;
  readonly clock: Clock;
  readonly prompter: Prompter;
  readonly signal: AbortSignal;
  readonly redactor: Redactor;
  readonly version = VERSION;
  /** The global options of this run (before argv is parsed: the defaults). */
  readonly globals: GlobalOptions;
  private configInstance: Config | undefined;
  private graphInstance: Graph | undefined;
  private storeInstance: Store | undefined;
  private sandbox: InProcessSandbox | undefined;
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  private readonly startSandboxImpl: (
    env: NodeJS.ProcessEnv,
    webhookSink: WebhookSink,
  ) => Promise<InProcessSandbox>;
  private readonly keychainInit: SecretBackend | KeychainProbe | null | undefined;
  private keychainBackend: Promise<KeychainProbe> | undefined;

  private readonly init: DepsInit;

  /**
   * `boot` is the Deps of the same run made before argv was parsed: its output streams and redactor (which may
   * already hold secrets) are shared, so what was printed and what is known stays one.
   */
  constructor(init: DepsInit, globals: GlobalOptions = DEFAULT_GLOBALS, boot?: Deps) {
    this.init = init;
    this.env = init.env;
    this.globals = globals;
    this.redactor = boot?.redactor ?? new Redactor();
    // Secrets in the environment are known before anything is printed, even a usage error.
    for (const key of SECRET_KEYS) this.redactor.add(init.env[SECRET_ENV[key]]);
    for (const url of [globals.database, init.env.WACX_DATABASE_URL]) this.redactor.add(passwordInUrl(url));
    this.keychainInit = init.keychain;
    this.keychainBackend = boot?.keychainBackend;
    this.io = boot?.io ?? new Io(init.streams, { env: init.env, redactor: this.redactor });
    this.io.configure(globals);
    this.clock = init.clock ?? systemClock;
    this.prompter = init.prompter ?? inquirerPrompter(this.io);
    this.signal = init.signal ?? new AbortController().signal;
    this.startSandboxImpl =
      init.startSandbox ??
      (async (env, webhookSink) => {
        const { startInProcessSandbox } = await import('../sandbox/in-process.js');
        return startInProcessSandbox({ env, webhookSink });
      });
  }

  /** The Deps of this run once its global options are known (this one stays as it was). */
  withGlobals(globals: GlobalOptions): Deps {
    return new Deps(this.init, globals, this);
  }

  /**
   * Called once before a command's action: loads what commands need but `wacx --help` must not pay for
   * (the profile store), and starts the in-process sandbox when --sandbox was given.
   */
  async prepare(): Promise<void> {
    await this.loadConfigModule();
    if (!this.globals.sandbox || this.sandbox) return;
    // The sandbox's webhooks go straight into this run's store. Deliveries made while it is still starting
    // (its seeded activity) are queued and stored as soon as the store can be opened.
    const early: { raw: string; headers: Record<string, string> }[] = [];
    let started = false;
    const sink: WebhookSink = async (raw, headers) => {
      if (!started) {
        early.push({ raw, headers });
        return 200;
      }
      return this.ingestSandboxWebhook(raw, headers);
    };
    const sandbox = await this.startSandboxImpl(this.env, sink);
    this.sandbox = sandbox;
    started = true;
    // `wacx … --sandbox | head -1` ends the process from the EPIPE handler, before any cleanup runs:
    // the throw-away directory must still go.
    const removeDir = () => rmSync(sandbox.configDir, { recursive: true, force: true });
    process.once('exit', removeDir);
    this.onCleanup(async () => {
      await sandbox.close();
      process.off('exit', removeDir);
    });
    for (const delivery of early.splice(0)) await this.ingestSandboxWebhook(delivery.raw, delivery.headers);
  }

  private async ingestSandboxWebhook(raw: string, headers: Record<string, string>): Promise<number> {
    const { ingestPayload } = await import('../lib/webhooks/storage.js');
    const store = await this.store();
    return ingestPayload(store.db, raw, {
      signature: headers['x-hub-signature-256'] ?? null,
      appSecret: this.sandbox?.secrets.appSecret ?? '',
      source: 'sandbox',
    }).httpStatus;
  }

  /**
   * Teaches the redactor every stored secret (keychain and file) before an error is printed, so that
   * even an error echoing user input cannot show them. Best effort: a broken config must not hide the error.
   */
  async primeRedactor(): Promise<void> {
    try {
      await this.loadConfigModule();
      await this.config().registerStoredSecrets();
    } catch {
      // the error being reported matters more
    }
  }

  /** The OS keychain (or the injected backend), opened once per run and shared by every Config. */
  private keychain(env: NodeJS.ProcessEnv): Promise<SecretBackend | KeychainProbe | null> {
    if (this.keychainInit !== undefined) return Promise.resolve(this.keychainInit);
    this.keychainBackend ??= this.configModule().probeKeychain(env);
    return this.keychainBackend;
  }

  private loadedConfig: ConfigModule | undefined;

  /**
   * The configuration modules (conf, the keychain probe) cost start-up time that `--help` must not pay: they load
   * before a command runs (prepare) or an error is reported (primeRedactor).
   */
  private async loadConfigModule(): Promise<void> {
    if (this.loadedConfig) return;
    const [index, profiles, secrets, location] = await Promise.all([
      import('../lib/config/config.js'),
      import('../lib/config/profiles.js'),
      import('../lib/config/secrets.js'),
      import('../lib/store/location.js'),
    ]);
    // reading the profiles needs no conf; writing does, and Node < 20.19 cannot require() it when the time comes
    if (this.globals.writesProfiles) await profiles.preloadConf();
    this.loadedConfig = { Config: index.Config, probeKeychain: secrets.probeKeychain, location };
  }

  private configModule(): ConfigModule {
    if (!this.loadedConfig)
      throw new Error('Deps.config() before prepare(): the configuration is not loaded.');
    return this.loadedConfig;
  }

  /** The webhook verify token: WACX_VERIFY_TOKEN, else the in-process sandbox's. */
  verifyToken(): string | undefined {
    return this.env.WACX_VERIFY_TOKEN ?? this.sandbox?.secrets.verifyToken;
  }

  config(): Config {
    if (!this.configInstance) {
      const sandbox = this.sandbox;
      const env = sandbox
        ? {
            ...this.env,
            WACX_TOKEN: sandbox.secrets.token,
            WACX_APP_SECRET: sandbox.secrets.appSecret,
            WACX_CONFIG_DIR: sandbox.configDir,
            WACX_KEYCHAIN: '0',
          }
        : this.env;
      this.configInstance = new (this.configModule().Config)({
        env,
        flags: {
          ...(sandbox ? sandbox.settings : {}),
          apiVersion: this.globals.apiVersion,
          database: this.globals.database,
          profile: this.globals.profile ?? (sandbox ? 'sandbox' : undefined),
        },
        redactor: this.redactor,
        warn: (m) => this.io.warn(m),
        keychain: sandbox ? null : this.keychain(env),
        createsProfile: sandbox !== undefined || this.globals.createsProfile,
      });
    }
    return this.configInstance;
  }

  /**
   * The typed API core, authenticated with the profile's token unless `auth: false`. `token` / `appSecret`
   * use those credentials instead of the stored ones (e.g. `auth login` checking a token before saving it);
   * such clients are not cached.
   */
  async graph(options: GraphOptions = {}): Promise<Graph> {
    const custom =
      options.token !== undefined ||
      options.appSecret !== undefined ||
      options.config !== undefined ||
      options.dispatcher !== undefined ||
      options.abortOnSignal === false;
    if (this.graphInstance && options.auth !== false && !custom) return this.graphInstance;
    const config = options.config ?? this.config();
    const token =
      options.auth === false || options.token === null
        ? undefined
        : (options.token ?? (await config.requireToken()));
    if (token) this.redactor.add(token);
    const appSecret =
      options.appSecret === null
        ? undefined
        : (options.appSecret ?? (await config.secret('appSecret')).value);
    if (appSecret) this.redactor.add(appSecret);
    const { Graph } = await import('../lib/graph/graph.js');
    const graph = Graph.create({
      baseUrl: config.get('graphUrl'),
      apiVersion: config.get('apiVersion'),
      token,
      appSecret,
      userAgent: `wacx/${this.version}`,
      clock: this.clock,
      trace: this.io.verbose ? (line) => this.io.debug(line) : undefined,
      ...(options.abortOnSignal === false ? {} : { signal: this.signal }),
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    this.onCleanup(() => graph.close());
    if (options.auth !== false && !custom) this.graphInstance = graph;
    return graph;
  }

  /**
   * Where the profile's state lives: --database, else WACX_DATABASE_URL, else WACX_DB (a SQLite path), else the
   * profile setting `database`, else `profiles/<name>/wacx.db` beside the config file. `origin` names the winner.
   */
  storeLocation(): { location: StoreLocation; origin: string | undefined } {
    const config = this.config();
    const chosen = config.setting('database');
    const given = chosen.value !== undefined && (chosen.source === 'flag' || chosen.source === 'env');
    if (!given && this.env.WACX_DB)
      return { location: { backend: 'sqlite', path: this.env.WACX_DB }, origin: 'WACX_DB' };
    if (chosen.value !== undefined) {
      const origin =
        chosen.source === 'flag'
          ? '--database'
          : chosen.source === 'env'
            ? 'WACX_DATABASE_URL'
            : 'the profile setting database';
      return { location: this.configModule().location.parseStoreLocation(chosen.value, origin), origin };
    }
    const path = join(config.profiles.profileDir(config.profileName), 'wacx.db');
    return { location: { backend: 'sqlite', path }, origin: undefined };
  }

  /** The store as it may be shown (a PostgreSQL URL without its password). */
  storeDescription(): string {
    return this.configModule().location.describeLocation(this.storeLocation().location);
  }

  /** Whether the store exists already (a SQLite file; a PostgreSQL database always does), without creating it. */
  storeExists(): boolean {
    const { location } = this.storeLocation();
    return location.backend === 'postgres' || location.path === ':memory:' || existsSync(location.path);
  }

  /** The store's location with the stored password (a secret: never to be shown), for opening it. */
  async storeConnection(): Promise<{ location: StoreLocation; origin: string | undefined }> {
    const { location, origin } = this.storeLocation();
    const password =
      location.backend === 'postgres' ? (await this.config().secret('databasePassword')).value : undefined;
    return { location: this.configModule().location.withPassword(location, password), origin };
  }

  /** The profile's store, migrated on first open. */
  async store(): Promise<Store> {
    if (!this.storeInstance) {
      const { location, origin } = await this.storeConnection();
      const { Store } = await import('../lib/store/store.js');
      this.storeInstance = Store.open(location, { origin });
      this.onCleanup(() => this.storeInstance?.close());
    }
    return this.storeInstance;
  }

  onCleanup(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  async cleanup(): Promise<void> {
    for (const fn of this.cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch {
        // best effort
      }
    }
  }
}
