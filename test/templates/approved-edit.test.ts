/**
 * Editing an APPROVED template: Meta documents that it stays APPROVED while the edit is re-reviewed; others report
 * it going back to PENDING. `templates push --wait` must end well under both sandbox settings.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/lib/store/store.js';
import type { ApprovedEditAnswer } from '../../src/sandbox/options.js';
import { runCli } from '../helpers/cli.js';
import { freshPostgresUrl } from '../helpers/postgres.js';
import { startTestSandbox } from '../helpers/sandbox.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function editReceipt(mode: ApprovedEditAnswer, text: string) {
  const sb = await startTestSandbox({ approvedEdit: mode });
  try {
    const dir = mkdtempSync(join(tmpdir(), 'wacx-edit-'));
    dirs.push(dir);
    await runCli(['templates', 'pull', dir], { env: sb.env() });
    const file = join(dir, 'order_receipt.en_US.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('your receipt is attached.', text));
    const push = await runCli(['templates', 'push', dir, '--wait', '--timeout', '20s'], { env: sb.env() });
    await sb.flush();
    const hooks = await sb.control<{ body: { entry: { changes: { value: { event: string } }[] }[] } }[]>(
      'webhooks?field=message_template_status_update',
    );
    const world = await sb.control<{ templates: { name: string; status: string }[] }>('world');
    return {
      push,
      events: hooks.map((h) => h.body.entry[0]!.changes[0]!.value.event),
      status: world.templates.find((t) => t.name === 'order_receipt')?.status,
    };
  } finally {
    await sb.close();
  }
}

describe('push --wait after editing an APPROVED template', () => {
  it('stays_approved (documented): exit 0 at once, and says a rejection would come later', async () => {
    const r = await editReceipt('stays_approved', 'your receipt is attached below.');
    expect(r.push.code).toBe(0);
    expect(r.push.stderr).toContain('updated order_receipt (en_US)');
    expect(r.push.stderr).toContain('order_receipt (en_US) stays APPROVED while Meta reviews the edit');
    expect(r.events).toEqual([]);
    expect(r.status).toBe('APPROVED');
  });

  it('review: waits through PENDING to APPROVED (exit 0)', async () => {
    const r = await editReceipt('review', 'your receipt is attached below.');
    expect(r.push.code).toBe(0);
    expect(r.push.stderr).toContain('order_receipt (en_US) APPROVED');
    expect(r.push.stderr).not.toContain('stays APPROVED');
    expect(r.events).toEqual(['APPROVED']);
    expect(r.status).toBe('APPROVED');
  });

  it('review: a rejected edit exits 1 with the reason', async () => {
    const r = await editReceipt('review', 'your receipt is attached. Get a 50% discount with this offer.');
    expect(r.push.code).toBe(1);
    expect(r.push.stderr).toContain('order_receipt (en_US) REJECTED: INCORRECT_CATEGORY');
  });

  it('stays_approved: a failed re-review turns it REJECTED later, with a status webhook', async () => {
    const r = await editReceipt(
      'stays_approved',
      'your receipt is attached. Get a 50% discount with this offer.',
    );
    expect(r.push.code).toBe(0);
    expect(r.events).toEqual(['REJECTED']);
    expect(r.status).toBe('REJECTED');
  });
});

describe('the edit history on PostgreSQL (WACX_DATABASE_URL)', () => {
  it('an edit is recorded in the shared store, and a second edit within 24 h is refused from that record', async () => {
    const url = freshPostgresUrl();
    const sb = await startTestSandbox({ approvedEdit: 'stays_approved' });
    try {
      const env = sb.env({ WACX_DATABASE_URL: url });
      const dir = mkdtempSync(join(tmpdir(), 'wacx-edit-'));
      dirs.push(dir);
      await runCli(['templates', 'pull', dir], { env });
      const file = join(dir, 'order_receipt.en_US.yaml');
      const edit = async (from: string, to: string) => {
        writeFileSync(file, readFileSync(file, 'utf8').replace(from, to));
        return runCli(['templates', 'push', dir], { env });
      };
      const first = await edit('your receipt is attached.', 'your receipt is attached below.');
      expect(first.code, first.stderr).toBe(0);
      const store = Store.open({ backend: 'postgres', url });
      try {
        expect(store.db.prepare('SELECT name, status_before FROM template_edits').all()).toEqual([
          { name: 'order_receipt', status_before: 'APPROVED' },
        ]);
        expect(
          store.db.prepare("SELECT count(*) FROM audit_records WHERE kind = 'template_change'").pluck().get(),
        ).toBe(1);
      } finally {
        store.close();
      }
      const second = await edit('your receipt is attached below.', 'your receipt is attached here.');
      expect(second.code).toBe(1);
      expect(second.stderr).toContain('APPROVED templates can be edited once per 24 h');
    } finally {
      await sb.close();
    }
  });
});
