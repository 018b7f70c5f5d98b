import type { Migration } from '../store.js';

/**
 * Indexes for `wacx report` (ids 700–799), owned by lib/report. They let it read every message of a period once,
 * already in (person, time) order, and join statuses by wamid, from the indexes alone (covering).
 */
export const REPORT_MIGRATIONS: readonly Migration[] = [
  {
    id: 700,
    name: 'report: messages by person and time, statuses by wamid and status',
    up: `
      CREATE INDEX inbound_messages_person
        ON inbound_messages(COALESCE(from_wa_id, from_user_id), timestamp, type, phone_number_id);
      CREATE INDEX message_echoes_person
        ON message_echoes(COALESCE(to_wa_id, to_user_id), timestamp, type, phone_number_id);
      CREATE INDEX message_statuses_sent_person
        ON message_statuses(recipient_id, timestamp, phone_number_id) WHERE status = 'sent';
      CREATE INDEX message_statuses_wamid_status ON message_statuses(wamid, status, error_code);
    `,
  },
];
