// Asks before a rollback replaces active/ (default No): shows what is replaced and by what.
import type { RollbackPlan } from '../../runtime/rollback/steps.js';
import { askConfirm, say } from './prompts.js';
import { formatTime } from '../../base/output/time.js';

export async function confirmRollback(plan: RollbackPlan, createdAt: string): Promise<boolean> {
  say.note(
    [
      `active/ (the live data${plan.dbRunning ? ', PostgreSQL running' : ''}) will be replaced by`,
      `snapshot ${plan.target} (taken ${formatTime(createdAt)}).`,
      `The current state is kept as snapshots/${plan.preRollbackName}; roll back to it to undo.`,
      '',
      ...plan.steps.map((s, i) => `${i + 1}. ${s}`),
    ].join('\n'),
    'rollback',
  );
  return askConfirm(`Roll back to ${plan.target}?`, { initialValue: false });
}
