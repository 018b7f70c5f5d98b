import { parseGraphTime } from '../../graph/time.js';
import type { ContactSyncStatus, HistorySyncStatus } from '../../history/queries.js';
import { missingText, peopleText } from '../../history/status.js';
import { SYNC_WINDOW_MS } from '../../history/sync-requests.js';
import { ago, formatDuration, plural, TIME } from '../format.js';
import type { CheckDefinition, DoctorFacts, Outcome, StoreFacts } from '../types.js';
import { fail, pass, skip, warn } from './common.js';

const RECEIVER_FIX =
  'Run the receiver (`wacx webhooks serve`) behind the public HTTPS callback URL set on the app, or import deliveries with `wacx webhooks ingest`.';

/** Reasons of PARTNER_REMOVED (meta-cloud-api.md §2.2) with what they mean and what to do. */
export const DISCONNECTION_REASONS: Readonly<Record<string, { meaning: string; fix: string }>> = {
  PRIMARY_INACTIVITY: {
    meaning: 'the Business App was not opened on the primary phone for about 14 days',
    fix: 'Open the WhatsApp Business App on the primary phone, onboard again with `wacx onboard`, and open the App at least every 13 days from now on.',
  },
  COMPANION_INACTIVITY: {
    meaning: 'the companion device was inactive for about 30 days',
    fix: 'Onboard again with `wacx onboard`.',
  },
  BUSINESS_DOWNGRADE: {
    meaning: 'the number was registered on the consumer WhatsApp app',
    fix: 'Move the number back to the WhatsApp Business App, then onboard again with `wacx onboard`.',
  },
  CHANGE_NUMBER: {
    meaning: 'the business changed its phone number in the App',
    fix: 'Onboard the new number with `wacx onboard` and update the profile (`wacx config set phoneNumberId`).',
  },
  USER_RE_REGISTERED: {
    meaning: 'the number was registered again in the App',
    fix: 'Onboard again with `wacx onboard`.',
  },
  ACCOUNT_DISCONNECTED: {
    meaning: 'the account was disconnected by enforcement or deleted',
    fix: 'See Business Support Home for the enforcement; onboard again only once it is resolved.',
  },
};

/** Store facts, or the outcome for a check that needs them. */
function storeOf(f: DoctorFacts, needEvents: boolean): StoreFacts | Outcome {
  if (f.store.state === 'skipped') return skip(f.store.reason, f.store.fix);
  if (f.store.state === 'error') return skip('the webhook store could not be read (see sync.webhooks)');
  if (needEvents && f.store.value.health.eventCount === 0)
    return skip('no webhook received yet (see sync.webhooks)');
  return f.store.value;
}
const isOutcome = (v: StoreFacts | Outcome): v is Outcome => 'status' in v;

/**
 * When the number was (last) onboarded, the start of its 24-hour sync window: the later of the store's record
 * and the phone node's last_onboarded_time (a re-onboarding moves the window).
 */
export function onboardedAt(f: DoctorFacts): number | null {
  const fromStore = f.store.state === 'ok' ? f.store.value.history.onboardedAt : null;
  const fromApi = f.phone.state === 'ok' ? (parseGraphTime(f.phone.value.last_onboarded_time) ?? null) : null;
  if (fromStore === null) return fromApi;
  if (fromApi === null) return fromStore;
  return Math.max(fromStore, fromApi);
}

type SyncPart = HistorySyncStatus | ContactSyncStatus;

/**
 * A sync that has no accepted request: refused by Meta (2593107 / 2593108), failed, or never requested
 * (inside or outside its 24-hour window).
 */
