import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'List every setting of the profile with its value and where it comes from (flag, env, profile, default)',
      )
      .addHelpText(
        'after',
        `
Secrets are shown redacted. Precedence: flag > environment (WACX_*) > profile > default.

Examples:
  $ wacx config list
  $ wacx config list --profile staging --json`,
      );
  },
  run: (deps) => run(deps),
});

export async function run(deps: Deps): Promise<number> {
  const config = deps.config();
  const rows = await config.describe();
  if (deps.globals.json) {
    deps.io.printJson({
      profile: config.profileName,
      profileSource: config.profileSource,
      path: config.profiles.path,
      profiles: config.profileNames(),
      settings: rows,
    });
    return 0;
  }
  deps.io.info(`Profile ${deps.io.style.bold(config.profileName)} (${config.profiles.path})`);
  deps.io.table(
    ['KEY', 'VALUE', 'SOURCE'],
    rows.map((r) => [r.key, r.value ?? '-', r.source]),
  );
  return 0;
}
