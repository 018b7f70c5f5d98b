import { type Command, Command as CommanderCommand, type Option as CommanderOption } from 'commander';
import { UsageError } from '../lib/errors.js';
import type { Deps } from './deps.js';
import { COMMANDS, GROUPS } from './registry.js';

/**
 * Shell completion through @bomb.sh/tab (the helper wrangler and vitest use): the script printed by
 * `wacx completion SHELL` asks `wacx complete -- WORDS…` for candidates on every Tab, so completions always
 * match the installed version, and values such as profile names come from the user's own configuration.
 */
export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;

type Tab = typeof import('@bomb.sh/tab');

/** tab prints with console.log; route it through wacx's stdout (redaction, tests' memory streams). */
function capturingConsole<T>(deps: Deps, fn: () => T): T {
  const log = console.log;
  console.log = (...parts: unknown[]) => deps.io.out(parts.join(' '));
  try {
    return fn();
  } finally {
    console.log = log;
  }
}

export async function printCompletionScript(deps: Deps, shell: string): Promise<void> {
  if (!(SHELLS as readonly string[]).includes(shell)) {
    throw new UsageError(`Unknown shell "${shell}": use ${SHELLS.join(', ')}.`, { location: '<shell>' });
  }
  const { script } = (await import('@bomb.sh/tab')) as Tab;
  capturingConsole(deps, () => script(shell, 'wacx', 'wacx'));
}

type TabCommand = InstanceType<Tab['Command']>;

/** Adds a commander command's options to a tab command; options with fixed choices complete to them. */
function addOptions(target: TabCommand, options: readonly CommanderOption[], dynamic: DynamicValues): void {
  for (const o of options) {
    if (o.hidden || !o.long) continue;
    const name = o.long.slice(2);
    const alias = o.short?.slice(1);
    const takesValue = o.required || o.optional;
    if (!takesValue) {
      target.option(name, o.description, alias);
      continue;
    }
    target.option(name, o.description, completeWith(o.argChoices ?? dynamic[name]), alias);
  }
}

/** A handler offering fixed values (an option or argument with no known values completes to nothing). */
function completeWith(values: readonly string[] | undefined) {
  return (complete: (value: string, description: string) => void) => {
    for (const v of values ?? []) complete(v, '');
  };
}

/** Values known at completion time, by option name. */
type DynamicValues = Record<string, string[] | undefined>;

async function dynamicValues(deps: Deps): Promise<DynamicValues> {
  try {
    const { ProfileStore } = await import('../lib/config/profiles.js');
    return { profile: new ProfileStore(deps.env).names() };
  } catch {
    return {};
  }
}

/**
 * Prints the candidates for the last of `words` (what the user typed after `wacx`, the last one being the
 * word under the cursor, possibly ''). Only the module of the command being typed is loaded.
 */
export async function printCompletions(deps: Deps, program: Command, words: string[]): Promise<void> {
  const { RootCommand } = (await import('@bomb.sh/tab')) as Tab;
  const root = new RootCommand();
  // a command's own options and wacx's global ones
  root.optionLookupMode = 'parent-first';
  const dynamic = await dynamicValues(deps);
  addOptions(root, program.options, dynamic);
  for (const [group, summary] of Object.entries(GROUPS)) root.command(group, summary);
  const typed = words.slice(0, -1).filter((w) => !w.startsWith('-'));
  for (const spec of COMMANDS) {
    if (spec.hidden) continue;
    const cmd = root.command(spec.path.join(' '), spec.summary);
    if (!spec.path.every((p, i) => typed[i] === p)) continue;
    const scratch = new CommanderCommand(spec.path.join(' '));
    (await spec.load()).default.flags(scratch);
    addOptions(cmd, scratch.options, dynamic);
    for (const arg of scratch.registeredArguments) {
      const choices = arg.argChoices;
      cmd.argument(arg.name(), choices ? completeWith(choices) : undefined, arg.variadic);
    }
  }
  capturingConsole(deps, () => root.parse(words));
}
