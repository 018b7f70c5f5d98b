import { createHmac } from 'node:crypto';
import {
  type CheckResult,
  DEFAULT_DOCTOR_OPTIONS,
  type DoctorFacts,
  type DoctorOptions,
  evaluate,
  type Gathered,
  type StoreFacts,
} from '../../src/lib/doctor/run.js';
import { historyStatus } from '../../src/lib/history/queries.js';
import { Store } from '../../src/lib/store/store.js';
import { syncHealth } from '../../src/lib/webhooks/queries.js';
import { ingestPayload } from '../../src/lib/webhooks/storage.js';
import { SEED } from '../../src/sandbox/seed.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const NOW = Date.UTC(2026, 10, 24, 12, 0, 0);
export const PN = SEED.phoneNumbers.coex.id;
export const WABA = SEED.waba.id;
export const APP = SEED.app.id;

// ---------------------------------------------------------------------------------------------------------
// Webhook payloads (meta-cloud-api.md §2), for the coexistence number of the sandbox world.

const metadata = { display_phone_number: SEED.phoneNumbers.coex.e164, phone_number_id: PN };

export function envelope(field: string, value: unknown, time?: number): Record<string, unknown> {
  return {
    object: 'whatsapp_business_account',
    entry: [
      {
        id: WABA,
        ...(time !== undefined ? { time: Math.floor(time / 1000) } : {}),
        changes: [{ field, value }],
      },
    ],
  };
}

let seq = 0;
export function echo(at: number): Record<string, unknown> {
  seq++;
  return envelope('smb_message_echoes', {
    messaging_product: 'whatsapp',
    metadata,
    message_echoes: [
      {
        from: SEED.phoneNumbers.coex.e164,
        to: '16505551234',
        id: `wamid.ECHO${at}${seq}`,
        timestamp: String(Math.floor(at / 1000)),
        type: 'text',
        text: { body: 'from the App' },
      },
    ],
  });
}

export function contact(
  at: number,
  phone = '16505551234',
  action: 'add' | 'remove' = 'add',
): Record<string, unknown> {
  return envelope('smb_app_state_sync', {
    messaging_product: 'whatsapp',
    metadata,
    state_sync: [
      {
        type: 'contact',
        contact: { full_name: 'Pablo Morales', first_name: 'Pablo', phone_number: phone },
        action,
        metadata: { timestamp: String(Math.floor(at / 1000)) },
      },
    ],
  });
}

export function historyChunk(phase: number, chunkOrder: number, progress: number): Record<string, unknown> {
  return envelope('history', {
    messaging_product: 'whatsapp',
    metadata,
    history: [
      {
        metadata: { phase, chunk_order: chunkOrder, progress },
        threads: [
          {
            id: '16505551234',
            messages: [
              {
                from: '16505551234',
                id: `wamid.HIST${phase}${chunkOrder}`,
                timestamp: '1739230955',
                type: 'text',
                text: { body: 'hi' },
                history_context: { status: 'READ' },
              },
            ],
          },
        ],
      },
    ],
  });
}

export function historyDeclined(): Record<string, unknown> {
  return envelope('history', {
    messaging_product: 'whatsapp',
    metadata,
    history: [
      {
        errors: [
          {
            code: 2593109,
            title: 'History sync is turned off by the business from the WhatsApp Business App',
            message: 'History sync is turned off by the business from the WhatsApp Business App',
            error_data: { details: 'History sharing is turned off by the business' },
          },
        ],
      },
    ],
  });
}

export function accountUpdate(
  event: string,
  at: number,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return envelope('account_update', { event, ...extra }, at);
}

export function partnerRemoved(at: number, reason = 'PRIMARY_INACTIVITY'): Record<string, unknown> {
  return accountUpdate('PARTNER_REMOVED', at, {
    phone_number: SEED.phoneNumbers.coex.e164,
    disconnection_info: { reason, initiated_by: 'SYSTEM' },
  });
}

