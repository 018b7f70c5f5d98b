/**
 * What happens after a call: status webhooks of accepted messages, contact and history sync after
 * smb_app_data, template status updates, account updates, echoes, and the `seedActivity` stream.
 */
import type { SandboxCore } from './core.js';
import { HISTORY_MEDIA_ID, mediaOf } from './routes-media.js';
import { SEED } from './seed.js';
import type { AcceptedMessage, NumberState, TemplateState, UserState } from './world.js';

const sec = (ms: number) => String(Math.floor(ms / 1000));

/** Recipients (wa_id suffix) with a deterministic fate, documented in the sandbox's README section. */
export const FATES = {
  undeliverable: '0199',
  ecosystem: '0198',
  neverRead: '0197',
} as const;

function wamid(tag: string): string {
  return `wamid.${Buffer.from(tag).toString('base64url')}`;
}

/** Why a message fails: the `errors[0]` of its failed status webhook. */
export interface StatusFailure {
  code: number;
  title: string;
  details: string;
}

/** Schedules sent -> delivered -> read (or failed) for an accepted message. */
export function scheduleStatuses(
  core: SandboxCore,
  n: NumberState,
  msg: AcceptedMessage,
  pricingCategory: string,
  version: number,
  /** Fail the message whatever its recipient (e.g. 131047 on a free-form message outside the window). */
  failure?: StatusFailure,
): void {
  const d = core.statusDelayMs;
  const pricing = {
    billable: pricingCategory !== 'service',
    pricing_model: 'PMP',
    type: pricingCategory === 'service' ? 'free_customer_service' : 'regular',
    category: pricingCategory,
  };
  // a send by BSUID has no phone: its statuses name the user id only (§15.1)
  const to = msg.to ?? msg.user_id ?? '';
  const conversation =
    version < 24 ? { id: `CONVERSATION_${to}`, origin: { type: pricingCategory } } : undefined;
  const cb = msg.callback_data;
  const status = (s: string, extra?: Record<string, unknown>) => {
    const o: Record<string, unknown> = {
      id: msg.id,
      status: s,
      timestamp: sec(core.clock.now()),
    };
    if (msg.to !== null) o.recipient_id = msg.to;
    if (msg.user_id !== null) o.recipient_user_id = msg.user_id;
    if (cb !== null) o.biz_opaque_callback_data = cb;
    if (extra) Object.assign(o, extra);
    core.queueStatus(n.id, o);
  };
  const withPricing = conversation ? { conversation, pricing } : { pricing };
  const fate =
    failure ??
    (to.endsWith(FATES.undeliverable)
      ? {
          code: 131026,
          title: 'Message undeliverable',
          details:
            'The recipient is not a WhatsApp user, uses an old client, or has not accepted the latest terms.',
        }
      : to.endsWith(FATES.ecosystem)
        ? {
            code: 131049,
            title: 'This message was not delivered to maintain healthy ecosystem engagement.',
            details:
              'In order to maintain a healthy ecosystem engagement, the message failed to be delivered.',
          }
        : null);
  if (fate) {
    const { code, title, details } = fate;
    core.scheduler.after(d, () =>
      status('failed', {
        errors: [
          {
            code,
            title,
            message: title,
            error_data: { details },
            href: 'https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes',
          },
        ],
      }),
    );
    return;
  }
  core.scheduler.after(d, () => status('sent', withPricing));
  core.scheduler.after(2 * d, () => status('delivered', withPricing));
  if (!to.endsWith(FATES.neverRead)) core.scheduler.after(3 * d, () => status('read'));
}

// ---------------------------------------------------------------- templates

export function templateStatusUpdate(
  core: SandboxCore,
  t: TemplateState,
  event: string,
  extra: Record<string, unknown> = {},
): void {
  core.emit(
    'message_template_status_update',
    {
      event,
      message_template_id: Number(t.id),
      message_template_name: t.name,
      message_template_language: t.language,
      reason: t.rejectedReason && event === 'REJECTED' ? t.rejectedReason : 'NONE',
      message_template_category: t.category,
      ...extra,
    },
    { withTime: true },
  );
}

// ---------------------------------------------------------------- account updates

export function partnerAdded(core: SandboxCore): void {
  core.emit(
    'account_update',
    { event: 'PARTNER_ADDED', waba_info: { waba_id: SEED.waba.id, owner_business_id: SEED.businessId } },
    { withTime: true },
  );
}

