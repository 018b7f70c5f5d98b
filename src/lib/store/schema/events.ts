import type { Migration } from '../store.js';

const IDENTITY_TABLES = `
      ALTER TABLE message_statuses ADD COLUMN recipient_user_id TEXT;
      ALTER TABLE message_statuses ADD COLUMN recipient_parent_user_id TEXT;
      ALTER TABLE inbound_messages ADD COLUMN from_parent_user_id TEXT;
      ALTER TABLE inbound_messages ADD COLUMN username TEXT;
      ALTER TABLE message_echoes ADD COLUMN to_parent_user_id TEXT;
      ALTER TABLE contact_syncs ADD COLUMN parent_user_id TEXT;
      ALTER TABLE contact_syncs ADD COLUMN username TEXT;
      ALTER TABLE history_messages ADD COLUMN from_user_id TEXT;
      ALTER TABLE history_messages ADD COLUMN to_user_id TEXT;

      CREATE TABLE identities (
        id INTEGER PRIMARY KEY,
        phone TEXT,
        user_id TEXT,
        parent_user_id TEXT,
        username TEXT,
        first_seen_at INTEGER,
        last_seen_at INTEGER,
        phoneless_at INTEGER,
        merged_into INTEGER REFERENCES identities(id)
      );
      CREATE INDEX identities_live ON identities(merged_into);

      CREATE TABLE identity_keys (
        key TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        identity_id INTEGER NOT NULL REFERENCES identities(id),
        retired INTEGER NOT NULL DEFAULT 0,
        first_seen_at INTEGER
      ) WITHOUT ROWID;
      CREATE INDEX identity_keys_identity ON identity_keys(identity_id, kind);

      CREATE TABLE identity_changes (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES webhook_events(id),
        phone_number_id TEXT,
        type TEXT NOT NULL,
        previous_phone TEXT,
        phone TEXT,
        previous_user_id TEXT,
        user_id TEXT,
        previous_parent_user_id TEXT,
        parent_user_id TEXT,
        at INTEGER NOT NULL
      );
      CREATE INDEX identity_changes_at ON identity_changes(at);
`;

const IDENTITY_BACKFILL = `
      -- What earlier versions stored: each BSUID a person, the phones stored beside one joined to it (the first
      -- pairing wins), every other phone a person of its own.
      INSERT INTO identities (user_id, first_seen_at, last_seen_at)
        SELECT id, MIN(at), MAX(at) FROM (
          SELECT from_user_id AS id, timestamp AS at FROM inbound_messages WHERE from_user_id != ''
          UNION ALL SELECT to_user_id, timestamp FROM message_echoes WHERE to_user_id != ''
          UNION ALL SELECT user_id, timestamp FROM contact_syncs WHERE user_id != ''
        ) GROUP BY id;
      INSERT INTO identity_keys (key, kind, identity_id, retired, first_seen_at)
        SELECT user_id, 'user_id', id, 0, first_seen_at FROM identities;
      INSERT OR IGNORE INTO identity_keys (key, kind, identity_id, retired, first_seen_at)
        SELECT p.phone, 'phone', k.identity_id, 0, p.at FROM (
          SELECT from_wa_id AS phone, from_user_id AS id, timestamp AS at FROM inbound_messages
          UNION ALL SELECT to_wa_id, to_user_id, timestamp FROM message_echoes
          UNION ALL SELECT phone_number, user_id, timestamp FROM contact_syncs
        ) p JOIN identity_keys k ON k.key = p.id
        WHERE p.phone GLOB '[0-9]*' AND p.phone NOT GLOB '*[^0-9]*' ORDER BY p.at;
      INSERT INTO identities (phone, first_seen_at, last_seen_at)
        SELECT phone, MIN(at), MAX(at) FROM (
          SELECT from_wa_id AS phone, timestamp AS at FROM inbound_messages
          UNION ALL SELECT to_wa_id, timestamp FROM message_echoes
          UNION ALL SELECT phone_number, timestamp FROM contact_syncs
          UNION ALL SELECT thread_id, timestamp FROM history_messages
        ) WHERE phone GLOB '[0-9]*' AND phone NOT GLOB '*[^0-9]*'
          AND phone NOT IN (SELECT key FROM identity_keys) GROUP BY phone;
      INSERT INTO identity_keys (key, kind, identity_id, retired, first_seen_at)
        SELECT phone, 'phone', id, 0, first_seen_at FROM identities
        WHERE phone IS NOT NULL AND phone NOT IN (SELECT key FROM identity_keys);
      UPDATE identities SET phone = (
        SELECT MIN(key) FROM identity_keys k WHERE k.identity_id = identities.id AND k.kind = 'phone'
      ) WHERE phone IS NULL;
      UPDATE identities SET phoneless_at = last_seen_at WHERE phone IS NULL;
`;

