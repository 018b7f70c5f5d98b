import type { VerbDefinition } from './define.js';

/** What every verb module exports: its definition (flags, arguments, help, and `run`). */
export interface CommandModule {
  default: VerbDefinition;
}

export interface CommandSpec {
  /** ['templates', 'list'] for `wacx templates list`. */
  path: readonly string[];
  summary: string;
  load: () => Promise<CommandModule>;
  /** Long runs with a memory cap: V8 is told to keep its heaps small before the command's modules load. */
  tightHeap?: true;
  /** May create the profile named by --profile (its settings, or its store); any other command refuses a profile that has neither. */
  createsProfile?: true;
  /** Changes the profile file or the keychain: refused with --sandbox, whose profile is thrown away. */
  changesConfig?: true;
  /** A server: Ctrl+C / SIGTERM is its normal stop, so returning after one is exit 0, not 130. */
  stopsOnSignal?: true;
  /** An old name that keeps working for scripts written against it: in no help and no completion. */
  hidden?: true;
}

export const GROUPS: Record<string, string> = {
  auth: 'Log in, check and forget credentials',
  config: 'Read and change profile settings',
  history: 'Start the coexistence syncs and follow the history import',
  webhooks: 'Receive and import signed webhooks into the local store',
  templates: 'Manage message templates, and templates as code (lint, plan, push)',
  campaigns: 'Inspect, resume and reconcile bulk sends',
  audit: 'Verify, anchor and export the tamper-evident audit trail',
  consent: 'The consent register: who agreed to what, when, with what proof',
  db: 'The store: status, migrations, retention, and a copy from SQLite into PostgreSQL for teams',
  media: 'Download media received in webhooks (history imports, echoes)',
};