export function accountEvent(core: SandboxCore, value: Record<string, unknown>): void {
  core.emit('account_update', value, { withTime: true });
}

// ---------------------------------------------------------------- contact sync

export function contactSyncValue(core: SandboxCore, n: NumberState, at: number) {
  const w = core.world;
  return {
    messaging_product: 'whatsapp',
    metadata: core.metadata(n),
    state_sync: w.users.map((u) => ({
      type: 'contact',
      contact: {
        full_name: u.fullName,
        first_name: u.firstName,
        ...w.identityFields(u, { phone: 'phone_number', userId: 'user_id', parentUserId: 'parent_user_id' }),
        ...(w.bsuid.enabled ? { country_code: 'US', ...(u.username ? { username: u.username } : {}) } : {}),
      },
      action: 'add',
      metadata: { timestamp: sec(at) },
    })),
  };
}

// ---------------------------------------------------------------- history

interface Chunk {
  phase: number;
  chunk: number;
  progress: number;
}

/** Logical chunks (progress grows with the logical order) and the order they are delivered in. */
export const HISTORY_CHUNKS: Chunk[] = [
  { phase: 0, chunk: 1, progress: 15 },
  { phase: 0, chunk: 2, progress: 30 },
  { phase: 1, chunk: 1, progress: 45 },
  { phase: 1, chunk: 2, progress: 60 },
  { phase: 1, chunk: 3, progress: 75 },
  { phase: 2, chunk: 1, progress: 90 },
  { phase: 2, chunk: 2, progress: 100 },
];
/** Out of order on purpose (chunk_order tells the receiver); progress 100 arrives last. */
export const HISTORY_DELIVERY_ORDER = [1, 0, 2, 4, 3, 5, 6];

const PHASE_WINDOW_DAYS: Record<number, [number, number]> = { 0: [0, 1], 1: [1, 90], 2: [90, 180] };
const LINES = [
  ['Hi! Do you have the Black Prince echeveria in stock?', 'Yes, we do! Would you like us to reserve one?'],
  ['Is the shop open on Sunday?', "We're open 10am to 4pm on Sundays."],
  ['Thanks for the quick delivery!', 'Our pleasure, enjoy your plants!'],
  ['Can I change my order?', 'Sure, tell us what you would like to change.'],
];

/**
 * A history thread's own fields: its id (the user's phone; in BSUID mode, when the phone is withheld, the BSUID:
 * a BSUID-only thread) and, in BSUID mode, the user's BSUID, username and country.
 */
function threadFields(core: SandboxCore, u: UserState): Record<string, unknown> {
  const w = core.world;
  if (!w.bsuid.enabled) return { id: u.phone };
  return {
    id: w.phoneShared(u) ? u.phone : u.userId,
    ...w.identityFields(u, { phone: 'wa_id', userId: 'user_id', parentUserId: 'parent_user_id' }),
    ...(u.username ? { username: u.username } : {}),
    country_code: 'US',
  };
}

export function historyChunkValue(core: SandboxCore, n: NumberState, c: Chunk, onboardedAt: number) {
  const [fromDay, toDay] = PHASE_WINDOW_DAYS[c.phase]!;
  const w = core.world;
  const users = w.users;
  const threads = [0, 1].map((k) => {
    const contact = users[(c.phase * 3 + c.chunk + k) % users.length]!;
    const lines = LINES[(c.chunk + k) % LINES.length]!;
    const span = (toDay - fromDay) * 86_400_000;
    const t0 = onboardedAt - fromDay * 86_400_000 - Math.floor(span * ((c.chunk + k + 1) / 8));
    const sender = w.identityFields(contact, { phone: 'from', userId: 'from_user_id' });
    const messages: Record<string, unknown>[] = [
      {
        ...sender,
        id: wamid(`hist:${n.id}:${c.phase}:${c.chunk}:${k}:0`),
        timestamp: sec(t0),
        type: 'text',
        text: { body: lines[0] },
        history_context: { status: 'READ' },
      },
      {
        from: n.e164,
        ...w.identityFields(contact, { phone: 'to', userId: 'to_user_id' }),
        id: wamid(`hist:${n.id}:${c.phase}:${c.chunk}:${k}:1`),
        timestamp: sec(t0 + 60_000),
        type: 'text',
        text: { body: lines[1] },
        history_context: { status: 'READ' },
      },
    ];
    if (c.phase === 0 && c.chunk === 1 && k === 0) {
      messages.push({
        ...sender,
        id: wamid(`hist:${n.id}:media`),
        timestamp: sec(t0 + 120_000),
        type: 'media_placeholder',
        history_context: { status: 'PLAYED' },
      });
    }
    return { ...threadFields(core, contact), messages };
  });
  return {
    messaging_product: 'whatsapp',
    metadata: core.metadata(n),
    history: [{ metadata: { phase: c.phase, chunk_order: c.chunk, progress: c.progress }, threads }],
  };
}

