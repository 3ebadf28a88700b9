// planRepair: doctor's findings → the ordered repair steps (pure). Problems without a safe automatic fix
// are listed as manual; checks that could not run are listed so the plan does not look complete when it
// is not. And what the plan knows of each kind: when it runs, who may take it, whether it asks first.
import type { Check } from './findings.js';
import type { RepairKind, RepairStep } from '../model/steps.js';

/**
 * Steps that run before the crypt lock is taken: the lock file lives on the crypt, so it cannot be
 * locked before the crypt is mounted, and a stacked copy cannot be unmounted while the lock holds it open.
 */
export const BEFORE_LOCK: RepairKind[] = ['mount', 'unmount-stacked', 'remount-crypt'];

/**
 * Steps only root can take: the mount (and its loop device), the persisted mount, the installed runtime.
 * On a rootless crypt root takes them itself before it drops to the owner (src/care/root-part.ts); the
 * owner is told the root command instead of trying them.
 */
export const ROOT_ONLY: RepairKind[] = [
  'mount',
  'unmount-stacked',
  'remount-crypt',
  'write-mount-record',
  'write-fstab-line',
  'remove-fstab-line',
  'write-mount-unit',
  'remove-mount-unit',
  'enable-mount-unit',
  'install-runtime',
];

/** Steps that delete or rewrite something that holds data: they need --yes or a confirmation. */
export function isDestructive(step: RepairStep): boolean {
  return ['delete-subvolume', 'remove-tree', 'remove-file', 'nocow-rewrite'].includes(step.kind);
}

/**
 * Steps that need --yes or a confirmation: the destructive ones, and moving a directory the administrator
 * moved by hand (maybe on purpose). Everything else (owners, modes, missing directories, mount, records,
 * rebuilt metadata) is applied without asking.
 */
export function needsConsent(step: RepairStep): boolean {
  return isDestructive(step) || step.kind === 'move-snapshots-back' || step.kind === 'set-aside';
}

/** The order steps run in: mount first (everything else lives on the crypt), recovery before layout. */
export const STEP_ORDER: RepairKind[] = [
  'mount',
  'unmount-stacked',
  'remount-crypt',
  'write-mount-record',
  'remove-fstab-line',
  'remove-mount-unit',
  'write-fstab-line',
  'write-mount-unit',
  'enable-mount-unit',
  'set-aside',
  'recover-interrupted',
  'move-snapshots-back',
  'create-dir',
  'create-pgdata',
  'delete-subvolume',
  'remove-tree',
  'remove-file',
  'rebuild-metadata',
  'set-owner',
  'nocow-rewrite',
  'install-runtime',
];

export interface RepairPlan {
  version: 1;
  steps: RepairStep[];
  /** Problems repair will not touch, with what a person must do. */
  manual: { id: string; finding: string; fix: string }[];
  /** Whether any step deletes or rewrites data (needs --yes or a confirmation). */
  destructive: boolean;
}

export function planRepair(checks: Check[]): RepairPlan {
  const steps: RepairStep[] = [];
  const seen = new Set<string>();
  for (const c of checks) {
    if (c.status !== 'problem') continue;
    for (const s of c.steps) {
      const key = JSON.stringify(s);
      // The same fix found by two checks is done once; stacked unmounts are counted, not merged.
      if (s.kind !== 'unmount-stacked' && seen.has(key)) continue;
      seen.add(key);
      steps.push(s);
    }
  }
  const rank = (s: RepairStep) => STEP_ORDER.indexOf(s.kind);
  steps.sort((a, b) => rank(a) - rank(b)); // stable: checks' order within a kind
  const manual = checks
    .filter((c) => c.status === 'problem' && c.fix && 'manual' in c.fix)
    .map((c) => ({ id: c.id, finding: c.finding, fix: (c.fix as { manual: string }).manual }));
  return { version: 1, steps, manual, destructive: steps.some(isDestructive) };
}
