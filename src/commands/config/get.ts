import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { parseSettingKey, SETTING_KEYS } from '../../lib/config/settings.js';
import { ExitCode } from '../../lib/errors.js';

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description('Print one setting on stdout (exit 1 when it is not set)')
      .argument('<key>', `one of ${SETTING_KEYS.join(', ')}`)
      .addHelpText(
        'after',
        `
The value is resolved like every command does: flag > environment (WACX_*) > profile > default.
Secrets are never printed: see \`wacx auth status\`.

Examples:
  $ wacx config get wabaId
  $ WABA=$(wacx config get wabaId --profile prod)
  $ wacx config get apiVersion --json`,
      );
  },
  run: (deps, key: string) => run(key, deps),
});

export async function run(input: string, deps: Deps): Promise<number> {
  const key = parseSettingKey(input, 'print');
  const config = deps.config();
  const resolved = config.setting(key);
  if (deps.globals.json) {
    deps.io.printJson({
      profile: config.profileName,
      key,
      value: resolved.value ?? null,
      source: resolved.source,
    });
  } else if (resolved.value !== undefined) {
    deps.io.out(resolved.value);
  } else {
    deps.io.info(`${key} is not set for profile "${config.profileName}".`);
  }
  return resolved.value === undefined ? ExitCode.FAILED : ExitCode.OK;
}
