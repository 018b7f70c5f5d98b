import type { Command } from 'commander';
import { defineCommand } from '../../cli/define.js';
import type { Deps } from '../../cli/deps.js';
import type { TokenCheck } from '../../lib/auth/check.js';
import { ExitCode } from '../../lib/errors.js';

export interface StatusOptions {
  check?: boolean;
}

export default defineCommand({
  flags: (cmd: Command) => {
    cmd
      .description(
        'Show the profile, where each value comes from, and whether the token works (checked live)',
      )
      .option('--no-check', 'do not call Meta; only show where the values come from')
      .addHelpText(
        'after',
        `
Exit codes: 0 the token works, 4 no token or Meta rejects it, 1 the check itself failed (network).

Examples:
  $ wacx auth status
  $ wacx auth status --profile staging --json`,
      );
  },
  run: (deps, opts: StatusOptions) => run(opts, deps),
});

export async function run(opts: StatusOptions, deps: Deps): Promise<number> {
  const [{ checkToken, describeCheck }, { exitCodeFor }, { hintFor }] = await Promise.all([
    import('../../lib/auth/check.js'),
    import('../../lib/exit-codes.js'),
    import('../../cli/hints.js'),
  ]);
  const config = deps.config();
  const rows = await config.describe();
  const token = await config.secret('token');
  const appSecret = await config.secret('appSecret');
  const storage = await config.secretStorage();
  let check: TokenCheck | null = null;
  let failure: { message: string; exitCode: number; hint: string | undefined } | null = null;
  if (token.value && opts.check !== false) {
    try {
      const graph = await deps.graph();
      check = await checkToken(graph, {
        token: token.value,
        appId: config.get('appId'),
        appSecret: appSecret.value,
        wabaId: config.get('wabaId'),
        phoneNumberId: config.get('phoneNumberId'),
        signal: deps.signal,
      });
    } catch (error) {
      if (deps.signal.aborted) throw error;
      failure = {
        message: error instanceof Error ? error.message : String(error),
        exitCode: exitCodeFor(error),
        hint: hintFor(error) ?? (error as { hint?: string }).hint,
      };
    }
  }
  const valid = check ? check.valid : null;
  const code = !token.value
    ? ExitCode.AUTH
    : check
      ? check.valid
        ? ExitCode.OK
        : ExitCode.AUTH
      : failure
        ? failure.exitCode
        : ExitCode.OK;

  if (deps.globals.json) {
    const tokenRow = rows.find((r) => r.key === 'token');
    deps.io.printJson({
      profile: config.profileName,
      profileSource: config.profileSource,
      configPath: config.profiles.path,
      settings: rows,
      secrets: {
        storage: storage.kind,
        path: storage.kind === 'file' ? storage.path : null,
        keychain: storage.kind === 'keychain' ? storage.name : null,
        why: storage.kind === 'file' ? storage.why : null,
      },
      token: {
        present: Boolean(token.value),
        source: token.source,
        value: tokenRow?.value ?? null,
        valid,
        checked: check !== null,
        check,
        error: check?.error?.message ?? failure?.message ?? null,
      },
    });
    return code;
  }

  const io = deps.io;
  io.info(`Profile ${io.style.bold(config.profileName)} (${config.profileSource}) · ${config.profiles.path}`);
  io.table(
    ['KEY', 'VALUE', 'SOURCE'],
    rows.map((r) => [r.key, r.value ?? '-', r.source]),
  );
  io.info(
    storage.kind === 'keychain'
      ? `Secrets: ${storage.name}`
      : `Secrets: file ${storage.path} (0600) — ${storage.why}`,
  );
  for (const w of check?.warnings ?? []) io.warn(w);
  if (!token.value) {
    io.error(`Not logged in: no access token for profile "${config.profileName}".`);
    io.info(`  ${io.style.cyan('→')} Run \`wacx auth login\`, or set WACX_TOKEN.`);
  } else if (check?.valid) {
    io.success(`Token is valid: ${describeCheck(check)}`);
  } else if (check) {
    io.error(`Token is not valid: ${check.error?.message ?? 'rejected by Meta'}`);
    io.info(`  ${io.style.cyan('→')} Run \`wacx auth login\` with a new token.`);
  } else if (failure) {
    io.error(`Could not check the token: ${failure.message}`);
    if (failure.hint) io.info(`  ${io.style.cyan('→')} ${failure.hint}`);
  } else {
    io.info('Token not checked (--no-check).');
  }
  return code;
}
