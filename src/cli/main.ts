import type { Command } from 'commander';
import { validateSetting } from '../lib/config/settings.js';
import { CancelledError, ExitCode, UsageError } from '../lib/errors.js';
import { preloadChalk } from '../lib/io/io.js';
import type { VerbDefinition } from './define.js';
import { Deps, type DepsInit, type GlobalOptions } from './deps.js';
import { commander, NOUN_OPTIONS } from './flags.js';
import { COMMANDS, type CommandSpec, GROUPS } from './registry.js';

/** Global and noun options that take a value: skipped when looking for the command words in argv. */
const VALUE_OPTIONS = new Set([
  '--profile',
  '--api-version',
  '--database',
  '--jq',
  '--waba-id',
  '--phone-number-id',
]);

/** The command words of argv (before the first option that is not global), e.g. ['templates', 'list']. */
function commandWords(args: readonly string[]): string[] {
  const words: string[] = [];
  for (let i = 0; i < args.length && words.length < 3; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (a.startsWith('-')) {
      if (VALUE_OPTIONS.has(a)) i++;
      continue;
    }
    words.push(a);
  }
  return words[0] === 'help' ? words.slice(1) : words;
}

/** `--help` or `-h` before any `--`: the run only describes a command, which will not run. */
function asksForHelp(args: readonly string[]): boolean {
  for (const a of args) {
    if (a === '--') return false;
    if (a === '--help' || a === '-h') return true;
  }
  return false;
}

function findTarget(words: readonly string[]): CommandSpec | undefined {
  return COMMANDS.find((c) => c.path.every((p, i) => words[i] === p));
}

function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The usage line of a command, e.g. `Usage: wacx config set [options] <key> <value>`. */
function usageLine(cmd: Command): string {
  return `Usage: ${fullName(cmd)} ${cmd.usage()}`;
}

interface RunState {
  /** The run's Deps, built once the global options are parsed (before any action runs). */
  deps?: Deps;
  /** What the verb's `run` returned. */
  exitCode: number;
  /** The command whose action is running (for the usage line of a UsageError). */
  current?: Command;
  /** What commander wrote to stderr (errors, help on error), printed redacted once the run ends. */
  stderr: string[];
}

/**
 * Starts loading the module of the command to run or describe. A memory-capped command's heap settings must be in
 * place before its modules load; describing it (`--help`) needs none of them.
 */
function loadVerb(spec: CommandSpec, helpOnly: boolean): Promise<VerbDefinition> {
  const heap =
    spec.tightHeap && !helpOnly
      ? import('../lib/heap.js').then(({ keepHeapTight }) => keepHeapTight())
      : Promise.resolve();
  const verb = heap.then(spec.load).then((module) => module.default);
  // Awaited (and its failure reported) once the program is built; until then it must not count as unhandled.
  verb.catch(() => {});
  return verb;
}

