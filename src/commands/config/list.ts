import type { Command } from 'commander';
import { action } from '../../cli.js';
import type { Deps } from '../../lib/deps.js';

export function register(cmd: Command, deps: Deps): void {
  cmd.action(action(deps, () => run(deps)));
}

export async function run(deps: Deps): Promise<number> {
  const config = deps.config();
  const rows = await config.describe();
  if (deps.globals.json) {
    deps.io.printJson({ profile: config.profileName, path: config.profiles.path, settings: rows });
    return 0;
  }
  deps.io.info(`Profile ${deps.io.style.bold(config.profileName)} (${config.profiles.path})`);
  deps.io.table(
    ['KEY', 'VALUE', 'SOURCE'],
    rows.map((r) => [r.key, r.value ?? '-', r.source]),
  );
  return 0;
}
