import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { parseSettingKey, SETTING_KEYS } from '../../lib/config/settings.js';
import { ExitCode } from '../../lib/errors.js';

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description('Remove a setting from the profile (the default, if any, applies again)')
      .argument('<key>', `one of ${SETTING_KEYS.join(', ')}`)
      .addHelpText(
        'after',
        '\nExamples:\n  $ wacx config unset phoneNumberId\n  $ wacx config unset graphUrl --profile local',
      );
  },
  run: (deps, key: string) => run(key, deps),
});

export async function run(input: string, deps: Deps): Promise<number> {
  const key = parseSettingKey(input, 'remove');
  const config = deps.config();
  const had = config.profile()?.settings[key] !== undefined;
  if (had) config.setSetting(key, undefined);
  const effective = config.setting(key);
  if (deps.globals.json) {
    deps.io.printJson({
      profile: config.profileName,
      key,
      removed: had,
      value: effective.value ?? null,
      source: effective.source,
    });
    return ExitCode.OK;
  }
  if (had) deps.io.success(`Removed ${key} from profile "${config.profileName}".`);
  else deps.io.info(`${key} was not set in profile "${config.profileName}"; nothing to do.`);
  if (effective.value !== undefined)
    deps.io.info(`  ${key} is now ${effective.value} (${effective.source}).`);
  return ExitCode.OK;
}