/**
 * Webhook event store (ids 100–199). Owned by lib/webhooks; read by send, doctor and history status
 * through src/lib/webhooks/queries.ts. Times are milliseconds since the epoch.
 *
 * - webhook_payloads: each authentic payload that brought at least one new event, raw (exact body text).
 * - webhook_events: one row per event (a status, an inbound message, an echo, a history chunk, a contact
 *   action, an account update, …), unique by `dedupe_key`, so redeliveries store nothing new.
 *   `parsed` = 0 for fields or kinds wacx does not know (kept raw, answered 200).
 * - webhook_rejections: bodies refused with 4xx (nothing from the body is kept, only why and when).
 * - domain tables below, each row pointing at its event.
 *
 * Later migrations (110+) only add: never edit one that has been applied.
 */
export const EVENT_MIGRATIONS: readonly Migration[] = [
  {
    id: 100,
    name: 'webhook payloads, events and rejections',
    up: `
      CREATE TABLE webhook_payloads (
        id INTEGER PRIMARY KEY,
        received_at INTEGER NOT NULL,
        body_sha256 TEXT NOT NULL,
        body TEXT NOT NULL,
        signature_verified INTEGER NOT NULL,
        source TEXT NOT NULL
      );
      CREATE INDEX webhook_payloads_received ON webhook_payloads(received_at);

      CREATE TABLE webhook_events (
        id INTEGER PRIMARY KEY,
        payload_id INTEGER NOT NULL REFERENCES webhook_payloads(id),
        dedupe_key TEXT NOT NULL UNIQUE,
        field TEXT NOT NULL,
        kind TEXT NOT NULL,
        parsed INTEGER NOT NULL,
        waba_id TEXT,
        phone_number_id TEXT,
        occurred_at INTEGER,
        received_at INTEGER NOT NULL,
        summary TEXT NOT NULL,
        data TEXT NOT NULL
      );
      CREATE INDEX webhook_events_field ON webhook_events(field, received_at);
      CREATE INDEX webhook_events_phone ON webhook_events(phone_number_id, received_at);

      CREATE TABLE webhook_rejections (
        id INTEGER PRIMARY KEY,
        at INTEGER NOT NULL,
        reason TEXT NOT NULL,
        source TEXT NOT NULL
      );
      CREATE INDEX webhook_rejections_at ON webhook_rejections(reason, at);
    `,
  },
  {
    id: 101,
    name: 'messages: statuses, inbound messages, opt-outs',
    up: `
      CREATE TABLE message_statuses (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES webhook_events(id),
        phone_number_id TEXT,
        wamid TEXT NOT NULL,
        status TEXT NOT NULL,
        timestamp INTEGER NOT NULL,
        recipient_id TEXT,
        callback_data TEXT,
        error_code INTEGER,
        error_title TEXT,
        error_details TEXT,
        pricing_category TEXT,
        pricing_type TEXT
      );
      CREATE INDEX message_statuses_wamid ON message_statuses(wamid);
      CREATE INDEX message_statuses_callback ON message_statuses(callback_data);

      CREATE TABLE inbound_messages (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES webhook_events(id),
        phone_number_id TEXT,
        wamid TEXT NOT NULL,
        from_wa_id TEXT,
        from_user_id TEXT,
        type TEXT NOT NULL,
        text TEXT,
        timestamp INTEGER NOT NULL,
        error_code INTEGER
      );
      CREATE INDEX inbound_messages_from ON inbound_messages(from_wa_id, timestamp);

      CREATE TABLE opt_outs (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES webhook_events(id),
        phone_number_id TEXT,
        recipient TEXT NOT NULL,
        opted_out INTEGER NOT NULL,
        source TEXT NOT NULL,
        keyword TEXT,
        at INTEGER NOT NULL
      );
      CREATE INDEX opt_outs_recipient ON opt_outs(recipient, at);
    `,
  },
  {
    id: 102,
    name: 'coexistence: echoes, contacts, history, account updates, template status',
    up: `
      CREATE TABLE message_echoes (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES webhook_events(id),
        phone_number_id TEXT,
        wamid TEXT NOT NULL,
        to_wa_id TEXT,
        type TEXT NOT NULL,
        text TEXT,
        timestamp INTEGER NOT NULL
      );
      CREATE INDEX message_echoes_ts ON message_echoes(phone_number_id, timestamp);

      CREATE TABLE contact_syncs (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES webhook_events(id),
        phone_number_id TEXT,
        action TEXT NOT NULL,
        phone_number TEXT,
        user_id TEXT,
        full_name TEXT,
        first_name TEXT,
        timestamp INTEGER
      );
      CREATE INDEX contact_syncs_phone ON contact_syncs(phone_number_id, action);

      CREATE TABLE history_chunks (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES webhook_events(id),
        phone_number_id TEXT,
        phase INTEGER,
        chunk_order INTEGER,
        progress INTEGER,
        threads INTEGER NOT NULL,
        messages INTEGER NOT NULL,
        received_at INTEGER NOT NULL
      );
      CREATE INDEX history_chunks_phone ON history_chunks(phone_number_id, phase, chunk_order);

      CREATE TABLE history_messages (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES webhook_events(id),
        phone_number_id TEXT,
        thread_id TEXT,
        wamid TEXT NOT NULL,
        from_wa_id TEXT,
        to_wa_id TEXT,
        type TEXT NOT NULL,
        text TEXT,
        status TEXT,
        timestamp INTEGER,
        phase INTEGER,
        media_id TEXT,
        media_mime_type TEXT,
        UNIQUE (phone_number_id, wamid)
      );
      CREATE INDEX history_messages_thread ON history_messages(phone_number_id, thread_id);

      CREATE TABLE history_errors (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES webhook_events(id),
        phone_number_id TEXT,
        code INTEGER,
        title TEXT,
        details TEXT,
        received_at INTEGER NOT NULL
      );

      CREATE TABLE account_updates (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES webhook_events(id),
        waba_id TEXT,
        phone_number TEXT,
        event TEXT NOT NULL,
        reason TEXT,
        initiated_by TEXT,
        at INTEGER NOT NULL
      );
      CREATE INDEX account_updates_at ON account_updates(at);

      CREATE TABLE template_status_updates (
        id INTEGER PRIMARY KEY,
        event_id INTEGER NOT NULL REFERENCES webhook_events(id),
        waba_id TEXT,
        template_id TEXT,
        template_name TEXT,
        language TEXT,
        event TEXT NOT NULL,
        reason TEXT,
        category TEXT,
        at INTEGER NOT NULL
      );
      CREATE INDEX template_status_updates_name ON template_status_updates(template_name, at);
    `,
  },
  {
    id: 110,
    name: 'webhook events: parse problems',
    // A JSON array of strings (what could not be read: a time out of range, items beyond the cap, extreme
    // nesting…), NULL when the event parsed cleanly. The raw payload keeps everything.
    up: `
      ALTER TABLE webhook_events ADD COLUMN problems TEXT;
      CREATE INDEX webhook_events_problems ON webhook_events(received_at) WHERE problems IS NOT NULL;
    `,
  },
  {
    id: 111,
    name: 'message echoes: recipient user id, the message an edit or revoke changes',
    // An edit echo's new text goes in `text`, as for any echo.
    up: `
      ALTER TABLE message_echoes ADD COLUMN to_user_id TEXT;
      ALTER TABLE message_echoes ADD COLUMN original_message_id TEXT;
      CREATE INDEX message_echoes_original ON message_echoes(original_message_id) WHERE original_message_id IS NOT NULL;
    `,
  },
  {
    id: 112,
    name: 'webhook rejections: counts per reason (the log itself keeps the most recent rows)',
    up: `
      CREATE TABLE webhook_rejection_counts (
        reason TEXT NOT NULL,
        source TEXT NOT NULL,
        count INTEGER NOT NULL,
        first_at INTEGER NOT NULL,
        last_at INTEGER NOT NULL,
        PRIMARY KEY (reason, source)
      );
      INSERT INTO webhook_rejection_counts (reason, source, count, first_at, last_at)
        SELECT reason, source, COUNT(*), MIN(at), MAX(at) FROM webhook_rejections GROUP BY reason, source;
    `,
  },
  {
    id: 113,
    name: 'webhook deliveries whose signature verified, redeliveries included (the last one and how many)',
    up: `
      CREATE TABLE webhook_verified_deliveries (
        source TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        last_at INTEGER NOT NULL
      );
      INSERT INTO webhook_verified_deliveries (source, count, last_at)
        SELECT source, COUNT(*), MAX(received_at) FROM webhook_payloads WHERE signature_verified = 1 GROUP BY source;
    `,
  },
  {
    id: 114,
    name: 'business-scoped user ids (BSUIDs) beside phones; people (identities) and the keys they are known by',
    // Owned by lib/identity (src/lib/identity/store.ts). A person (identities row) is known by keys: phones (E.164
    // digits), BSUIDs and parent BSUIDs (verbatim, up to 128 characters after the country). Any of them may be
    // missing; an event that shows two together links them, so two rows met apart become one (merged_into set on
    // the one that was folded in, its keys moved). A previous phone or BSUID (a number or user-id change) stays a
    // key of the person, `retired`. The `identities` columns phone, user_id, parent_user_id and username are the
    // latest values seen; phoneless_at is the last time a payload named the person without a phone.
    up: IDENTITY_TABLES + IDENTITY_BACKFILL,
    // a new PostgreSQL store has nothing stored by earlier versions (`wacx db copy` brings what a SQLite one has)
    postgres: IDENTITY_TABLES,
  },
  {
    id: 115,
    name: 'the whole pricing object of status webhooks: billable and pricing_model beside category and type',
    // billable: 1 / 0, null when absent; pricing_model as sent (PMP, CBP or a value not known yet).
    up: `
      ALTER TABLE message_statuses ADD COLUMN pricing_billable INTEGER;
      ALTER TABLE message_statuses ADD COLUMN pricing_model TEXT;
    `,
  },
];
