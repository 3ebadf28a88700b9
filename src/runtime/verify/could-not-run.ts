// verify must not blame a snapshot for the host's trouble: a clone that cannot be written (no space, a
// read-only crypt) or a step the tool may not take (a permission on its own files) means the restore test
// could not run here, which says nothing about the snapshot. An I/O error reading the snapshot (a Btrfs
// checksum failure) or a server that refuses the snapshot's files is the snapshot's own fault.
import { EnvironmentError, environmentKind, errorChain, hintFor, makeEnvironmentError, type EnvironmentKind } from '../../base/expected-errors.js';

export interface CouldNotRun {
  kind: EnvironmentKind;
  reason: string;
}

/** Why the restore test could not run here, or null when the failure may be the snapshot's. */
export function couldNotRun(err: unknown): CouldNotRun | null {
  const kind = environmentKind(err);
  if (kind === 'no-space' || kind === 'read-only') return { kind, reason: (err as Error).message.split('\n')[0]! };
  // A permission the tool lacks on its own operations (Node errno), not one the server reports on the files.
  if (kind === 'permission' && errorChain(err).some((e) => e.code === 'EACCES' || e.code === 'EPERM')) {
    return { kind, reason: (err as Error).message.split('\n')[0]! };
  }
  return null;
}

export function couldNotRunError(name: string, c: CouldNotRun, cause?: unknown): EnvironmentError {
  return makeEnvironmentError(
    c.kind,
    `the restore test of ${name} could not run here: ${c.reason}. This says nothing about the snapshot; it is unchanged, and so is active/.`,
    { hint: hintFor(c.kind), cause },
  );
}