/** The media follow-up for the recent media placeholder (same wamid, `messages[]` on field history). */
export function historyMediaValue(core: SandboxCore, n: NumberState, onboardedAt: number) {
  const w = core.world;
  const contact = w.users[(0 * 3 + 1 + 0) % w.users.length]!;
  return {
    messaging_product: 'whatsapp',
    metadata: core.metadata(n),
    ...(w.bsuid.enabled ? { contacts: [w.contactEntry(contact)] } : {}),
    messages: [
      {
        ...w.identityFields(contact, { phone: 'from', userId: 'from_user_id' }),
        id: wamid(`hist:${n.id}:media`),
        timestamp: sec(onboardedAt - 3 * 3_600_000),
        type: 'image',
        image: {
          caption: 'Black Prince echeveria',
          mime_type: 'image/jpeg',
          sha256: mediaOf(core, HISTORY_MEDIA_ID)!.sha256,
          id: HISTORY_MEDIA_ID,
        },
      },
    ],
  };
}

export function historyDeclinedValue(core: SandboxCore, n: NumberState) {
  return {
    messaging_product: 'whatsapp',
    metadata: core.metadata(n),
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
  };
}

/** Schedules the webhooks of a contact (`smb_app_state_sync`) or history sync request. */
export function scheduleSync(
  core: SandboxCore,
  n: NumberState,
  type: 'smb_app_state_sync' | 'history',
): void {
  const d = core.historyDelayMs;
  const onboardedAt = n.lastOnboardedTime ?? core.clock.now();
  if (type === 'smb_app_state_sync') {
    core.scheduler.after(d, () =>
      core.emit('smb_app_state_sync', contactSyncValue(core, n, core.clock.now()), { phoneNumberId: n.id }),
    );
    return;
  }
  if (core.scenarios.historyDeclined) {
    core.scheduler.after(d, () =>
      core.emit('history', historyDeclinedValue(core, n), { phoneNumberId: n.id }),
    );
    return;
  }
  HISTORY_DELIVERY_ORDER.forEach((idx, i) => {
    core.scheduler.after(d * (i + 1), () =>
      core.emit('history', historyChunkValue(core, n, HISTORY_CHUNKS[idx]!, onboardedAt), {
        phoneNumberId: n.id,
      }),
    );
  });
  core.scheduler.after(d * (HISTORY_DELIVERY_ORDER.length + 1), () =>
    core.emit('history', historyMediaValue(core, n, onboardedAt), { phoneNumberId: n.id }),
  );
}

// ---------------------------------------------------------------- echoes & inbound

let echoCounter = 0;
/** An echo to `to` (a phone; in BSUID mode, a known user is named by their BSUID too, and their phone only if shared). */
export function echoValue(core: SandboxCore, n: NumberState, to: string, body: string, at: number) {
  echoCounter++;
  const w = core.world;
  const u = w.bsuid.enabled ? w.user(to) : undefined;
  return {
    messaging_product: 'whatsapp',
    metadata: core.metadata(n),
    ...(u ? { contacts: [w.contactEntry(u)] } : {}),
    message_echoes: [
      {
        from: n.e164,
        ...(u
          ? w.identityFields(u, { phone: 'to', userId: 'to_user_id', parentUserId: 'to_parent_user_id' })
          : { to }),
        id: wamid(`echo:${n.id}:${at}:${echoCounter}`),
        timestamp: sec(at),
        type: 'text',
        text: { body },
      },
    ],
  };
}

let inboundCounter = 0;
/**
 * A message from user `u` to number `n` (field `messages`): `contacts[]` and `messages[]` with the user's identity
 * fields (BSUID mode: BSUIDs, username, the phone only when shared). `content` is the message's type and content,
 * e.g. `{type: 'text', text: {body: 'STOP'}}`.
 */