/** The one flat registry of commands. Modules are imported only when their command runs. */
export const COMMANDS: readonly CommandSpec[] = [
  {
    path: ['auth', 'login'],
    summary: 'Store and check an access token for a profile',
    load: () => import('../commands/auth/login.js'),
    createsProfile: true,
    changesConfig: true,
  },
  {
    path: ['auth', 'status'],
    summary: 'Show the profile, where each value comes from, and whether the token works',
    load: () => import('../commands/auth/status.js'),
  },
  {
    path: ['auth', 'logout'],
    summary: "Forget a profile's secrets",
    load: () => import('../commands/auth/logout.js'),
    changesConfig: true,
  },
  {
    path: ['config', 'list'],
    summary: 'List every setting with its value and source',
    load: () => import('../commands/config/list.js'),
  },
  { path: ['config', 'get'], summary: 'Print one setting', load: () => import('../commands/config/get.js') },
  {
    path: ['config', 'set'],
    summary: 'Change a setting of the profile',
    load: () => import('../commands/config/set.js'),
    createsProfile: true,
    changesConfig: true,
  },
  {
    path: ['config', 'unset'],
    summary: 'Remove a setting from the profile',
    load: () => import('../commands/config/unset.js'),
    changesConfig: true,
  },
  {
    path: ['sandbox'],
    summary: 'Run a local emulator of the WhatsApp Cloud API',
    load: () => import('../commands/sandbox.js'),
    stopsOnSignal: true,
  },
  {
    path: ['eligibility'],
    summary: 'Check whether a Business App number can be onboarded for coexistence',
    load: () => import('../commands/eligibility.js'),
  },
  {
    path: ['onboard'],
    summary: 'Onboard a Business App number (Embedded Signup QR code, code exchange, webhooks, syncs)',
    load: () => import('../commands/onboard.js'),
    createsProfile: true,
  },
  {
    path: ['history', 'sync'],
    summary: 'Request the one-shot contact and history syncs (within 24 h of onboarding)',
    load: () => import('../commands/history/sync.js'),
  },
  {
    path: ['history', 'status'],
    summary: 'Show the history import and contact sync progress',
    load: () => import('../commands/history/status.js'),
  },
  {
    path: ['webhooks', 'serve'],
    summary: 'Run the signed webhook receiver',
    load: () => import('../commands/webhooks/serve.js'),
    stopsOnSignal: true,
    createsProfile: true,
  },
  {
    path: ['webhooks', 'ingest'],
    summary: 'Import raw webhook payloads (NDJSON) into the store',
    load: () => import('../commands/webhooks/ingest.js'),
    createsProfile: true,
  },
  {
    path: ['templates', 'list'],
    summary: 'List message templates',
    load: () => import('../commands/templates/list.js'),
  },
  {
    path: ['templates', 'get'],
    summary: 'Show one template',
    load: () => import('../commands/templates/get.js'),
  },
  {
    path: ['templates', 'create'],
    summary: 'Create a template from a file',
    load: () => import('../commands/templates/create.js'),
  },
  {
    path: ['templates', 'update'],
    summary: 'Edit a template from a file',
    load: () => import('../commands/templates/update.js'),
  },
  {
    path: ['templates', 'delete'],
    summary: 'Delete a template',
    load: () => import('../commands/templates/delete.js'),
  },
  {
    path: ['templates', 'lint'],
    summary: "Validate template files offline against Meta's rules",
    load: () => import('../commands/templates/lint.js'),
  },
  {
    path: ['templates', 'pull'],
    summary: "Write the WABA's templates as files",
    load: () => import('../commands/templates/pull.js'),
  },
  {
    path: ['templates', 'plan'],
    summary: 'Compare template files with the WABA',
    load: () => import('../commands/templates/plan.js'),
  },
  {
    path: ['templates', 'push'],
    summary: 'Apply the plan to the WABA',
    load: () => import('../commands/templates/push.js'),
  },
  {
    path: ['send'],
    summary: 'Send a template to every row of a CSV, paced, resumable, never twice',
    load: () => import('../commands/send.js'),
    tightHeap: true,
  },
  {
    path: ['campaigns', 'list'],
    summary: 'List campaigns in the ledger',
    load: () => import('../commands/campaigns/list.js'),
  },
  {
    path: ['campaigns', 'show'],
    summary: "Show a campaign's counts and unknown rows",
    load: () => import('../commands/campaigns/show.js'),
  },
  {
    path: ['campaigns', 'resume'],
    summary: 'Continue a stopped campaign',
    load: () => import('../commands/campaigns/resume.js'),
    tightHeap: true,
  },
  {
    path: ['campaigns', 'reconcile'],
    summary: 'Settle unknown rows from status webhooks',
    load: () => import('../commands/campaigns/reconcile.js'),
  },
  {
    path: ['campaigns', 'estimate'],
    summary: "Price a stored campaign with Meta's rate card",
    load: () => import('../commands/campaigns/estimate.js'),
  },
  {
    path: ['campaigns', 'cost'],
    summary: 'What a sent campaign cost, next to its estimate',
    load: () => import('../commands/campaigns/cost.js'),
  },
  {
    path: ['audit', 'verify'],
    summary: 'Recompute the audit chain and name the first tampered record',
    load: () => import('../commands/audit/verify.js'),
    tightHeap: true,
  },
  {
    path: ['audit', 'anchor'],
    summary: 'Print the head of the audit chain to publish elsewhere',
    load: () => import('../commands/audit/anchor.js'),
  },
  {
    path: ['audit', 'export'],
    summary: 'Export audit records with a manifest, for write-once storage',
    load: () => import('../commands/audit/export.js'),
    tightHeap: true,
  },
  {
    path: ['consent', 'import'],
    summary: 'Import consents from a CSV, bad rows named by line',
    load: () => import('../commands/consent/import.js'),
  },
  {
    path: ['consent', 'grant'],
    summary: 'Record a consent with its source and proof',
    load: () => import('../commands/consent/grant.js'),
  },
  {
    path: ['consent', 'revoke'],
    summary: 'Record a withdrawal of consent',
    load: () => import('../commands/consent/revoke.js'),
  },
  {
    path: ['consent', 'show'],
    summary: "A person's whole consent history",
    load: () => import('../commands/consent/show.js'),
  },
  {
    path: ['consent', 'list'],
    summary: 'Everyone in the register with their current state',
    load: () => import('../commands/consent/list.js'),
  },
  {
    path: ['db', 'status'],
    summary: "Show the store's backend, schema version and pending migrations",
    load: () => import('../commands/db/status.js'),
  },
  {
    path: ['db', 'migrate'],
    summary: 'Apply pending schema migrations',
    load: () => import('../commands/db/migrate.js'),
  },
  {
    path: ['db', 'copy'],
    summary: "Copy a profile's SQLite store into PostgreSQL",
    load: () => import('../commands/db/copy.js'),
  },
  {
    path: ['db', 'prune'],
    summary: 'Remove message contents older than a retention window',
    load: () => import('../commands/db/prune.js'),
  },
  {
    path: ['store', 'prune'],
    summary: 'Old name of `wacx db prune`',
    load: () => import('../commands/db/prune.js'),
    hidden: true,
  },
  {
    path: ['media', 'download'],
    summary: 'Download a media object by its id',
    load: () => import('../commands/media/download.js'),
  },
  {
    path: ['report'],
    summary: 'Messages, response times, campaign rates and App activity',
    load: () => import('../commands/report.js'),
  },
  {
    path: ['doctor'],
    summary: 'Check coexistence sync health, with a fix for every problem',
    load: () => import('../commands/doctor.js'),
  },
];
