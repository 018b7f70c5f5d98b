import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { ExitCode, UsageError } from '../../lib/errors.js';

interface Options {
  anchor?: string;
  file?: string;
}

const ANCHOR = /^(\d+):([0-9a-f]{64})$/;

function parseAnchor(raw: string): { seq: number; hash: string } {
  const m = ANCHOR.exec(raw.trim());
  if (!m) {
    throw new UsageError(`expected SEQ:HASH (as \`wacx audit anchor\` prints it), got "${raw}".`, {
      location: '--anchor',
    });
  }
  return { seq: Number(m[1]), hash: m[2] as string };
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Recompute the audit chain: name the first record that was changed, deleted, inserted or moved (exit 1), ' +
          'or print the head hash and the count (exit 0)',
      )
      .option(
        '--anchor <seq:hash>',
        'also check that the chain still extends this published head',
        parseAnchor,
      )
      .option('--file <file>', 'check an export (with its FILE.manifest.json) on its own, without the store')
      .addHelpText(
        'after',
        '\nExamples:\n  $ wacx audit verify\n  $ wacx audit verify --anchor 120431:9f2c…e1\n' +
          '  $ wacx audit verify --file audit-2026-11.jsonl',
      );
  },
  run: (deps, opts: Options & { anchor?: { seq: number; hash: string } }) => run(opts, deps),
});

export async function run(
  opts: { anchor?: { seq: number; hash: string }; file?: string },
  deps: Deps,
): Promise<number> {
  const io = deps.io;
  if (opts.file !== undefined) {
    if (opts.anchor)
      throw new UsageError('--anchor checks the store; an export is checked with its manifest.', {
        location: '--anchor',
      });
    const { verifyExport } = await import('../../lib/audit/export.js');
    const r = await verifyExport(opts.file);
    const ok = r.sha256Matches && !r.problem && !r.mismatch;
    if (deps.globals.json) {
      io.printJson({
        ok,
        file: opts.file,
        count: r.count,
        sha256_matches: r.sha256Matches,
        problem: r.problem,
        mismatch: r.mismatch,
        first_seq: r.manifest.first_seq,
        last_seq: r.manifest.last_seq,
        last_hash: r.manifest.last_hash,
      });
    } else if (ok) {
      io.out(
        `${opts.file}: ${r.count} record(s), ${r.manifest.first_seq ?? '-'}–${r.manifest.last_seq ?? '-'}, intact (SHA-256 and chain match the manifest).`,
      );
    } else {
      if (!r.sha256Matches)
        io.error(`${opts.file}: its SHA-256 differs from the manifest: the file was changed.`);
      if (r.problem) io.error(`${opts.file}: ${r.problem.detail}.`);
      if (r.mismatch) io.error(`${opts.file}: ${r.mismatch}.`);
    }
    return ok ? ExitCode.OK : ExitCode.FAILED;
  }
  const { AuditJournal } = await import('../../lib/audit/journal.js');
  const r = new AuditJournal((await deps.store()).db).verify(opts.anchor);
  if (deps.globals.json) {
    io.printJson({
      ok: r.problem === null,
      count: r.count,
      head: r.head ? { seq: r.head.seq, hash: r.head.hash, at: new Date(r.head.at).toISOString() } : null,
      pruned: r.pruned,
      pruned_ranges: r.prunedRanges,
      problem: r.problem,
    });
    return r.problem ? ExitCode.FAILED : ExitCode.OK;
  }
  if (r.problem) {
    io.error(`The audit trail was tampered with: ${r.problem.detail} (record ${r.problem.seq}).`);
    io.info(`  ${r.count} record(s) before it verify.`);
    return ExitCode.FAILED;
  }
  if (!r.head) {
    io.out('The audit trail is empty.');
    return ExitCode.OK;
  }
  io.out(`The audit trail verifies: ${r.count} record(s), head ${r.head.seq}:${r.head.hash}.`);
  if (opts.anchor) io.out(`It extends the anchor ${opts.anchor.seq}:${opts.anchor.hash}.`);
  if (r.pruned > 0) {
    const ranges = r.prunedRanges.map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`)).join(', ');
    io.info(`${r.pruned} record(s) were pruned by retention (contents gone, hashes kept): ${ranges}.`);
  }
  return ExitCode.OK;
}
