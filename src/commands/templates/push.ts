import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { duration } from '../../cli/flags.js';
import { CancelledError, ExitCode, UsageError } from '../../lib/errors.js';
import type { Plan } from '../../lib/templates/plan.js';
import type { PushResult, ReviewState } from '../../lib/templates/push.js';

interface Options {
  prune?: boolean;
  dryRun?: boolean;
  wait?: boolean;
  timeout?: string;
  yes?: boolean;
  wabaId?: string;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Apply the plan: create, update (and with --prune delete) templates so the WABA matches the files',
      )
      .argument('<dir>', 'a directory of template files (or one file)')
      .option('--prune', 'also delete WABA templates that have no file')
      .option('--dry-run', 'show what would be done; send nothing')
      .option('--wait', "wait for Meta's review of created and edited templates")
      .option('--timeout <duration>', 'how long --wait waits (e.g. 90s, 10m, 1h)', '10m')
      .option('-y, --yes', 'delete without asking (with --prune; required when not on a terminal)')
      .addHelpText(
        'after',
        `
Only the needed write calls are made, one per created, edited or deleted template. Blocked entries are not
sent. When the plan deletes templates (--prune), push shows the plan and asks on a terminal; elsewhere it
needs --yes, and without it applies nothing (exit 2).

Exit codes: 0 all applied (and approved, with --wait); 1 a write failed or was blocked, or a review was
REJECTED (the reason is printed); 2 invalid template files, or deletes without --yes off a terminal (nothing
sent); 3 some writes applied, others
failed or blocked; 8 still PENDING when --timeout ran out.

Examples:
  $ wacx templates push templates/ --dry-run
  $ wacx templates push templates/ --wait --timeout 15m
  $ wacx templates push templates/ --prune --yes --json`,
      );
  },
  run: (deps, dir: string, opts: Options) => run(dir, opts, deps),
});

const LABEL: Record<string, string> = { create: 'created', update: 'updated', delete: 'deleted' };

export async function run(dir: string, opts: Options, deps: Deps): Promise<number> {
  const { applyPlan, waitForReviews } = await import('../../lib/templates/push.js');
  const { pushResultToJson } = await import('../../lib/templates/render.js');
  const { planFromFiles, planSummary, printPlan } = await import('./shared.js');
  const io = deps.io;
  const timeoutMs = duration('--timeout', { min: 1 })(opts.timeout ?? '10m');
  const { plan, graph, history } = await planFromFiles(deps, dir, opts, 'nothing was sent.');
  if (!plan) return ExitCode.USAGE;

  if (opts.dryRun) {
    if (deps.globals.json) {
      const results = await applyPlan({ graph, plan, history: null, clock: deps.clock, dryRun: true });
      io.printJson({
        dryRun: true,
        summary: plan.summary,
        results: results.map((r) => pushResultToJson(r, undefined)),
      });
    } else {
      printPlan(io, plan);
      io.info('Dry run: nothing was sent.');
    }
    return 0;
  }
  if (!opts.yes) await confirmDeletes(deps, plan, dir);

  const results = await applyPlan({
    graph,
    plan,
    history,
    clock: deps.clock,
    signal: deps.signal,
    onResult: deps.globals.json ? undefined : (r) => reportResult(deps, r),
    onUsage: (u) =>
      io.warn(
        `Management API usage of the WABA is high: ${u}. At 100% Meta refuses management calls (80007) for up to an hour; push stops sending then.`,
      ),
  });
  const applied = results.filter((r) => r.outcome === 'applied');
  const failed = results.filter(
    (r) => r.outcome === 'failed' || r.outcome === 'unknown' || r.outcome === 'blocked',
  );

  let reviews: ReviewState[] = [];
  /** Templates seen PENDING while waiting (an edited APPROVED template may skip that: see below). */
  const reviewed = new Set<string>();
  if (opts.wait) {
    const ids = applied.filter((r) => r.entry.action !== 'delete' && r.id).map((r) => r.id!);
    if (ids.length > 0) {
      if (!deps.globals.json)
        io.info(`Waiting for Meta's review of ${ids.length} template(s) (timeout ${opts.timeout ?? '10m'})…`);
      reviews = await waitForReviews({
        graph,
        ids,
        clock: deps.clock,
        timeoutMs,
        signal: deps.signal,
        intervalMs: 500,
        maxIntervalMs: 10_000,
        onChange: (s) => {
          if (s.status === 'PENDING') reviewed.add(s.id);
          if (deps.globals.json) return;
          if (s.status === 'APPROVED') io.success(`${s.name} (${s.language}) APPROVED`);
          else if (s.status === 'REJECTED')
            io.error(`${s.name} (${s.language}) REJECTED: ${s.rejectedReason ?? 'no reason given'}`);
          else if (s.status !== 'PENDING') io.info(`${s.name} (${s.language}) ${s.status}`);
        },
      });
    }
  }
  const byId = new Map(reviews.map((s) => [s.id, s]));
  const blockedCount = results.filter((r) => r.outcome === 'blocked').length;
  const rejected = reviews.filter((s) => s.status === 'REJECTED');
  const pending = reviews.filter((s) => s.status === 'PENDING' || s.status === 'IN_APPEAL');

  if (deps.globals.json) {
    io.printJson({
      dryRun: false,
      summary: plan.summary,
      applied: applied.length,
      failed: failed.length,
      rejected: rejected.length,
      pending: pending.length,
      results: results.map((r) => pushResultToJson(r, r.id ? byId.get(r.id) : undefined)),
    });
  } else {
    io.info(
      plan.summary.create + plan.summary.update + plan.summary.delete + plan.summary.blocked === 0
        ? planSummary(plan)
        : `Applied ${applied.length} change(s), ${failed.length - blockedCount} failed, ${blockedCount} blocked, ${plan.summary.unchanged} unchanged.`,
    );
    for (const s of pending)
      io.warn(`${s.name} (${s.language}) is still ${s.status} after ${opts.timeout ?? '10m'}.`);
    // Meta documents that an edited APPROVED template stays APPROVED while the edit is reviewed; some report PENDING.
    for (const r of applied) {
      if (r.entry.action !== 'update' || r.entry.status !== 'APPROVED') continue;
      if (!r.id || byId.get(r.id)?.status !== 'APPROVED' || reviewed.has(r.id)) continue;
      io.info(
        `${r.entry.name} (${r.entry.language}) stays APPROVED while Meta reviews the edit; a rejection would arrive later as a template status webhook.`,
      );
    }
  }

  if (failed.length > 0) return applied.length > 0 ? ExitCode.PARTIAL : ExitCode.FAILED;
  if (rejected.length > 0) return ExitCode.FAILED;
  if (pending.length > 0) return ExitCode.PENDING;
  return 0;
}