function notRequestedOutcome(
  f: DoctorFacts,
  part: SyncPart,
  what: 'history import' | 'contact sync',
  flag: string,
  severityWhenMissed: 'fail' | 'warn',
): Outcome {
  const missed = severityWhenMissed === 'fail' ? fail : warn;
  const reonboard =
    'offboard (Business App › Settings › Account › Business Platform › Disconnect) and onboard again with `wacx onboard`';
  if (part.error?.code === 2593108) {
    return missed(
      `${what} was requested after the 24-hour window (2593108, ${ago(f.now, part.error.at)})`,
      `The sync can only be requested within 24 h of onboarding: ${reonboard}.`,
    );
  }
  if (part.error?.code === 2593107) {
    return warn(
      `${what} was already requested once for this number (2593107)`,
      `Each sync can be requested once per onboarding; to repeat it, ${reonboard}.`,
    );
  }
  const failed = part.error
    ? `the request failed ${ago(f.now, part.error.at)} (${part.error.message ?? part.error.code ?? 'unknown error'}); `
    : '';
  const onboarded = onboardedAt(f);
  if (onboarded === null) {
    return skip(
      `${failed}no accepted ${what} request recorded and the onboarding time is unknown`,
      `Run \`wacx history sync ${flag}\` if the number was onboarded less than 24 h ago.`,
    );
  }
  const left = onboarded + SYNC_WINDOW_MS - f.now;
  if (left > 0) {
    return warn(
      `${failed}${what} not requested yet: ${formatDuration(left)} left in the 24-hour window (onboarded ${ago(f.now, onboarded)})`,
      `Run \`wacx history sync ${flag}\` now, with the Business App open on the phone.`,
    );
  }
  return missed(
    `${failed}${what} was not requested within 24 h of onboarding (${ago(f.now, onboarded)}); the window is closed`,
    `It can no longer be requested: ${reonboard} if the ${what === 'history import' ? 'chat history' : 'contacts'} must be imported.`,
  );
}

