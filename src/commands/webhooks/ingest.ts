import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { ConfigError, ExitCode, UsageError } from '../../lib/errors.js';

interface IngestOptions {
  requireSignature?: boolean;
  strict?: boolean;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Import raw webhook payloads (NDJSON) into the local store, with the same parsing and dedup as `serve`.',
      )
      .argument('<file>', 'NDJSON file, or - for standard input')
      .option('--require-signature', 'reject lines without a valid signature (needs the app secret)')
      .option('--strict', 'refuse the whole file (exit 2, nothing written) when a line cannot be imported')
      .addHelpText(
        'after',
        `
Each line is one delivery, either
  the bare payload:   {"object":"whatsapp_business_account","entry":[…]}
  or as captured:     {"body":"<raw request body>","signature":"sha256=<hex of X-Hub-Signature-256>"}
A signature is verified when the app secret is configured (profile or WACX_APP_SECRET).
Redeliveries and lines already imported store nothing new. A bad line (not JSON, a body that is not JSON or
too large, a payload too deeply nested to read) is named by its number and skipped, and the other lines are
imported; with --strict the first bad line stops the import (exit 2) and nothing is written.

Exit codes: 0 all imported (or already there), 1 no line imported, 2 bad line with --strict,
3 some lines rejected or skipped.

Examples:
  $ wacx webhooks ingest captured.ndjson
  $ my-relay dump | wacx webhooks ingest - --json`,
      );
  },
  run: (deps, file: string, opts: IngestOptions) => run(file, opts, deps),
});

async function readInput(file: string, deps: Deps): Promise<string> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of deps.io.streams.stdin)
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? 'no such file.' : `cannot read (${code ?? String(error)}).`, {
      location: file,
    });
  }
}

export async function run(file: string, opts: IngestOptions, deps: Deps): Promise<number> {
  const { ingestNdjson, splitNdjson } = await import('../../lib/webhooks/ndjson.js');
  const io = deps.io;
  const name = file === '-' ? '<stdin>' : file;
  const appSecret = (await deps.config().secret('appSecret')).value;
  if (opts.requireSignature && !appSecret) {
    throw new ConfigError('--require-signature needs the app secret to verify signatures.', {
      hint: 'Set WACX_APP_SECRET or store it with `wacx auth login`.',
    });
  }
  const { lines, bad } = splitNdjson(await readInput(file, deps));
  const strict = opts.strict ?? false;
  if (strict && bad[0]) {
    throw new UsageError(`${bad[0].message.replace(/\.$/, '')}; nothing was imported.`, {
      location: `${name}:${bad[0].line}`,
      hint: 'Fix or remove the line, or run without --strict to import the other lines and skip it.',
    });
  }
  const unverified = appSecret ? 0 : lines.filter((l) => l.signature).length;
  const store = await deps.store();
  const report = ingestNdjson(store.db, lines, {
    name,
    appSecret,
    requireSignature: opts.requireSignature ?? false,
    now: () => deps.clock.now(),
    bad,
    strict,
  });

  if (deps.globals.json) {
    io.printJson({
      file: name,
      lines: report.lines,
      stored: report.stored,
      duplicate: report.duplicate,
      rejected: report.rejected,
      bad: report.bad,
      events: report.events,
      duplicate_events: report.duplicateEvents,
      unverified_signatures: unverified,
      rejected_lines: report.rejectedLines.map((r) => ({
        line: r.line,
        reason: r.reason,
        message: r.message,
      })),
      bad_lines: report.badLines.map((b) => ({ line: b.line, message: b.message })),
    });
  } else {
    for (const b of report.badLines) io.warn(`${name}:${b.line}: skipped: ${b.message}`);
    for (const r of report.rejectedLines) io.warn(`${name}:${r.line}: rejected: ${r.message}.`);
    const msg = `${name}: ${report.lines} lines: ${report.stored} stored (${report.events} events), ${report.duplicate} duplicate, ${report.rejected} rejected, ${report.bad} skipped (bad).`;
    if (report.rejected + report.bad > 0) io.warn(msg);
    else io.success(msg);
  }
  if (unverified > 0) {
    io.warn(`${unverified} signed lines were not verified: no app secret configured (set WACX_APP_SECRET).`);
  }
  const notImported = report.rejected + report.bad;
  if (notImported === 0) return ExitCode.OK;
  return notImported === report.lines ? ExitCode.FAILED : ExitCode.PARTIAL;
}
