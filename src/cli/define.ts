import type { Command } from 'commander';
import type { Deps } from './deps.js';

/**
 * What a verb module exports (as its default): the flags, arguments and help it declares on its commander
 * Command, and `run`, its work, which returns the exit code. The cli layer attaches `run` as the action; no
 * verb knows the entry point. Path and one-line summary live in the registry, so `wacx --help` loads no verb.
 */
export interface VerbDefinition {
  flags(cmd: Command): void;
  run(deps: Deps, ...commanderArgs: unknown[]): Promise<number | undefined>;
}

/**
 * Declares a verb. `run` receives commander's action arguments after `deps`: the positional arguments, then
 * the parsed options.
 */
export function defineCommand<A extends unknown[]>(definition: {
  flags(cmd: Command): void;
  run(deps: Deps, ...args: A): Promise<number | undefined>;
}): VerbDefinition {
  return definition as unknown as VerbDefinition;
}
