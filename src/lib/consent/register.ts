/**
 * The consent register: who agreed to receive WhatsApp messages from the business, for what (marketing, utility
 * or all), when, from which source and with what proof, and when they withdrew. Append-only; every change is also
 * written to the audit trail in the same transaction. A person's state for a scope is their latest change for that
 * scope or for `all`; authentication templates count as utility.
 */
import { AuditJournal } from '../audit/journal.js';
import type { Db } from '../store/store.js';

export const CONSENT_SCOPES = ['marketing', 'utility', 'all'] as const;
export type ConsentScope = (typeof CONSENT_SCOPES)[number];
export type ConsentAction = 'grant' | 'revoke';

export interface ConsentChange {
  /** The recipient key: E.164 digits without '+', or a BSUID. */
  subject: string;
  scope: ConsentScope;
  action: ConsentAction;
  /** When the person gave or withdrew consent (ms); `recordedAt` is when wacx learned it. */
  at: number;
  source: string;
  proof: string | null;
}

export interface ConsentEvent extends ConsentChange {
  id: number;
  recordedAt: number;
}

export type ConsentState = 'granted' | 'revoked' | 'none';

export interface SubjectState {
  subject: string;
  marketing: ConsentState;
  utility: ConsentState;
  /** The latest change, for listings. */
  lastChange: ConsentEvent;
}

interface Row {
  id: number;
  subject: string;
  scope: ConsentScope;
  action: ConsentAction;
  at: number;
  source: string;
  proof: string | null;
  recorded_at: number;
}

const fromRow = (r: Row): ConsentEvent => ({
  id: r.id,
  subject: r.subject,
  scope: r.scope,
  action: r.action,
  at: r.at,
  source: r.source,
  proof: r.proof,
  recordedAt: r.recorded_at,
});

/** The state for `scope` after `events` (oldest first): the latest change of that scope or of `all` wins. */
export function stateAfter(events: readonly ConsentEvent[], scope: 'marketing' | 'utility'): ConsentState {
  let state: ConsentState = 'none';
  let latest = Number.NEGATIVE_INFINITY;
  for (const e of events) {
    if ((e.scope === scope || e.scope === 'all') && e.at >= latest) {
      latest = e.at;
      state = e.action === 'grant' ? 'granted' : 'revoked';
    }
  }
  return state;
}

/** The scope a template category needs: marketing for MARKETING, utility for UTILITY and AUTHENTICATION. */
export function scopeForCategory(category: string): 'marketing' | 'utility' {
  return category.toUpperCase() === 'MARKETING' ? 'marketing' : 'utility';
}

export class ConsentRegister {
  private readonly journal: AuditJournal;
  private readonly insert;
  private readonly bySubject;

  constructor(
    private readonly db: Db,
    private readonly now: () => number,
  ) {
    this.journal = new AuditJournal(db);
    this.insert = db.prepare(
      `INSERT INTO consent_events (subject, scope, action, at, source, proof, recorded_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.bySubject = db.prepare('SELECT * FROM consent_events WHERE subject = ? ORDER BY at, id');
  }

  /** Records `changes` in one transaction, each with its audit record. */
  record(changes: readonly ConsentChange[]): void {
    if (changes.length === 0) return;
    const recordedAt = this.now();
    this.db
      .transaction(() => {
        for (const c of changes)
          this.insert.run(c.subject, c.scope, c.action, c.at, c.source, c.proof, recordedAt);
        this.journal.append(
          changes.map((c) => ({
            at: recordedAt,
            kind: 'consent' as const,
            subject: c.subject,
            content: {
              action: c.action,
              scope: c.scope,
              at: new Date(c.at).toISOString(),
              source: c.source,
              proof: c.proof,
            },
          })),
        );
      })
      .immediate();
  }

  history(subject: string): ConsentEvent[] {
    return (this.bySubject.all(subject) as Row[]).map(fromRow);
  }

  /** Whether `subject` may receive a template of `category` now. */
  allows(subject: string, category: string): ConsentState {
    return stateAfter(this.history(subject), scopeForCategory(category));
  }

  /** Every subject's current state, ordered by subject, read lazily (one subject's events at a time). */
  *list(): Generator<SubjectState> {
    const rows = this.db
      .prepare('SELECT * FROM consent_events ORDER BY subject, at, id')
      .iterate() as Iterable<Row>;
    let current: ConsentEvent[] = [];
    const flush = (): SubjectState | null => {
      const last = current.at(-1);
      if (!last) return null;
      return {
        subject: last.subject,
        marketing: stateAfter(current, 'marketing'),
        utility: stateAfter(current, 'utility'),
        lastChange: current.reduce((a, b) => (b.recordedAt > a.recordedAt || b.id > a.id ? b : a)),
      };
    };
    for (const r of rows) {
      if (current.length > 0 && current[0]?.subject !== r.subject) {
        const s = flush();
        if (s) yield s;
        current = [];
      }
      current.push(fromRow(r));
    }
    const s = flush();
    if (s) yield s;
  }
}