function buildProgram(
  deps: Deps,
  words: readonly string[],
  state: RunState,
  verb: Promise<VerbDefinition> | undefined,
): { program: Command; loaded: Promise<void> } {
  const { Command, Option } = commander();
  const target = findTarget(words);
  const program = new Command('wacx')
    .description(
      'Operations toolkit for WhatsApp Business coexistence (Business App + Cloud API on one number).',
    )
    .version(deps.version, '-V, --version', 'print the version')
    .option('--profile <name>', 'configuration profile to use (env WACX_PROFILE)')
    .option('--json', 'print machine-readable JSON on stdout (failures too)')
    .option('--jq <expression>', 'filter the JSON output with jq (implies --json)')
    .option('--no-color', 'disable colour (also NO_COLOR, CLICOLOR=0)')
    .option('--no-input', 'never prompt; a missing value is a usage error')
    .option('--verbose', 'print redacted request traces on stderr')
    .addOption(new Option('--api-version <vNN.0>', 'Graph API version (env WACX_API_VERSION)'))
    .option('--database <url>', 'the store: sqlite:PATH or postgres://USER@HOST/DB (env WACX_DATABASE_URL)')
    .option('--sandbox', 'run against an in-process sandbox with its seeded profile (no Meta account needed)')
    .showSuggestionAfterError(true)
    // `wacx auth login --help` also lists --profile, --json… (inherited by every command added below)
    .configureHelp({ showGlobalOptions: true })
    .helpCommand(false)
    .addHelpText(
      'after',
      '\nRun `wacx help exit-codes` for the exit codes, `wacx <command> --help` for a command.\nTry everything locally: `wacx doctor --sandbox`.',
    );

  const groups = new Map<string, Command>();
  let loaded: Promise<void> = Promise.resolve();
  for (const spec of COMMANDS) {
    let parent = program;
    if (spec.path.length === 2) {
      const group = spec.path[0]!;
      let g = groups.get(group);
      if (!g) {
        g = program
          .command(group, { hidden: COMMANDS.every((c) => c.path[0] !== group || c.hidden) })
          .description(GROUPS[group] ?? '');
        // the noun's own options (--waba-id on `templates`…) only where that noun runs, as `wacx --help` shows
        if (group === words[0]) for (const option of NOUN_OPTIONS[group] ?? []) g.addOption(option());
        groups.set(group, g);
      }
      parent = g;
    }
    // Verbs of other groups are never shown nor run: skip building them (`wacx --help` stays fast).
    if (spec.path.length === 2 && spec.path[0] !== words[0]) continue;
    const cmd = parent
      .command(spec.path[spec.path.length - 1]!, { hidden: spec.hidden })
      .description(spec.summary);
    if (spec === target && verb) {
      loaded = verb.then((definition) => {
        definition.flags(cmd);
        cmd.action(async (...args: unknown[]) => {
          // commander passes (...arguments, options, command): the options include the noun's and the globals
          args[args.length - 2] = cmd.optsWithGlobals();
          state.exitCode = (await definition.run(runDeps(state), ...args)) ?? ExitCode.OK;
        });
      });
    }
  }
  program
    .command('help')
    .description('show help for a command, or `wacx help exit-codes`')
    .argument('[command...]')
    .action(async (words: string[]) => {
      if (words[0] === 'exit-codes') {
        await printExitCodes(runDeps(state));
        return;
      }
      let cmd: Command = program;
      for (const w of words) {
        const next = cmd.commands.find((c) => c.name() === w);
        if (!next)
          throw new UsageError(`Unknown command "${words.join(' ')}".`, { hint: 'Run `wacx --help`.' });
        cmd = next;
      }
      // outputHelp (not helpInformation) also prints the command's added sections: examples, exit codes
      cmd.outputHelp();
    });

  program
    .command('completion')
    .description('print the shell completion script (bash, zsh, fish or powershell)')
    .argument('<shell>', 'bash, zsh, fish or powershell')
    .addHelpText(
      'after',
      [
        '',
        'Install it once:',
        "  bash:  echo 'source <(wacx completion bash)' >> ~/.bashrc   (needs the bash-completion package)",
        "  zsh:   echo 'source <(wacx completion zsh)' >> ~/.zshrc",
        '  fish:  wacx completion fish > ~/.config/fish/completions/wacx.fish',
      ].join('\n'),
    )
    .action(async (shell: string) => {
      const { printCompletionScript } = await import('./completion.js');
      await printCompletionScript(runDeps(state), shell);
    });
  program
    .command('complete', { hidden: true })
    .description('print completion candidates (called by the completion script)')
    .argument('[words...]')
    .helpOption(false)
    .action(async (typed: string[]) => {
      const { printCompletions } = await import('./completion.js');
      await printCompletions(runDeps(state), program, typed);
    });

  program.hook('preAction', async (_this, actionCmd) => {
    state.current = actionCmd;
    const o = actionCmd.optsWithGlobals() as Partial<GlobalOptions>;
    if (o.apiVersion !== undefined) validateSetting('apiVersion', o.apiVersion, '--api-version');
    if (o.database !== undefined) {
      const { parseStoreLocation } = await import('../lib/store/location.js');
      parseStoreLocation(o.database, '--database');
    }
    if (o.sandbox && target?.changesConfig) {
      throw new UsageError(
        `\`wacx ${target.path.join(' ')}\` changes a profile, and the sandbox's profile is thrown away after the run.`,
        {
          location: '--sandbox',
          hint: 'Run it without --sandbox, or start `wacx sandbox` and log in to it.',
        },
      );
    }
    if (o.jq !== undefined) {
      const { checkJqFilter } = await import('../lib/io/jq.js');
      await checkJqFilter(o.jq);
    }
    state.deps = deps.withGlobals({
      createsProfile: Boolean(target?.createsProfile),
      writesProfiles: Boolean(target?.createsProfile || target?.changesConfig),
      profile: o.profile,
      json: Boolean(o.json) || o.jq !== undefined,
      jq: o.jq,
      color: o.color !== false,
      input: o.input !== false,
      verbose: Boolean(o.verbose),
      apiVersion: o.apiVersion,
      database: o.database,
      sandbox: Boolean(o.sandbox),
    });
    await state.deps.prepare();
  });
  return { program, loaded };
}

function runDeps(state: RunState): Deps {
  if (!state.deps) throw new Error('The run has no Deps: the preAction hook did not run.');
  return state.deps;
}

function configureAll(cmd: Command, deps: Deps, state: RunState): void {
  cmd.exitOverride();
  cmd.configureOutput({
    writeOut: (s) => deps.io.write(s),
    writeErr: (s) => {
      state.stderr.push(s);
    },
    outputError: (s, write) => write(`${deps.io.style.red(s.trimEnd())}\n${usageLine(cmd)}\n`),
  });
  for (const sub of cmd.commands) configureAll(sub, deps, state);
}

/** Flushes what commander wrote for stderr, through the redactor (an unknown command may be a pasted token). */
async function flushCommanderErrors(deps: Deps, state: RunState): Promise<void> {
  if (state.stderr.length === 0) return;
  await deps.primeRedactor();
  deps.io.streams.stderr.write(deps.redactor.redact(state.stderr.splice(0).join('')));
}