/**
 * Deleting is permanent (and an APPROVED name is blocked for 30 days): like `templates delete`, a plan that deletes
 * is shown and confirmed on a terminal, and needs --yes elsewhere. Nothing is applied until then.
 */
async function confirmDeletes(deps: Deps, plan: Plan, dir: string): Promise<void> {
  const { printPlan } = await import('./shared.js');
  const deletes = plan.entries.filter((e) => e.action === 'delete');
  if (deletes.length === 0) return;
  const io = deps.io;
  if (!deps.globals.json) printPlan(io, plan);
  const approved = deletes.some((e) => e.status === 'APPROVED');
  const why = `Deleting is permanent${approved ? ', and the name of a deleted APPROVED template cannot be reused for 30 days' : ''}.`;
  if (!io.interactive) {
    throw new UsageError(
      `Refusing to delete ${deletes.length} template(s) without confirmation: pass --yes. Nothing was applied.`,
      { location: '--yes', hint: `${why} See the plan with \`wacx templates plan ${dir} --prune\`.` },
    );
  }
  const shown = deletes.slice(0, 5).map((e) => `${e.name} (${e.language}, ${e.status ?? '?'})`);
  const more = deletes.length > shown.length ? ` and ${deletes.length - shown.length} more` : '';
  const ok = await deps.prompter.confirm({
    message: `Delete ${deletes.length} template(s): ${shown.join(', ')}${more}? ${why}`,
    flag: '--yes',
    default: false,
  });
  if (!ok) throw new CancelledError('Nothing was applied.');
}

function reportResult(deps: Deps, r: PushResult): void {
  const io = deps.io;
  const what = `${r.entry.name} (${r.entry.language})`;
  if (r.outcome === 'applied') {
    const extra =
      r.entry.action === 'create'
        ? `: id ${r.id}, ${r.status}`
        : r.entry.action === 'update'
          ? `: ${r.entry.changes.join(', ')}`
          : '';
    io.success(`${LABEL[r.entry.action] ?? r.entry.action} ${what}${extra}`);
  } else if (r.outcome === 'blocked') {
    io.warn(`${r.entry.intended} ${what} blocked: ${r.error}`);
  } else if (r.outcome === 'failed' || r.outcome === 'unknown') {
    io.error(`${r.entry.action} ${what} failed: ${r.error}`);
  }
}
