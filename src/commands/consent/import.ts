import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import { countryCode } from '../../cli/flags.js';
import { ExitCode } from '../../lib/errors.js';
import { openRegister } from './shared.js';

interface Options {
  strict?: boolean;
  defaultCountry?: string;
  source?: string;
}

const BATCH = 10_000;
const SHOWN = 20;

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Import consents from a CSV (phone or bsuid, opted_in_at, source, proof, scope, [action]); bad rows are named ' +
          'by line and skipped, or with --strict nothing is imported (exit 2)',
      )
      .argument('<file>', 'the CSV file')
      .option('--strict', 'import nothing when any row is bad (exit 2)')
      .option(
        '--source <text>',
        'the source of rows whose source cell is empty (e.g. "2025 web shop sign-ups")',
      )
      .option(
        '--default-country <CC>',
        'country of numbers written without +CC',
        countryCode('--default-country'),
      )
      .addHelpText(
        'after',
        '\nExamples:\n  $ wacx consent import optins.csv --default-country DE\n  $ wacx consent import optins.csv --strict --json',
      );
  },
  run: async (deps, file: string, opts: Options) => {
    const [{ readConsentCsv }, { checkReadable }] = await Promise.all([
      import('../../lib/consent/import.js'),
      import('../../lib/campaign/files.js'),
    ]);
    await checkReadable(file, '<file>');
    const now = deps.clock.now();
    const read = () =>
      readConsentCsv(file, {
        defaultCountry: (opts.defaultCountry as never) ?? null,
        now,
        source: opts.source,
      });
    const bad: { line: number; column: number | null; message: string }[] = [];
    let badCount = 0;
    const noteBad = (e: { line: number; column: number | null; message: string }) => {
      badCount++;
      if (bad.length < SHOWN) bad.push(e);
    };
    if (opts.strict) {
      for await (const e of read()) if (e.type === 'bad') noteBad(e);
    }
    let imported = 0;
    if (!opts.strict || badCount === 0) {
      const register = await openRegister(deps);
      let batch = [];
      for await (const e of read()) {
        if (e.type === 'bad') {
          noteBad(e);
          continue;
        }
        batch.push(e.change);
        if (batch.length >= BATCH) {
          register.record(batch);
          imported += batch.length;
          batch = [];
        }
      }
      register.record(batch);
      imported += batch.length;
    }
    const where = (e: { line: number; column: number | null }) =>
      `${file}:${e.line}${e.column ? `:${e.column}` : ''}`;
    if (deps.globals.json) {
      deps.io.printJson({
        file,
        imported,
        bad: badCount,
        bad_rows: bad.map((e) => ({ line: e.line, column: e.column, message: e.message })),
      });
    } else {
      for (const e of bad) deps.io.error(`${where(e)}: ${e.message}.`);
      if (badCount > bad.length) deps.io.error(`… and ${badCount - bad.length} more bad row(s).`);
      if (opts.strict && badCount > 0)
        deps.io.error(`${badCount} bad row(s): nothing was imported (--strict).`);
      else
        deps.io.success(
          `Imported ${imported} consent change(s) from ${file}${badCount ? `; ${badCount} bad row(s) skipped` : ''}.`,
        );
    }
    if (opts.strict && badCount > 0) return ExitCode.USAGE;
    return ExitCode.OK;
  },
});
