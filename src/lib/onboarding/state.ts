import { ONBOARDING_MIGRATIONS } from '../store/schema/onboarding.js';
import type { Db, Store } from '../store/store.js';

/** The steps of `wacx onboard`, in order (stable ids: they appear in --json and in the store). */
export const STEPS = [
  'signup',
  'exchange',
  'discover',
  'subscribe',
  'webhook_fields',
  'webhook_delivery',
  'contact_sync',
  'history_sync',
  'profile',
] as const;
export type StepId = (typeof STEPS)[number];
export type StepStatus = 'pending' | 'done' | 'skipped' | 'failed';

export const STEP_TITLES: Record<StepId, string> = {
  signup: 'Embedded Signup (QR code / URL, callback)',
  exchange: 'Code exchanged for the business token',
  discover: 'WABA and coexistence number found',
  subscribe: 'App subscribed to the WABA',
  webhook_fields: 'App webhook fields (history, smb_*, account_update)',
  webhook_delivery: 'A webhook reached the store (the syncs arrive by webhook)',
  contact_sync: 'Contact sync requested',
  history_sync: 'History sync requested',
  profile: 'Profile saved',
};

export interface StepState {
  id: StepId;
  status: StepStatus;
  detail: Record<string, unknown>;
  error: string | null;
  updatedAt: number | null;
}

export interface RunState {
  id: number;
  startedAt: number;
  updatedAt: number;
  completedAt: number | null;
  appId: string | null;
  configId: string | null;
  wabaId: string | null;
  phoneNumberId: string | null;
  displayPhoneNumber: string | null;
  onboardedAt: number | null;
  steps: StepState[];
}

interface RunRow {
  id: number;
  started_at: number;
  updated_at: number;
  completed_at: number | null;
  app_id: string | null;
  config_id: string | null;
  waba_id: string | null;
  phone_number_id: string | null;
  display_phone_number: string | null;
  onboarded_at: number | null;
}
interface StepRow {
  step: StepId;
  status: StepStatus;
  detail: string;
  error: string | null;
  updated_at: number;
}

/** A step counts as finished when done, or when the signup was skipped because a code was given. */
export function isFinished(s: StepState): boolean {
  return s.status === 'done' || (s.id === 'signup' && s.status === 'skipped');
}

/** The onboarding state of one profile's store (resumable across runs). */
export class OnboardingState {
  readonly db: Db;

  constructor(store: Store | { db: Db; migrate?: Store['migrate'] }) {
    this.db = store.db;
    // applied here too so that the state works whether or not the lead wired ONBOARDING_MIGRATIONS globally
    // (the runner skips ids already applied)
    store.migrate?.(ONBOARDING_MIGRATIONS);
  }

  latest(): RunState | undefined {
    const row = this.db.prepare('SELECT * FROM onboarding_runs ORDER BY id DESC LIMIT 1').get() as
      | RunRow
      | undefined;
    return row ? this.load(row) : undefined;
  }

  get(runId: number): RunState {
    const row = this.db.prepare('SELECT * FROM onboarding_runs WHERE id = ?').get(runId) as
      | RunRow
      | undefined;
    if (!row) throw new Error(`No onboarding run ${runId}.`);
    return this.load(row);
  }

  create(now: number, ids: { appId?: string | undefined; configId?: string | undefined }): RunState {
    const info = this.db
      .prepare('INSERT INTO onboarding_runs (started_at, updated_at, app_id, config_id) VALUES (?, ?, ?, ?)')
      .run(now, now, ids.appId ?? null, ids.configId ?? null);
    const runId = Number(info.lastInsertRowid);
    const insert = this.db.prepare(
      "INSERT INTO onboarding_steps (run_id, step, status, detail, updated_at) VALUES (?, ?, 'pending', '{}', ?)",
    );
    this.db.transaction(() => {
      for (const s of STEPS) insert.run(runId, s, now);
    })();
    return this.get(runId);
  }

  setStep(
    runId: number,
    step: StepId,
    status: StepStatus,
    now: number,
    detail?: Record<string, unknown>,
    error?: string | null,
  ): void {
    this.db
      .prepare(
        `UPDATE onboarding_steps SET status = ?, detail = COALESCE(?, detail), error = ?, updated_at = ?
         WHERE run_id = ? AND step = ?`,
      )
      .run(status, detail ? JSON.stringify(detail) : null, error ?? null, now, runId, step);
    this.db.prepare('UPDATE onboarding_runs SET updated_at = ? WHERE id = ?').run(now, runId);
  }

  setIds(
    runId: number,
    now: number,
    ids: Partial<{
      appId: string;
      configId: string;
      wabaId: string;
      phoneNumberId: string;
      displayPhoneNumber: string;
      onboardedAt: number | null;
    }>,
  ): void {
    const cols: Record<string, string> = {
      appId: 'app_id',
      configId: 'config_id',
      wabaId: 'waba_id',
      phoneNumberId: 'phone_number_id',
      displayPhoneNumber: 'display_phone_number',
      onboardedAt: 'onboarded_at',
    };
    for (const [k, v] of Object.entries(ids)) {
      if (v === undefined || !cols[k]) continue;
      this.db
        .prepare(`UPDATE onboarding_runs SET ${cols[k]} = ?, updated_at = ? WHERE id = ?`)
        .run(v, now, runId);
    }
  }

  complete(runId: number, now: number): void {
    this.db
      .prepare('UPDATE onboarding_runs SET completed_at = ?, updated_at = ? WHERE id = ?')
      .run(now, now, runId);
  }

  private load(row: RunRow): RunState {
    const rows = this.db
      .prepare('SELECT step, status, detail, error, updated_at FROM onboarding_steps WHERE run_id = ?')
      .all(row.id) as StepRow[];
    const byId = new Map(rows.map((r) => [r.step, r]));
    return {
      id: row.id,
      startedAt: row.started_at,
      updatedAt: row.updated_at,
      completedAt: row.completed_at,
      appId: row.app_id,
      configId: row.config_id,
      wabaId: row.waba_id,
      phoneNumberId: row.phone_number_id,
      displayPhoneNumber: row.display_phone_number,
      onboardedAt: row.onboarded_at,
      steps: STEPS.map((id) => {
        const r = byId.get(id);
        return {
          id,
          status: r?.status ?? 'pending',
          detail: r ? (JSON.parse(r.detail) as Record<string, unknown>) : {},
          error: r?.error ?? null,
          updatedAt: r?.updated_at ?? null,
        };
      }),
    };
  }
}
