import type { MessageTemplate } from '../../graph/types.js';
import type { CheckDefinition, DoctorFacts, Outcome } from '../types.js';
import { describeError, fail, fixForError, pass, skip, warn } from './common.js';

function templates(f: DoctorFacts): MessageTemplate[] | Outcome {
  if (!f.config.wabaId.value) return skip('no WABA id configured (see waba.reachable)');
  if (f.templates.state === 'skipped') return skip(f.templates.reason, f.templates.fix);
  if (f.templates.state === 'error') return skip('templates could not be listed (see templates.counts)');
  return f.templates.value;
}
const isOutcome = (v: MessageTemplate[] | Outcome): v is Outcome => !Array.isArray(v);

function label(t: MessageTemplate): string {
  return `${t.name} (${t.language})`;
}

/** Why a template is in trouble: the rejection reason or its quality. */
function reason(t: MessageTemplate): string {
  const parts: string[] = [];
  if (t.rejected_reason && t.rejected_reason !== 'NONE') parts.push(t.rejected_reason);
  const q = t.quality_score?.score;
  if (q === 'RED' || q === 'YELLOW') parts.push(`quality ${q}`);
  return parts.length ? parts.join(', ') : 'no reason given';
}

function named(list: MessageTemplate[]): string {
  return list.map((t) => `${label(t)}: ${reason(t)}`).join('; ');
}

function byStatus(list: MessageTemplate[], status: string): MessageTemplate[] {
  return list.filter((t) => t.status === status).sort((a, b) => label(a).localeCompare(label(b)));
}

export const TEMPLATE_CHECKS: CheckDefinition[] = [
  {
    id: 'templates.counts',
    group: 'Templates',
    title: 'Templates by status',
    run(f) {
      if (f.templates.state === 'error') {
        const e = f.templates.error;
        if (e.network) return skip(`API unreachable: ${e.message}`);
        return fail(
          `cannot list templates: ${describeError(e)}`,
          fixForError(e, 'WABA', '`wacx config get wabaId`.'),
        );
      }
      const list = templates(f);
      if (isOutcome(list)) return list;
      if (list.length === 0) {
        return warn(
          'no templates: bulk sends need an APPROVED template',
          'Create one (`wacx templates create FILE` or `wacx templates push`).',
        );
      }
      const counts = new Map<string, number>();
      for (const t of list) counts.set(t.status, (counts.get(t.status) ?? 0) + 1);
      const detail = [...counts.entries()]
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([s, n]) => `${n} ${s}`)
        .join(', ');
      if (!counts.get('APPROVED')) {
        return warn(
          `${detail}: none APPROVED, nothing can be sent outside the 24-hour window`,
          'Wait for the review, or fix and resubmit rejected templates.',
        );
      }
      return pass(detail);
    },
  },
  {
    id: 'templates.paused',
    group: 'Templates',
    title: 'Paused templates',
    run(f) {
      const list = templates(f);
      if (isOutcome(list)) return list;
      const paused = byStatus(list, 'PAUSED');
      if (paused.length === 0) return pass('none');
      return fail(
        named(paused),
        'Paused for low quality: sends fail with 132015. Improve the content and edit it (`wacx templates update`); Meta unpauses after 3 h (first pause) or 6 h (second), a third pause disables it.',
      );
    },
  },
  {
    id: 'templates.disabled',
    group: 'Templates',
    title: 'Disabled templates',
    run(f) {
      const list = templates(f);
      if (isOutcome(list)) return list;
      const disabled = byStatus(list, 'DISABLED');
      if (disabled.length === 0) return pass('none');
      // A warning, not a failure: nothing can re-enable it, so it must not fail every run from now on.
      return warn(
        named(disabled),
        'Disabled templates cannot be sent (132016) or edited: create a new template under a new name and switch campaigns to it.',
      );
    },
  },
  {
    id: 'templates.rejected',
    group: 'Templates',
    title: 'Rejected templates',
    run(f) {
      const list = templates(f);
      if (isOutcome(list)) return list;
      const rejected = byStatus(list, 'REJECTED');
      if (rejected.length === 0) return pass('none');
      return warn(
        named(rejected),
        'Fix what the reason names, check it locally with `wacx templates lint`, then edit and resubmit (`wacx templates update`) or delete it.',
      );
    },
  },
];