export function sign(body: string, secret: string = SEED.app.secret): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Stores payloads as the receiver would (signed, verified), each with its own receivedAt. */
export function ingest(db: Store['db'], items: { payload: Record<string, unknown>; at: number }[]): void {
  for (const { payload, at } of items) {
    const body = JSON.stringify(payload);
    const r = ingestPayload(db, body, { signature: sign(body), appSecret: SEED.app.secret, receivedAt: at });
    if (r.outcome !== 'stored') throw new Error(`fixture payload not stored: ${r.outcome} ${r.reason ?? ''}`);
  }
}

/**
 * Posts `n` deliveries with a wrong signature through the receiver's own path (ingestPayload, which records each
 * rejection), at `at`; returns how many were refused.
 */
export function forge(db: Store['db'], at: number, n = 1): number {
  let refused = 0;
  for (let i = 0; i < n; i++) {
    const body = JSON.stringify(echo(at));
    const r = ingestPayload(db, body, {
      signature: sign(body, 'not-the-app-secret'),
      appSecret: SEED.app.secret,
      receivedAt: at,
    });
    if (r.outcome === 'rejected' && r.reason === 'bad_signature') refused++;
  }
  return refused;
}

/** Records a sync request row the way src/lib/history/sync.ts does. */
export function recordSync(
  db: Store['db'],
  type: 'history' | 'smb_app_state_sync',
  at: number,
  onboardedAt: number | null,
  outcome: 'accepted' | 'refused' | 'failed' = 'accepted',
  errorCode: number | null = null,
): void {
  db.prepare(
    `INSERT INTO sync_requests (phone_number_id, sync_type, outcome, request_id, requested_at, onboarded_at, error_code, error_message)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(
    PN,
    type,
    outcome,
    outcome === 'accepted' ? `req-${type}-${at}` : null,
    at,
    onboardedAt,
    errorCode,
    errorCode ? 'refused' : null,
  );
  if (onboardedAt !== null) {
    db.prepare(
      `INSERT INTO sync_onboardings (phone_number_id, onboarded_at, source, recorded_at) VALUES (?, ?, 'onboard', ?)
       ON CONFLICT (phone_number_id) DO UPDATE SET onboarded_at = excluded.onboarded_at`,
    ).run(PN, onboardedAt, at);
  }
}

/** A healthy activity stream: onboarded 3 days ago, syncs requested and complete, an echo an hour ago. */
export function seedHealthy(db: Store['db'], now: number = NOW): void {
  const onboarded = now - 3 * DAY;
  recordSync(db, 'smb_app_state_sync', onboarded + 60_000, onboarded);
  recordSync(db, 'history', onboarded + 120_000, onboarded);
  ingest(db, [
    { payload: accountUpdate('PARTNER_ADDED', onboarded), at: onboarded },
    { payload: contact(onboarded + 130_000), at: onboarded + 130_000 },
    { payload: historyChunk(0, 1, 50), at: onboarded + 200_000 },
    { payload: historyChunk(1, 2, 100), at: onboarded + 300_000 },
    { payload: echo(now - HOUR), at: now - HOUR },
  ]);
}

/** Store facts from a real (in-memory) database filled by `fill`. */
export function storeFacts(fill: (db: Store['db']) => void, path = ':memory:'): Gathered<StoreFacts> {
  const store = Store.open(':memory:');
  try {
    fill(store.db);
    return {
      state: 'ok',
      value: { path, exists: true, health: syncHealth(store.db, PN), history: historyStatus(store.db, PN) },
    };
  } finally {
    store.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Gathered facts of a healthy coexistence set-up.

export function greenFacts(now: number = NOW): DoctorFacts {
  return {
    now,
    nodeVersion: 'v22.12.0',
    config: {
      profileName: 'default',
      profileExists: true,
      profileNames: ['default'],
      configPath: '/home/u/.config/wacx/config.json',
      configMode: 0o600,
      configHoldsSecrets: false,
      graphUrl: { value: 'http://127.0.0.1:9999', source: 'env' },
      apiVersion: { value: 'v25.0', source: 'default' },
      appId: { value: APP, source: 'profile' },
      wabaId: { value: WABA, source: 'profile' },
      phoneNumberId: { value: PN, source: 'profile' },
      token: { present: true, source: 'keychain' },
      appSecret: { present: true, source: 'keychain' },
    },
    api: {
      state: 'ok',
      value: { sentAt: now, receivedAt: now + 40, serverDate: Math.floor((now + 20) / 1000) * 1000 },
    },
    token: {
      state: 'ok',
      value: {
        via: 'app',
        appTokenError: null,
        debug: {
          app_id: APP,
          type: 'SYSTEM_USER',
          application: SEED.app.name,
          is_valid: true,
          expires_at: 0,
          data_access_expires_at: 0,
          scopes: ['whatsapp_business_management', 'whatsapp_business_messaging', 'business_management'],
          granular_scopes: [
            { scope: 'whatsapp_business_management', target_ids: [WABA] },
            { scope: 'whatsapp_business_messaging', target_ids: [WABA] },
          ],
        },
      },
    },
    waba: {
      state: 'ok',
      value: {
        node: { id: WABA, name: SEED.waba.name, account_review_status: 'APPROVED' },
        usage: [
          {
            type: 'whatsapp_business_management',
            callCount: 3,
            totalCputime: 1,
            totalTime: 2,
            estimatedTimeToRegainAccess: 0,
          },
        ],
      },
    },
    subscribedApps: {
      state: 'ok',
      value: [{ whatsapp_business_api_data: { id: APP, name: SEED.app.name } }],
    },
    appSubscriptions: {
      state: 'ok',
      value: [
        {
          object: 'whatsapp_business_account',
          callback_url: 'https://example.com/webhooks',
          active: true,
          fields: ['messages', 'history', 'smb_app_state_sync', 'smb_message_echoes', 'account_update'].map(
            (name) => ({
              name,
              version: 'v25.0',
            }),
          ),
        },
      ],
    },
    phone: {
      state: 'ok',
      value: {
        id: PN,
        display_phone_number: SEED.phoneNumbers.coex.display,
        verified_name: 'Lucky Shrub',
        quality_rating: 'GREEN',
        name_status: 'APPROVED',
        status: 'CONNECTED',
        platform_type: 'CLOUD_API',
        is_on_biz_app: true,
        throughput: { level: 'STANDARD' },
        whatsapp_business_manager_messaging_limit: 'TIER_2K',
        last_onboarded_time: new Date(now - 3 * DAY).toISOString().replace('.000Z', '+0000'),
        health_status: {
          can_send_message: 'AVAILABLE',
          entities: [{ entity_type: 'PHONE_NUMBER', id: PN, can_send_message: 'AVAILABLE' }],
        },
      },
    },
    wabaNumbers: { state: 'skipped', reason: 'a phone number id is configured', fix: null },
    templates: {
      state: 'ok',
      value: [
        {
          id: '1',
          name: 'hello_world',
          language: 'en_US',
          category: 'UTILITY',
          status: 'APPROVED',
          components: [],
        },
        {
          id: '2',
          name: 'order_update',
          language: 'en_US',
          category: 'UTILITY',
          status: 'APPROVED',
          components: [],
        },
      ],
    },
    store: storeFacts((db) => seedHealthy(db, now)),
    consent: { state: 'ok', value: { campaigns: [] } },
    marketing: { state: 'ok', value: { onboardingStatus: 'NOT_STARTED', blockedOnMessages: false } },
  };
}

export function run(facts: DoctorFacts, options: Partial<DoctorOptions> = {}): Map<string, CheckResult> {
  const results = evaluate(facts, { ...DEFAULT_DOCTOR_OPTIONS, ...options });
  return new Map(results.map((r) => [r.id, r]));
}

export function check(facts: DoctorFacts, id: string, options: Partial<DoctorOptions> = {}): CheckResult {
  const r = run(facts, options).get(id);
  if (!r) throw new Error(`no check ${id}`);
  return r;
}
