/**
 * Local record of template edits and deletions (the API exposes neither), for Meta's limits:
 * APPROVED templates may be edited once per 24 h and 10 times per 30 days; the name of a deleted
 * APPROVED template cannot be reused for 30 days. The API's own answer stays the truth: these records
 * only let `plan` say in advance what the API would refuse.
 */

import { sha256 } from '../audit/chain.js';
import { AuditJournal } from '../audit/journal.js';
import { AUDIT_MIGRATIONS } from '../store/schema/audit.js';
import { TEMPLATE_MIGRATIONS } from '../store/schema/templates.js';
import type { Db, Store } from '../store/store.js';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const EDIT_WINDOW_SHORT_MS = DAY_MS;
export const EDIT_WINDOW_LONG_MS = 30 * DAY_MS;
export const EDITS_PER_SHORT_WINDOW = 1;
export const EDITS_PER_LONG_WINDOW = 10;
export const NAME_REUSE_BLOCK_MS = 30 * DAY_MS;

export interface EditRecord {
  wabaId: string;
  templateId: string;
  name: string;
  language: string;
  statusBefore: string;
  fields: readonly string[];
  at: number;
}

export interface CreationRecord {
  wabaId: string;
  templateId: string;
  name: string;
  language: string;
  /** The create request as sent (its hash goes into the audit trail). */
  request: unknown;
  at: number;
}

export interface DeletionRecord {
  wabaId: string;
  templateId: string | null;
  name: string;
  language: string;
  statusBefore: string;
  at: number;
}

/** What plan needs to know about the past. */
export interface TemplateHistoryReader {
  /** Times (ms) of edits made while the template was APPROVED, at or after `since`, oldest first. */
  approvedEditTimes(templateId: string, since: number): number[];
  /** The latest deletion of an APPROVED template with this name and language at or after `since`. */
  approvedDeletion(wabaId: string, name: string, language: string, since: number): DeletionRecord | undefined;
}

export class TemplateHistory implements TemplateHistoryReader {
  private constructor(private readonly db: Db) {}

  /** Opens the history in the profile's store, creating its tables when needed (idempotent). */
  static open(store: Store): TemplateHistory {
    store.migrate([...TEMPLATE_MIGRATIONS, ...AUDIT_MIGRATIONS]);
    return new TemplateHistory(store.db);
  }

  /** Every change wacx makes to a template is also an audit record (kind template_change). */
  private audit(at: number, name: string, content: Record<string, unknown>): void {
    new AuditJournal(this.db).append([{ at, kind: 'template_change', subject: name, content }]);
  }

  recordCreation(r: CreationRecord): void {
    this.audit(r.at, r.name, {
      action: 'create',
      waba_id: r.wabaId,
      template_id: r.templateId,
      language: r.language,
      request_sha256: sha256(JSON.stringify(r.request)),
    });
  }

  recordEdit(r: EditRecord): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO template_edits (waba_id, template_id, name, language, status_before, fields, edited_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(r.wabaId, r.templateId, r.name, r.language, r.statusBefore, r.fields.join(','), r.at);
      this.audit(r.at, r.name, {
        action: 'edit',
        waba_id: r.wabaId,
        template_id: r.templateId,
        language: r.language,
        status_before: r.statusBefore,
        fields: r.fields,
      });
    })();
  }

  recordDeletion(r: DeletionRecord): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO template_deletions (waba_id, template_id, name, language, status_before, deleted_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(r.wabaId, r.templateId, r.name, r.language, r.statusBefore, r.at);
      this.audit(r.at, r.name, {
        action: 'delete',
        waba_id: r.wabaId,
        template_id: r.templateId,
        language: r.language,
        status_before: r.statusBefore,
      });
    })();
  }

  approvedEditTimes(templateId: string, since: number): number[] {
    const rows = this.db
      .prepare(
        "SELECT edited_at FROM template_edits WHERE template_id = ? AND status_before = 'APPROVED' AND edited_at >= ? ORDER BY edited_at",
      )
      .all(templateId, since) as { edited_at: number }[];
    return rows.map((r) => r.edited_at);
  }

  approvedDeletion(
    wabaId: string,
    name: string,
    language: string,
    since: number,
  ): DeletionRecord | undefined {
    const row = this.db
      .prepare(
        `SELECT template_id, status_before, deleted_at FROM template_deletions
         WHERE waba_id = ? AND name = ? AND language = ? AND status_before = 'APPROVED' AND deleted_at >= ?
         ORDER BY deleted_at DESC LIMIT 1`,
      )
      .get(wabaId, name, language, since) as
      | { template_id: string | null; status_before: string; deleted_at: number }
      | undefined;
    if (!row) return undefined;
    return {
      wabaId,
      templateId: row.template_id,
      name,
      language,
      statusBefore: row.status_before,
      at: row.deleted_at,
    };
  }
}

/** A history that remembers nothing (for tests and dry checks). */
export const emptyHistory: TemplateHistoryReader = {
  approvedEditTimes: () => [],
  approvedDeletion: () => undefined,
};
