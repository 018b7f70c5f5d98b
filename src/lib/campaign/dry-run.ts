import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../store/store.js';
import { Ledger } from './ledger.js';
import { storeOptOuts } from './opt-outs.js';
import { buildSummary, dryRunExitCode, invalidRows, writeRunReport } from './outcome.js';
import { type Plan, storedOptions } from './prepare.js';
import { runRead } from './reader.js';
import { BsuidOnlyPhones, consentTask, ingestOutcome, type RunEnv } from './run.js';

/**
 * `--dry-run` of a plan: every row read and every message rendered exactly as the run would send it, nothing sent
 * and nothing written to the profile's ledger (rows go through a temporary database, which also dedupes recipients
 * with bounded memory whatever the file size).
 */
export type DryRunRows = (rows: Store, campaignId: string, plan: Plan) => Promise<void>;

export async function dryRun(plan: Plan, env: RunEnv, onRows?: DryRunRows): Promise<number> {
  const { events, clock } = env;
  const started = clock.now();
  const optedOut = storeOptOuts((await env.store()).db);
  const dir = await mkdtemp(join(tmpdir(), 'wacx-dry-run-'));
  const dbPath = join(dir, 'dry-run.db');
  const temp = Store.open(dbPath);
  try {
    temp.db.pragma('synchronous = OFF');
    temp.db.pragma('cache_size = -4000');
    const ledger = new Ledger(temp.db);
    const campaign = ledger.create(
      {
        id: plan.id,
        template: plan.templateName,
        language: plan.language,
        phoneNumberId: plan.phoneNumberId,
        wabaId: plan.wabaId,
        csvPath: plan.csvPath,
        csvSize: 0,
        csvMtime: 0,
        csvSha256: '',
        options: storedOptions(plan),
        templateSnapshot: plan.template,
      },
      clock.now(),
    );
    // read and render every message exactly as it would be sent (in the reader thread: bounded memory)
    let rendered = 0;
    const bsuidOnly = new BsuidOnlyPhones(plan.csvName);
    await runRead(
      {
        kind: 'ingest',
        store: { backend: 'sqlite', path: dbPath },
        cid: campaign.cid,
        path: plan.csvPath,
        shape: plan.shape,
        from: plan.from ?? { offset: 0, lines: 0, nextRow: 1 },
        excluded: [...plan.excluded],
        optedOut: [...optedOut],
        consent: consentTask(plan.consent),
        links: plan.links,
        batchRows: 1000,
        batchMs: 50,
        render: {
          campaignId: plan.id,
          template: plan.templateName,
          language: plan.language,
          endpoint: plan.endpoint,
          json: env.messagesAsNdjson,
          previews: 3,
        },
      },
      {
        onBatch: (_pending, skipped, bsuidOnlyLines) => {
          bsuidOnly.add(bsuidOnlyLines);
          for (const r of skipped) events.row(plan.id, ingestOutcome(r), plan.csvName);
        },
        onRendered: async (lines, count) => {
          rendered = count;
          await events.rendered(lines);
        },
      },
      { threads: env.threads, signal: env.signal },
    );
    bsuidOnly.report(events);
    if (onRows && !env.signal.aborted) await onRows(temp, plan.id, plan);
    const counts = ledger.counts(campaign.cid);
    const exitCode = dryRunExitCode(env.signal.aborted, invalidRows(ledger, campaign.cid));
    // every row as this run would start: pending (to be sent) or skipped, with why
    if (plan.report) {
      await writeRunReport(
        plan.report,
        ledger.allRows(campaign.cid),
        'Nothing was sent: run the dry run again with a writable --report FILE.',
      );
    }
    events.summary(
      buildSummary(ledger, campaign, counts, {
        status: 'dry_run',
        exitCode,
        durationMs: clock.now() - started,
        requests: 0,
        achievedRate: null,
        targetRate: plan.rate,
        stop: null,
        report: plan.report,
        rendered,
      }),
    );
    return exitCode;
  } finally {
    temp.close();
    await rm(dir, { recursive: true, force: true });
  }
}
