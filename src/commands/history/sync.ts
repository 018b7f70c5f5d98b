import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import { ExitCode } from '../../lib/errors.js';
import type { SyncKind } from '../../lib/history/sync-requests.js';

interface SyncOptions {
  contacts?: boolean;
  history?: boolean;
  phoneNumberId?: string;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Request the one-shot coexistence syncs (contacts, then chat history) for the number. Each can be requested once, within 24 h of onboarding.',
      )
      .option('--contacts', 'request the contact sync (smb_app_state_sync)')
      .option('--history', 'request the chat history sync')
      .addHelpText(
        'after',
        `
Without --contacts or --history both are requested, contacts first.
The results arrive as webhooks: keep \`wacx webhooks serve\` (or your endpoint + \`wacx webhooks ingest\`) running,
keep the WhatsApp Business App open on the phone, and follow with \`wacx history status --watch\`.

Exit codes: 0 requested, 1 refused (already requested: 2593107; window closed: 2593108) or failed, 4 no token.

Examples:
  $ wacx history sync
  $ wacx history sync --history --json`,
      );
  },
  run: (deps, opts: SyncOptions) => run(opts, deps),
});

interface SyncResult {
  sync_type: SyncKind;
  outcome: 'accepted' | 'refused' | 'failed';
  request_id: string | null;
  requested_at: string | null;
  error: { code: number | null; message: string; hint: string | null } | null;
}

export async function run(opts: SyncOptions, deps: Deps): Promise<number> {
  const [{ requestSync, SYNC_LABEL, SyncRefusedError }, { GraphApiError }, { hintFor }] = await Promise.all([
    import('../../lib/history/sync-requests.js'),
    import('../../lib/graph/errors.js'),
    import('../../cli/hints.js'),
  ]);
  const io = deps.io;
  const phoneNumberId = deps
    .config()
    .withFlags({ phoneNumberId: opts.phoneNumberId })
    .require('phoneNumberId', '--phone-number-id');
  const types: SyncKind[] = [];
  const both = !opts.contacts && !opts.history;
  if (both || opts.contacts) types.push('smb_app_state_sync');
  if (both || opts.history) types.push('history');

  const graph = await deps.graph();
  const store = await deps.store();
  const results: SyncResult[] = [];
  for (const type of types) {
    try {
      const r = await requestSync({ graph, db: store.db, clock: deps.clock }, phoneNumberId, type, {
        signal: deps.signal,
      });
      results.push({
        sync_type: type,
        outcome: 'accepted',
        request_id: r.requestId,
        requested_at: new Date(r.requestedAt).toISOString(),
        error: null,
      });
      if (!deps.globals.json) io.success(`${cap(SYNC_LABEL[type])} requested (request id ${r.requestId}).`);
    } catch (error) {
      const refused = error instanceof SyncRefusedError;
      // auth problems and anything unexpected stop here (exit 4 / 1 with the usual hints)
      if (!refused && !(error instanceof GraphApiError && error.category !== 'auth')) throw error;
      results.push({
        sync_type: type,
        outcome: refused ? 'refused' : 'failed',
        request_id: null,
        requested_at: null,
        error: {
          code: refused ? (error.code ?? null) : error.code,
          message: error.message,
          hint: hintFor(error) ?? error.hint ?? null,
        },
      });
      if (!deps.globals.json) {
        io.error(error.message);
        const hint = hintFor(error) ?? error.hint;
        if (hint) io.info(`  ${io.style.cyan('→')} ${hint}`);
      }
    }
  }
  const ok = results.every((r) => r.outcome === 'accepted');
  if (deps.globals.json) {
    io.printJson({ phone_number_id: phoneNumberId, results });
  } else if (results.some((r) => r.outcome === 'accepted')) {
    io.info(
      'Keep the WhatsApp Business App open on the phone while it syncs (it can take several minutes). Follow it with `wacx history status --watch`.',
    );
  }
  return ok ? ExitCode.OK : ExitCode.FAILED;
}

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
