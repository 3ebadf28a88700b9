// The snapshot and rollback that runtime operations take on their way (a guarded run's "before" snapshot
// and its rollback, the scheduled run's snapshot, the rollback of an interrupted run): handed in by the
// caller rather than imported, so that the CLI's hook wrapper (cli/frame/hooks.ts) can put the crypt's
// hooks around them — the runtime itself knows nothing of hooks.
import type { RitualOptions } from './ritual/ritual.js';
import type { RollbackResult } from './rollback/run.js';
import type { RollbackPlan } from './rollback/steps.js';
import type { SnapshotMeta } from '../model/snapshot-meta.js';

export interface Operations {
  snapshot(opts: RitualOptions): Promise<SnapshotMeta>;
  rollback(plan: RollbackPlan): Promise<RollbackResult>;
}
