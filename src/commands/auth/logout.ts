import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { ExitCode } from '../../lib/errors.js';

export interface LogoutOptions {
  all?: boolean;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        "Forget a profile's stored secrets (token and app secret, from the OS keychain and the config file)",
      )
      .option('--all', 'forget the secrets of every profile')
      .addHelpText(
        'after',
        `
Settings (ids, URL, version) are kept. Secrets given through WACX_TOKEN / WACX_APP_SECRET are not stored
by wacx: unset them yourself.

Examples:
  $ wacx auth logout
  $ wacx auth logout --profile staging
  $ wacx auth logout --all`,
      );
  },
  run: (deps, opts: LogoutOptions) => run(opts, deps),
});

export async function run(opts: LogoutOptions, deps: Deps): Promise<number> {
  const config = deps.config();
  const profiles = opts.all ? config.profileNames() : [config.profileName];
  const results: { profile: string; removed: { key: string; from: string }[] }[] = [];
  for (const profile of profiles) results.push({ profile, removed: await config.deleteSecrets(profile) });
  const envSecrets = ['WACX_TOKEN', 'WACX_APP_SECRET'].filter((k) => deps.env[k]);

  if (deps.globals.json) {
    deps.io.printJson({ profiles: results, environment: envSecrets });
    return ExitCode.OK;
  }
  for (const r of results) {
    if (r.removed.length === 0) {
      deps.io.info(`Profile "${r.profile}": no stored secrets.`);
      continue;
    }
    const what = r.removed.map((x) => `${x.key} (${x.from === 'keychain' ? 'OS keychain' : 'config file'})`);
    deps.io.success(`Profile "${r.profile}": removed ${what.join(', ')}.`);
  }
  if (envSecrets.length) {
    deps.io.warn(
      `${envSecrets.join(' and ')} ${envSecrets.length > 1 ? 'are' : 'is'} still set in the environment.`,
    );
  }
  return ExitCode.OK;
}
