import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { phoneNumberIdOption, wabaIdOption } from '../../cli/flags.js';
import type { TokenCheck } from '../../lib/auth/check.js';
import type { SecretStore } from '../../lib/config/config.js';
import { type SettingKey, validateSetting } from '../../lib/config/settings.js';
import { ConfigError, ExitCode, UsageError } from '../../lib/errors.js';

export interface LoginOptions {
  token?: string;
  tokenStdin?: boolean;
  appId?: string;
  appSecret?: string;
  wabaId?: string;
  phoneNumberId?: string;
  graphUrl?: string;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Check an access token with Meta, then store it (OS keychain, else the 0600 config file) for a profile',
      )
      .option('--token <token>', 'access token (visible in `ps`: prefer --token-stdin)')
      .option('--token-stdin', 'read the access token from stdin')
      .option('--app-id <id>', 'Meta app id (with --app-secret the token is inspected with debug_token)')
      .option(
        '--app-secret <secret>',
        'app secret: enables appsecret_proof and debug_token (stored as a secret)',
      )
      .addOption(wabaIdOption('WhatsApp Business Account id to store in the profile'))
      .addOption(phoneNumberIdOption('business phone number id to store in the profile'))
      .option('--graph-url <url>', 'Graph API base URL (https, or http on loopback for a local sandbox)')
      .addHelpText(
        'after',
        `
On a terminal, missing values are asked for; otherwise pass them as flags.
Nothing is stored unless Meta accepts the token.

Examples:
  $ wacx auth login
  $ printf %s "$TOKEN" | wacx auth login --token-stdin --waba-id 106540352242922
  $ wacx auth login --profile staging --token-stdin --app-id 123 --app-secret "$APP_SECRET" < token.txt`,
      );
  },
  run: (deps, opts: LoginOptions) => run(opts, deps),
});

/** Strips a pasted `Bearer ` prefix and refuses values that cannot be a token. */
function cleanToken(raw: string, flag: string): string {
  const token = raw.trim().replace(/^Bearer\s+/i, '');
  if (!token) throw new UsageError('The access token is empty.', { location: flag });
  if (/\s/.test(token))
    throw new UsageError('The access token contains spaces or line breaks.', { location: flag });
  return token;
}

function checked(key: SettingKey, value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    return validateSetting(key, value);
  } catch (error) {
    if (error instanceof UsageError)
      throw new UsageError(error.message, { location: flag, hint: error.hint });
    throw error;
  }
}

