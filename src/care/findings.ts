// What doctor reports: one entry per check, each with what it found and how it would be fixed.
import type { RepairStep } from '../model/steps.js';

/** advice: an informational proposal; it does not make the crypt unhealthy. */
export type CheckStatus = 'ok' | 'problem' | 'cannot-check' | 'advice';

/** repair: what `lychd-crypt repair` would do; manual: what a person must do (no safe automatic fix). */
export type Fix = { repair: string } | { manual: string };

export interface Check {
  /** Stable id, e.g. `mount.mounted` (documented in docs/doctor.md). */
  id: string;
  /** The group the human output lists it under (the id's first part). */
  group: string;
  status: CheckStatus;
  /** One line. */
  finding: string;
  /** null when ok. */
  fix: Fix | null;
  /** The repair steps behind fix.repair (not part of the JSON: `repair --dry-run --json` shows them). */
  steps: RepairStep[];
}

const groupOf = (id: string) => id.split('.')[0]!;

export function ok(id: string, finding: string): Check {
  return { id, group: groupOf(id), status: 'ok', finding, fix: null, steps: [] };
}

export function cannotCheck(id: string, finding: string): Check {
  return { id, group: groupOf(id), status: 'cannot-check', finding, fix: null, steps: [] };
}

/** A problem repair can fix with `steps`, described by `repair`. */
export function fixable(id: string, finding: string, repair: string, steps: RepairStep[]): Check {
  return { id, group: groupOf(id), status: 'problem', finding, fix: { repair }, steps };
}

/** A proposal the user may take or leave (doctor and repair never apply it). */
export function advice(id: string, finding: string, what: string): Check {
  return { id, group: groupOf(id), status: 'advice', finding, fix: { manual: what }, steps: [] };
}

export function manual(id: string, finding: string, what: string): Check {
  return { id, group: groupOf(id), status: 'problem', finding, fix: { manual: what }, steps: [] };
}
