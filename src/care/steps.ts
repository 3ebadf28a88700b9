// The typed steps of a repair plan. Doctor's checks name the steps that would fix what they found; the
// planner orders and dedupes them; src/care/apply.ts runs each through its handler.
import type { Owner, PostgresConfig } from '../model/config.js';
import type { MountSpec } from '../install/render/index.js';

export type RepairStep =
  /**
   * Mount the crypt from its persisted description (the mount record, or the config). unit: systemd runs
   * and the mount is persisted by that unit, so the unit mounts it (systemd then knows the mount as its own).
   */
  | { kind: 'mount'; spec: MountSpec; unit?: string }
  /** The same filesystem is stacked on the mount point twice: unmount the top copy. */
  | { kind: 'unmount-stacked'; where: string }
  /**
   * The crypt is read-only (forced by Btrfs after a write error, or mounted so): stop the database, unmount,
   * mount again from the spec, start the database again if it was running or had crashed.
   */
  | {
      kind: 'remount-crypt';
      spec: MountSpec;
      forced: boolean;
      postgres: PostgresConfig | null;
      pgdata: string | null;
      crypt: { user: string; logDir: string } | null;
    }
  | { kind: 'write-mount-record'; path: string; content: string }
  /** Replace our tagged line(s) for the mount point by one rendered line (atomically, with a backup). */
  | { kind: 'write-fstab-line'; file: string; spec: MountSpec }
  | { kind: 'remove-fstab-line'; file: string; where: string }
  /** Write the unit (atomically, with a backup of a differing one). */
  | { kind: 'write-mount-unit'; path: string; unit: string; content: string }
  | { kind: 'remove-mount-unit'; path: string; unit: string }
  /** systemd runs: daemon-reload and enable the unit so the crypt is mounted at boot. */
  | { kind: 'enable-mount-unit'; path: string; unit: string }
  | { kind: 'create-dir'; path: string; mode: number; owner: Owner }
  /** PGDATA missing: mkdir, chattr +C while empty, owner, 0700 (as init does). */
  | { kind: 'create-pgdata'; path: string; owner: Owner; mode: number }
  /** chown (and chmod) a path; recursive: every entry below it too (PGDATA must be the server's). */
  | { kind: 'set-owner'; path: string; owner: Owner; mode: number | null; recursive: boolean }
  | { kind: 'delete-subvolume'; path: string; why: string }
  /** A directory tree left by an interrupted repair (never user data: only our own staging names). */
  | { kind: 'remove-tree'; path: string; why: string }
  | { kind: 'remove-file'; path: string; why: string }
  /** Copy PGDATA into a fresh +C directory, verify, swap atomically (journal op nocow-rewrite). */
  | { kind: 'nocow-rewrite'; pgdata: string; files: number }
  /** Rename a state file nothing can act on (an unusable journal, invalid metadata) to `<path>.invalid-<time>`: kept, not used. */
  | { kind: 'set-aside'; path: string; why: string }
  /** Finish or undo the operation in the journal (the shared recoverInterrupted). */
  | { kind: 'recover-interrupted'; op: string; id: string; phase: string }
  | { kind: 'install-runtime'; target: string }
  /** A complete read-only snapshot lost its metadata file: rebuild it from the subvolume and pg_controldata. */
  | { kind: 'rebuild-metadata'; path: string; name: string }
  /** snapshots/ is missing and a directory beside active/ holds the snapshots (moved by hand): move it back. */
  | { kind: 'move-snapshots-back'; from: string; to: string; count: number };

export type RepairKind = RepairStep['kind'];

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

const octal = (mode: number) => `0${mode.toString(8)}`;

/** One line saying what the step does, for the plan and the report. */
export function describeStep(s: RepairStep): string {
  switch (s.kind) {
    case 'mount':
      if (s.unit) return `mount ${s.spec.where} through ${s.unit} (systemctl reset-failed; systemctl start)`;
      return `mount ${s.spec.what} at ${s.spec.where} (mount -t ${s.spec.type} -o ${s.spec.options.join(',')})`;
    case 'unmount-stacked':
      return `unmount the second copy of the crypt stacked on ${s.where} (umount ${s.where})`;
    case 'remount-crypt':
      return `remount the ${s.forced ? 'forced read-only ' : 'read-only '}crypt: ${s.postgres ? 'stop the database if it still runs, ' : ''}umount ${s.spec.where}, mount ${s.spec.what} again (mount -t ${s.spec.type} -o ${s.spec.options.join(',')})${s.postgres && s.postgres.service.kind !== 'none' ? ', start the database if it was running or had crashed' : ''}`;
    case 'write-mount-record':
      return `write the mount record ${s.path} (underneath the mount)`;
    case 'write-fstab-line':
      return `rewrite our line for ${s.spec.where} in ${s.file} (atomically; backup ${s.file}.lychd-crypt.bak)`;
    case 'remove-fstab-line':
      return `remove our line for ${s.where} from ${s.file} (atomically; backup ${s.file}.lychd-crypt.bak)`;
    case 'write-mount-unit':
      return `write the unit ${s.path} (atomically; backup ${s.path}.lychd-crypt.bak)`;
    case 'remove-mount-unit':
      return `remove the unit ${s.path} (backup ${s.path}.lychd-crypt.bak)`;
    case 'enable-mount-unit':
      return `enable ${s.unit} (systemctl daemon-reload; systemctl enable)`;
    case 'create-dir':
      return `create ${s.path} (mode ${octal(s.mode)}, owner ${s.owner.uid}:${s.owner.gid})`;
    case 'create-pgdata':
      return `create PGDATA ${s.path} empty with chattr +C (mode ${octal(s.mode)}, owner ${s.owner.uid}:${s.owner.gid})`;
    case 'set-owner':
      return `chown ${s.recursive ? '-R ' : ''}${s.owner.uid}:${s.owner.gid} ${s.path}${s.mode === null ? '' : `; chmod ${octal(s.mode)} ${s.path}`}`;
    case 'delete-subvolume':
      return `delete ${s.why} (btrfs subvolume delete --commit-after ${s.path})`;
    case 'remove-tree':
      return `remove ${s.why} (rm -r ${s.path})`;
    case 'remove-file':
      return `remove ${s.why} (rm ${s.path})`;
    case 'nocow-rewrite':
      return `rewrite PGDATA ${s.pgdata} (${s.files} entries without C) into a fresh chattr +C directory: real copies, verified byte for byte, then swapped atomically; a running database is stopped through postgres.service and started again`;
    case 'set-aside':
      return `set ${s.why} aside (mv ${s.path} ${s.path}.invalid-<time>)`;
    case 'recover-interrupted':
      return `finish or undo the interrupted ${s.op} ${s.id} (phase ${s.phase})`;
    case 'install-runtime':
      return `install this version of the runtime command as ${s.target}`;
    case 'rebuild-metadata':
      return `rebuild the lost metadata of snapshot ${s.name} from its subvolume and pg_controldata (writes ${s.path}.json)`;
    case 'move-snapshots-back':
      return `move ${s.from} (${s.count} snapshot(s)) back to ${s.to} (mv)`;
  }
}