export async function run(opts: LoginOptions, deps: Deps): Promise<number> {
  const { checkToken, describeCheck } = await import('../../lib/auth/check.js');
  if (opts.token !== undefined && opts.tokenStdin) {
    throw new UsageError('Pass either --token or --token-stdin, not both.', { location: '--token-stdin' });
  }
  // Values given on this run (flags, then prompts): only these are written to the profile.
  const given: Partial<Record<SettingKey, string>> = {};
  const flagValues: [SettingKey, string | undefined, string][] = [
    ['graphUrl', opts.graphUrl, '--graph-url'],
    ['appId', opts.appId, '--app-id'],
    ['wabaId', opts.wabaId, '--waba-id'],
    ['phoneNumberId', opts.phoneNumberId, '--phone-number-id'],
  ];
  for (const [key, value, flag] of flagValues) {
    const v = checked(key, value, flag);
    if (v !== undefined) given[key] = v;
  }
  let appSecret = opts.appSecret?.trim() || undefined;
  if (opts.appSecret !== undefined && !appSecret) {
    throw new UsageError('The app secret is empty.', { location: '--app-secret' });
  }
  if (appSecret) deps.redactor.add(appSecret);

  let token: string;
  if (opts.token !== undefined) token = cleanToken(opts.token, '--token');
  else if (opts.tokenStdin) token = cleanToken(await deps.io.readStdin(), '--token-stdin');
  else
    token = cleanToken(
      await deps.prompter.password({ message: 'Access token', flag: '--token or --token-stdin' }),
      '--token',
    );
  deps.redactor.add(token);

  // The values given on this run flow forward as flags on top of the profile (nothing is written yet).
  let config = deps.config().withFlags(given);
  if (deps.io.interactive) {
    const ask = async (key: SettingKey, message: string, flag: string) => {
      if (given[key] !== undefined) return;
      const current = config.get(key);
      const answer = await deps.prompter.input({
        message,
        flag,
        ...(current ? { default: current } : {}),
        validate: (v) => {
          if (v.trim() === '') return true;
          try {
            validateSetting(key, v);
            return true;
          } catch (error) {
            return (error as Error).message;
          }
        },
      });
      if (answer.trim() && answer.trim() !== current) given[key] = validateSetting(key, answer);
    };
    await ask(
      'appId',
      'Meta app id (optional, with the app secret it lets wacx inspect the token)',
      '--app-id',
    );
    const knownSecret = appSecret ?? (await config.secret('appSecret')).value;
    if ((given.appId ?? config.get('appId')) && !knownSecret) {
      const answer = await deps.prompter.password({
        message: 'App secret (optional, leave empty to skip)',
        flag: '--app-secret',
      });
      if (answer.trim()) {
        appSecret = answer.trim();
        deps.redactor.add(appSecret);
      }
    }
    await ask('wabaId', 'WhatsApp Business Account id (optional)', '--waba-id');
    await ask('phoneNumberId', 'Business phone number id (optional)', '--phone-number-id');
    config = deps.config().withFlags(given);
  }

  const settings = config;
  const storedSecret = appSecret ? undefined : (await settings.secret('appSecret')).value;
  const effectiveSecret = appSecret ?? storedSecret;
  const graph = await deps.graph({ config: settings, token, appSecret: effectiveSecret ?? null });
  const spinner = await deps.io.spinner('Checking the token with Meta…');
  let check: TokenCheck;
  try {
    check = await checkToken(graph, {
      token,
      appId: settings.get('appId'),
      appSecret: effectiveSecret,
      wabaId: settings.get('wabaId'),
      phoneNumberId: settings.get('phoneNumberId'),
      signal: deps.signal,
    });
  } catch (error) {
    spinner.stop();
    throw error;
  }
  for (const w of check.warnings) deps.io.warn(w);
  if (!check.valid) {
    spinner.stop();
    throw new ConfigError(
      `The token is not valid (nothing was saved): ${check.error?.message ?? 'rejected by Meta'}`,
      {
        hint: 'Generate a new token (Business Settings › System users) and run `wacx auth login` again.',
      },
    );
  }
  spinner.succeed(`Token accepted: ${describeCheck(check)}`);

  // Only now, with a token Meta accepted, write anything.
  if (!given.wabaId && !settings.get('wabaId') && check.wabaIds?.length === 1) {
    given.wabaId = check.wabaIds[0]!;
    deps.io.info(`Using WABA ${given.wabaId}, the only one the token may manage.`);
  }
  const stored: { token: SecretStore; appSecret: SecretStore | null } = {
    token: await settings.setSecret('token', token),
    appSecret: appSecret ? await settings.setSecret('appSecret', appSecret) : null,
  };
  for (const [key, value] of Object.entries(given) as [SettingKey, string][]) settings.setSetting(key, value);

  const where = (s: SecretStore) => (s === 'keychain' ? 'the OS keychain' : settings.profiles.path);
  if (deps.env.WACX_TOKEN) {
    deps.io.warn('WACX_TOKEN is set in the environment: it takes precedence over the stored token.');
  }
  if (deps.globals.json) {
    deps.io.printJson({
      profile: settings.profileName,
      valid: true,
      check,
      stored,
      saved: {
        graphUrl: given.graphUrl ?? null,
        appId: given.appId ?? null,
        wabaId: given.wabaId ?? null,
        phoneNumberId: given.phoneNumberId ?? null,
      },
      configPath: settings.profiles.path,
    });
  } else {
    deps.io.success(
      `Logged in to profile "${settings.profileName}"; token stored in ${where(stored.token)}.`,
    );
    const saved = Object.entries(given).map(([k, v]) => `${k}=${v}`);
    if (saved.length) deps.io.info(`  Saved ${saved.join(', ')}.`);
    if (stored.appSecret) deps.io.info(`  App secret stored in ${where(stored.appSecret)}.`);
  }
  return ExitCode.OK;
}