export const SYNC_CHECKS: CheckDefinition[] = [
  {
    id: 'sync.webhooks',
    group: 'Sync health',
    title: 'Webhooks received',
    run(f) {
      if (f.store.state === 'skipped') return skip(f.store.reason, f.store.fix);
      if (f.store.state === 'error') {
        return fail(
          `cannot read the webhook store: ${f.store.error.message}`,
          'Check the database file (WACX_DB) and its permissions.',
        );
      }
      const s = f.store.value;
      const h = s.health;
      if (h.eventCount === 0) {
        return fail(
          `no webhook received yet (store ${s.path}): is the receiver running and reachable?`,
          RECEIVER_FIX,
        );
      }
      return pass(
        `${plural(h.eventCount, 'event')}, the last ${h.lastEventAt ? ago(f.now, h.lastEventAt) : 'at an unknown time'}`,
      );
    },
  },
  {
    id: 'sync.echo_age',
    group: 'Sync health',
    title: 'Business App activity',
    run(f, o) {
      const s = storeOf(f, true);
      if (isOutcome(s)) return s;
      const h = s.health;
      const fix = `Open the WhatsApp Business App on the primary phone and send a message from it (Meta disconnects the number after about 14 days without the App); if echoes never arrive, check that the app receives smb_message_echoes (waba.webhook_fields).`;
      const candidates: { at: number; what: string }[] = [];
      if (h.lastEchoAt !== null) candidates.push({ at: h.lastEchoAt, what: 'message echo' });
      if (h.lastContactSyncAt !== null) candidates.push({ at: h.lastContactSyncAt, what: 'contact sync' });
      const last = candidates.sort((a, b) => b.at - a.at)[0];
      let age: number;
      let detail: string;
      if (last) {
        age = f.now - last.at;
        detail = `last ${last.what} from the App ${ago(f.now, last.at)}`;
      } else {
        const onboarded = onboardedAt(f);
        if (onboarded === null)
          return warn('no message echo or contact sync received yet: no sign of Business App activity', fix);
        age = f.now - onboarded;
        detail = `no message echo or contact sync since onboarding (${ago(f.now, onboarded)})`;
      }
      const d = age / TIME.DAY;
      if (d >= o.activityFailDays)
        return fail(`${detail}: Meta disconnects a number whose App is unused for about 14 days`, fix);
      if (d >= o.activityWarnDays) return warn(`${detail}: open the App before day 14`, fix);
      if (!last) return warn(detail, fix);
      return pass(detail);
    },
  },
  {
    id: 'sync.account_update',
    group: 'Sync health',
    title: 'Account updates',
    run(f) {
      const s = storeOf(f, true);
      if (isOutcome(s)) return s;
      const u = s.health.lastAccountUpdate;
      if (s.health.offboardedWithoutReconnect) {
        const when = u && u.event === 'ACCOUNT_OFFBOARDED' ? ` ${ago(f.now, u.at)}` : '';
        return fail(
          `ACCOUNT_OFFBOARDED${when} with no ACCOUNT_RECONNECTED since: Cloud API sends are suspended`,
          'The number was re-registered or moved to a new phone. Re-registering the Business App with the pre-checked opt-in kept reconnects it within minutes; if that does not happen, onboard again with `wacx onboard`.',
        );
      }
      if (!u) return pass('no account_update received');
      const when = ago(f.now, u.at);
      if (u.event === 'PARTNER_REMOVED') {
        const r = u.reason ? DISCONNECTION_REASONS[u.reason] : undefined;
        const by = u.initiatedBy ? `, initiated by ${u.initiatedBy}` : '';
        if (r) return fail(`PARTNER_REMOVED ${when} (${u.reason}${by}): ${r.meaning}`, r.fix);
        return fail(
          `PARTNER_REMOVED ${when}${u.reason ? ` (${u.reason}${by})` : by ? ` (${by.slice(2)})` : ''}: the Cloud API was disconnected from the number`,
          'If the business disconnected it in the App (Settings › Account › Business Platform) by mistake, onboard again with `wacx onboard`.',
        );
      }
      if (
        ['ACCOUNT_RESTRICTION', 'ACCOUNT_VIOLATION', 'DISABLED_UPDATE', 'ACCOUNT_DELETED'].includes(u.event)
      ) {
        return fail(
          `${u.event} ${when}${u.reason ? ` (${u.reason})` : ''}`,
          'See Business Support Home and WhatsApp Manager for the restriction and how to appeal.',
        );
      }
      if (u.event === 'ACCOUNT_OFFBOARDED') {
        return warn(
          `ACCOUNT_OFFBOARDED ${when}`,
          'Check that ACCOUNT_RECONNECTED follows; pause sends until then.',
        );
      }
      return pass(`last: ${u.event} ${when}`);
    },
  },
  {
    id: 'sync.history',
    group: 'Sync health',
    title: 'History import',
    run(f, o) {
      const s = storeOf(f, false);
      if (isOutcome(s)) return s;
      const h = s.history.history;
      if (h.state === 'declined') {
        return fail(
          `declined by the business (2593109${h.declined ? `, ${ago(f.now, h.declined.at)}` : ''}): chat history will not be imported`,
          'History sharing was turned off in the Business App. To import it, the business must offboard and onboard again (`wacx onboard`) and accept to share history.',
        );
      }
      if (h.state === 'complete') {
        return pass(
          `complete: ${plural(h.chunks, 'chunk')}, ${plural(h.threads, 'thread')}, ${plural(h.messages, 'message')}`,
        );
      }
      if (h.declined) {
        return fail(
          `Meta reported an error for the history import (${h.declined.code ?? '?'}${h.declined.title ? `: ${h.declined.title}` : ''})`,
          'Follow it with `wacx history status`; past messages may not be imported.',
        );
      }
      if (h.chunks > 0) {
        const lastAt = h.lastEventAt;
        const missing = h.missingChunkCount
          ? `, ${missingText(h.missingChunks, h.missingChunkCount)} missing`
          : '';
        const detail = `${h.progress ?? 0}% after ${plural(h.chunks, 'chunk')}${missing}, the last ${lastAt !== null ? ago(f.now, lastAt) : 'at an unknown time'}`;
        if (lastAt !== null && f.now - lastAt >= o.historyStallMs) {
          return warn(
            `stalled at ${detail}`,
            'Keep the Business App open on the phone (the import runs from it) and check that the receiver is up; `wacx history status --watch` follows it.',
          );
        }
        return pass(`in progress: ${detail}`);
      }
      if (h.requestedAt === null) return notRequestedOutcome(f, h, 'history import', '--history', 'fail');
      if (f.now - h.requestedAt >= o.historyStallMs) {
        return warn(
          `requested ${ago(f.now, h.requestedAt)} but no history webhook arrived (a business with no 1:1 chats in the last 180 days gets none)`,
          'Check that the app receives the history field (waba.webhook_fields) and that the Business App stays open on the phone.',
        );
      }
      return pass(`requested ${ago(f.now, h.requestedAt)}, waiting for the first chunk`);
    },
  },
  {
    id: 'sync.contacts',
    group: 'Sync health',
    title: 'Contact sync',
    run(f) {
      const s = storeOf(f, false);
      if (isOutcome(s)) return s;
      const c = s.history.contacts;
      if (c.added + c.removed > 0) {
        return pass(
          `${c.added} added, ${c.removed} removed${c.lastEventAt !== null ? `, the last ${ago(f.now, c.lastEventAt)}` : ''}`,
        );
      }
      if (c.requestedAt === null) return notRequestedOutcome(f, c, 'contact sync', '--contacts', 'warn');
      return pass(
        `requested ${ago(f.now, c.requestedAt)}, no contact received yet (only contacts with a WhatsApp number are synced)`,
      );
    },
  },
  {
    id: 'sync.identities',
    group: 'Sync health',
    title: 'Customer identities (phones, BSUIDs)',
    run(f) {
      const s = storeOf(f, false);
      if (isOutcome(s)) return s;
      const p = s.history.people;
      if (p.known === 0) return pass('no customer named in a webhook yet');
      const change = p.lastIdentityChange
        ? `; ${plural(p.identityChanges, 'number or user-id change')}, the last (${p.lastIdentityChange.type}) ${ago(f.now, p.lastIdentityChange.at)}`
        : '';
      const withheld =
        p.phoneWithheld > 0 ? `; ${p.phoneWithheld} named without a phone (Meta withheld it)` : '';
      const detail = `${peopleText(p)}${withheld}${change}`;
      const version = f.config.apiVersion.value;
      const major = Number(/^v(\d+)\.0$/.exec(version ?? '')?.[1] ?? Number.NaN);
      if (p.bsuidOnly > 0 && major < 24) {
        return warn(
          `${detail}: they can be messaged only by BSUID (\`recipient\`), which needs Graph API v24.0 or later (the profile uses ${version})`,
          'Set a newer API version: `wacx config set apiVersion v25.0`.',
        );
      }
      return pass(detail);
    },
  },
  {
    id: 'sync.signatures',
    group: 'Sync health',
    title: 'Webhook signatures',
    run(f) {
      const s = storeOf(f, false);
      if (isOutcome(s)) return s;
      const { count, lastAt } = s.health.signatureFailures;
      if (count === 0) return pass('no delivery rejected for a bad signature');
      const last = lastAt !== null ? `, the last ${ago(f.now, lastAt)}` : '';
      // A verified redelivery stores no event but proves the secret right: it counts as accepted.
      const good = [s.health.lastEventAt, s.health.lastVerifiedDeliveryAt].filter(
        (t): t is number => t !== null,
      );
      const lastGood = good.length ? Math.max(...good) : null;
      if (lastAt !== null && (lastGood === null || lastAt > lastGood)) {
        return fail(
          `${plural(count, 'delivery', 'deliveries')} rejected for a bad signature${last}, and nothing accepted since: the receiver probably checks with the wrong app secret`,
          "Give the receiver this app's secret (WACX_APP_SECRET; App Dashboard › App settings › Basic) and restart `wacx webhooks serve`.",
        );
      }
      if (lastAt !== null && f.now - lastAt < 7 * TIME.DAY) {
        return warn(
          `${plural(count, 'delivery', 'deliveries')} rejected for a bad signature${last}; authentic deliveries were accepted since`,
          'Probably forged or misrouted requests: nothing to do if they stop; otherwise check who posts to the callback URL.',
        );
      }
      return pass(
        `${plural(count, 'delivery', 'deliveries')} rejected for a bad signature${last}, none in the last 7 days`,
      );
    },
  },
  {
    id: 'sync.parse_problems',
    group: 'Sync health',
    title: 'Webhook content wacx could not read',
    run(f) {
      const s = storeOf(f, true);
      if (isOutcome(s)) return s;
      const { count, lastAt } = s.health.parseProblems;
      if (count === 0) return pass('every stored event was read in full');
      return warn(
        `${plural(count, 'event')} stored with parse problems (raw payload kept)${lastAt !== null ? `, the last ${ago(f.now, lastAt)}` : ''}`,
        'The raw payloads are kept: see the problems with `wacx webhooks serve --json` output or the webhook_events.problems column; report a payload shape wacx does not read.',
      );
    },
  },
];