/** A UsageError about flags or arguments (not a file position) is followed by the command's usage line. */
function wantsUsageLine(error: unknown): boolean {
  if (!(error instanceof UsageError)) return false;
  return error.location === undefined || error.location.startsWith('-');
}

async function printExitCodes(deps: Deps): Promise<void> {
  const { EXIT_CODE_TABLE } = await import('../lib/exit-codes.js');
  if (deps.globals.json) {
    deps.io.printJson(EXIT_CODE_TABLE.map(([code, meaning]) => ({ code, meaning })));
    return;
  }
  deps.io.table(
    ['CODE', 'MEANING'],
    EXIT_CODE_TABLE.map(([code, meaning]) => [code, meaning]),
  );
}

/** `--json` or `--jq` anywhere in argv: errors are then JSON too, even those found before options are parsed. */
function wantsJson(deps: Deps, args: readonly string[]): boolean {
  return deps.globals.json || args.some((a) => a === '--json' || a === '--jq' || a.startsWith('--jq='));
}

/** `wacx` alone, or a group alone (`wacx templates`): its help on stdout, exit 0, as gh does. */
function bareHelpTarget(program: Command, args: readonly string[]): Command | undefined {
  if (args.some((a) => a.startsWith('-') && !['--no-color', '--json'].includes(a))) return undefined;
  const words = args.filter((a) => !a.startsWith('-'));
  if (words.length === 0) return program;
  if (words.length === 1 && words[0]! in GROUPS) return program.commands.find((c) => c.name() === words[0]);
  return undefined;
}

/**
 * Runs the CLI. Never calls process.exit: returns the exit code (bin/wacx.js sets process.exitCode).
 * `args` are the user's arguments, without node and the script path.
 */
export async function main(args: readonly string[], init: DepsInit): Promise<number> {
  // Before argv is parsed: streams, redactor and the defaults; the run's own Deps comes with its globals.
  const boot = new Deps(init);
  // The version alone needs no parser: commander is not even loaded.
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    boot.io.write(`${boot.version}\n`);
    return ExitCode.OK;
  }
  const state: RunState = { exitCode: ExitCode.OK, stderr: [] };
  const words = commandWords(args);
  // Modules are loaded only when needed, and all at once: their files are read while commander loads.
  // The command's own module (none for `wacx --help`):
  const target = findTarget(words);
  const verb = target && loadVerb(target, asksForHelp(args));
  // chalk, only when colour is possible (a TTY without NO_COLOR): piped runs never pay for it.
  const chalk = boot.io.color ? preloadChalk() : undefined;
  // commander is required synchronously: meanwhile the files of the modules above are read.
  commander();
  await chalk;
  const { program, loaded } = buildProgram(boot, words, state, verb);
  try {
    await loaded;
    configureAll(program, boot, state);
    const bare = bareHelpTarget(program, args);
    if (bare) {
      bare.outputHelp();
      return ExitCode.OK;
    }
    await program.parseAsync([...args], { from: 'user' });
    const deps = state.deps ?? boot;
    await flushCommanderErrors(deps, state);
    await deps.io.flush();
    if (deps.io.jqError) {
      deps.io.error(deps.io.jqError.message);
      return state.exitCode === ExitCode.OK ? ExitCode.FAILED : state.exitCode;
    }
    if (
      deps.signal.aborted &&
      state.exitCode === ExitCode.OK &&
      !findTarget(commandWords(args))?.stopsOnSignal
    )
      return ExitCode.CANCELLED;
    return state.exitCode;
  } catch (error) {
    const deps = state.deps ?? boot;
    await deps.io.flush();
    if (error instanceof commander().CommanderError) {
      if (['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code)) {
        await flushCommanderErrors(deps, state);
        return ExitCode.OK;
      }
      if (wantsJson(deps, args)) {
        state.stderr.length = 0;
        const { printErrorJson } = await import('./report.js');
        printErrorJson(deps, error, ExitCode.USAGE);
        deps.io.error(error.message.replace(/^error:\s*/, ''));
        return ExitCode.USAGE;
      }
      await flushCommanderErrors(deps, state);
      return ExitCode.USAGE;
    }
    await flushCommanderErrors(deps, state);
    const { exitCodeFor, printErrorJson, reportError } = await import('./report.js');
    // Ctrl+C during a prompt or an interrupted request: no error text, just the fact.
    if (
      exitCodeFor(error) === ExitCode.CANCELLED ||
      (deps.signal.aborted && exitCodeFor(error) !== ExitCode.USAGE)
    ) {
      // A CancelledError may say what was left undone ("Nothing was applied."); other cancellations just stop.
      deps.io.info(error instanceof CancelledError ? error.message : 'Cancelled.');
      return ExitCode.CANCELLED;
    }
    await deps.primeRedactor();
    if (wantsJson(deps, args) && !deps.io.wroteData) printErrorJson(deps, error, exitCodeFor(error));
    reportError(deps, error);
    if (wantsUsageLine(error) && state.current) deps.io.info(usageLine(state.current));
    return exitCodeFor(error);
  } finally {
    await (state.deps ?? boot).cleanup();
  }
}