export function inboundValue(
  core: SandboxCore,
  n: NumberState,
  u: UserState,
  content: Record<string, unknown>,
  at: number,
) {
  inboundCounter++;
  const w = core.world;
  return {
    messaging_product: 'whatsapp',
    metadata: core.metadata(n),
    contacts: [w.contactEntry(u)],
    messages: [
      {
        ...w.identityFields(u, {
          phone: 'from',
          userId: 'from_user_id',
          parentUserId: 'from_parent_user_id',
        }),
        id: wamid(`in:${n.id}:${at}:${inboundCounter}`),
        timestamp: sec(at),
        ...content,
      },
    ],
  };
}

/**
 * A user changes identity (meta-cloud-api.md §15.1): `user_changed_number` (a new phone that can be shared, and the
 * new BSUID it brings) or `user_changed_user_id` (a new BSUID, the new phone withheld). Updates the world's user and
 * returns the `messages` value of the `system` message Meta sends (no `contacts[]`).
 */
export function identityChangeValue(
  core: SandboxCore,
  n: NumberState,
  u: UserState,
  type: 'user_changed_number' | 'user_changed_user_id',
  newPhone: string | null,
  at: number,
) {
  const w = core.world;
  const before = { phone: u.phone, userId: u.userId, parentUserId: u.parentUserId, shared: w.phoneShared(u) };
  const serial = w.users.indexOf(u) + 1;
  u.userId = `US.${BigInt(u.userId.replace(/\D/g, '') || '0') + 1_000_000n * BigInt(serial)}`;
  u.parentUserId = `US.ENT.${BigInt(u.parentUserId.replace(/\D/g, '') || '0') + 1_000_000n * BigInt(serial)}`;
  if (type === 'user_changed_number') {
    u.phone = newPhone ?? String(Number(u.phone) + 100);
    u.phoneHidden = false;
  } else u.phoneHidden = true;
  const parents = w.bsuid.parents
    ? { parent_user_id: u.parentUserId, previous_parent_user_id: before.parentUserId }
    : {};
  const system =
    type === 'user_changed_number'
      ? {
          type,
          body: `User ${u.firstName} changed from ${before.phone} to ${u.phone}`,
          wa_id: u.phone,
          user_id: u.userId,
          previous_user_id: before.userId,
          ...parents,
        }
      : {
          type,
          body: `User ${u.firstName} changed their business-scoped user ID`,
          user_id: u.userId,
          previous_user_id: before.userId,
          ...parents,
        };
  inboundCounter++;
  return {
    messaging_product: 'whatsapp',
    metadata: core.metadata(n),
    messages: [
      {
        ...(type === 'user_changed_number' && before.shared ? { from: before.phone } : {}),
        id: wamid(`sys:${n.id}:${at}:${inboundCounter}`),
        timestamp: sec(at),
        type: 'system',
        system,
      },
    ],
  };
}

/**
 * An already-onboarded coexistence number's activity (for `--sandbox`): PARTNER_ADDED, contact sync,
 * history to progress 100 (out of order), a recent echo. Marks both syncs as requested. Awaited by start.
 */
export async function seedActivity(core: SandboxCore): Promise<void> {
  const n = core.world.numbers.get(SEED.phoneNumbers.coex.id)!;
  const now = core.clock.now();
  const onboardedAt = now - 10 * 60_000;
  n.lastOnboardedTime = onboardedAt;
  n.syncRequests.set('smb_app_state_sync', { requestId: 'sandbox-seed-contacts', at: onboardedAt + 60_000 });
  n.syncRequests.set('history', { requestId: 'sandbox-seed-history', at: onboardedAt + 90_000 });
  partnerAdded(core);
  core.emit('smb_app_state_sync', contactSyncValue(core, n, onboardedAt + 60_000), { phoneNumberId: n.id });
  if (core.scenarios.historyDeclined) {
    core.emit('history', historyDeclinedValue(core, n), { phoneNumberId: n.id });
  } else {
    for (const idx of HISTORY_DELIVERY_ORDER) {
      core.emit('history', historyChunkValue(core, n, HISTORY_CHUNKS[idx]!, onboardedAt), {
        phoneNumberId: n.id,
      });
    }
    core.emit('history', historyMediaValue(core, n, onboardedAt), { phoneNumberId: n.id });
  }
  const contact = core.world.users[0]!;
  core.emit(
    'smb_message_echoes',
    echoValue(core, n, contact.phone, 'See you tomorrow at the shop!', now - 60_000),
    {
      phoneNumberId: n.id,
    },
  );
  await core.webhooks.idle();
}
