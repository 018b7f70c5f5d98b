/**
 * What changes in the WhatsApp Business app once its number is onboarded for coexistence
 * (meta-cloud-api.md §9.3, the feature table and the "Also:" list after it). An admin must know this before
 * scanning: `eligibility` and `onboard` show it before the signup, `doctor` for an onboarded number.
 */
export interface AppChange {
  /** Stable id (in --json). */
  id: string;
  /** The Business App feature or topic. */
  feature: string;
  /** What happens to it after onboarding. */
  change: string;
}

export const APP_CHANGES: readonly AppChange[] = [
  {
    id: 'group_chats',
    feature: 'Group chats',
    change: 'not synchronized: they stay in the App and cannot be read or answered through the API',
  },
  {
    id: 'disappearing_messages',
    feature: 'Disappearing messages',
    change: 'turned off for all 1:1 chats',
  },
  { id: 'view_once', feature: 'View once', change: 'turned off for 1:1 chats' },
  { id: 'live_location', feature: 'Live location', change: 'turned off for 1:1 chats' },
  {
    id: 'broadcast_lists',
    feature: 'Broadcast lists',
    change: 'no new lists can be created; existing lists become read-only',
  },
  {
    id: 'companion_apps',
    feature: 'Linked devices',
    change:
      'every companion app is unlinked at onboarding (re-link the supported ones); WhatsApp for Windows and WearOS are not supported as companions',
  },
  {
    id: 'pricing',
    feature: 'Pricing',
    change:
      'messages sent from the App stay free; messages sent through the API (wacx) are billed at Cloud API rates, replies in an open service window included: the same reply typed in the App is free',
  },
  {
    id: 'service_window',
    feature: 'Customer service window',
    change:
      'opens only when a customer writes after onboarding; messages sent from the App never open or extend it',
  },
  {
    id: 'edit_revoke',
    feature: '1:1 chats',
    change:
      'kept, and mirrored both ways with the API; message edit and revoke are supported; the last 6 months can be synced once',
  },
  { id: 'throughput', feature: 'Throughput', change: 'API sends are limited to 20 messages per second' },
  {
    id: 'unchanged',
    feature:
      'Calls, catalog and orders, status, greeting and away messages, quick replies, labels, profile, channels',
    change: 'unchanged in the App, and not available through the API',
  },
];

/** The changes as lines for people (a title, then one "- feature: change" line each). */
export function appChangeLines(): string[] {
  return [
    'What changes in the WhatsApp Business app with coexistence:',
    ...APP_CHANGES.map((c) => `  - ${c.feature}: ${c.change}.`),
  ];
}

/** The changes for --json (keys always present). */
export function appChangesJson(): { id: string; feature: string; change: string }[] {
  return APP_CHANGES.map((c) => ({ id: c.id, feature: c.feature, change: c.change }));
}
