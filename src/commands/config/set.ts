import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { passwordInUrl } from '../../lib/config/redact.js';
import { parseSettingKey, SETTING_ENV, SETTING_KEYS, validateSetting } from '../../lib/config/settings.js';
import { ExitCode } from '../../lib/errors.js';

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description('Change a setting of the profile (the profile is created when new)')
      .argument('<key>', `one of ${SETTING_KEYS.join(', ')}`)
      .argument('<value>', 'the new value (checked: vNN.0 versions, https or loopback URLs, numeric ids)')
      .addHelpText(
        'after',
        `
Examples:
  $ wacx config set wabaId 106540352242922
  $ wacx config set apiVersion v25.0
  $ wacx config set graphUrl http://127.0.0.1:8787 --profile local`,
      );
  },
  run: (deps, key: string, value: string) => run(key, value, deps),
});

export async function run(input: string, rawValue: string, deps: Deps): Promise<number> {
  const key = parseSettingKey(input, 'store');
  let value = validateSetting(key, rawValue);
  const location = key === 'database' ? await import('../../lib/store/location.js') : undefined;
  if (location) value = location.canonicalLocation(location.parseStoreLocation(value, 'database'));
  const config = deps.config();
  const created = !config.profile();
  // a database URL's password is kept like the token (keychain, else the 0600 file), never in the settings
  const password = key === 'database' ? passwordInUrl(value) : undefined;
  const passwordStore = password === undefined ? null : await config.setSecret('databasePassword', password);
  if (password !== undefined && location) value = location.withoutPassword(value);
  config.setSetting(key, value);
  const effective = config.setting(key);
  const overriddenBy = effective.source === 'profile' ? null : effective.source;
  if (deps.globals.json) {
    deps.io.printJson({
      profile: config.profileName,
      key,
      value,
      created,
      overriddenBy,
      effective: effective.value ?? null,
      ...(passwordStore ? { passwordStoredIn: passwordStore } : {}),
    });
    return ExitCode.OK;
  }
  deps.io.success(
    `Set ${key} = ${value} for profile "${config.profileName}"${created ? ' (new profile)' : ''}.`,
  );
  if (passwordStore)
    deps.io.info(
      `The password is kept as the secret databasePassword (${passwordStore === 'keychain' ? 'OS keychain' : 'config file, mode 0600'}).`,
    );
  if (overriddenBy === 'env') {
    deps.io.warn(`${SETTING_ENV[key]} is set in the environment and takes precedence (${effective.value}).`);
  } else if (overriddenBy === 'flag') {
    deps.io.warn(`A flag on this command line takes precedence (${effective.value}).`);
  }
  return ExitCode.OK;
}
