// What each step does, as data: its title, the exact commands (argv) and the files it writes. --dry-run
// prints this; the handlers run the same argv, so the preview cannot drift from what happens.
import path from 'node:path';
import { formatSize } from '../../model/units.js';
import type { CryptFs, Step } from '../../model/steps.js';
import { RUNTIME_ENTRY, runtimeInstallDir } from '../../base/bundle/packaged.js';
import { systemctlArgv } from '../../base/systemctl.js';

export interface FileWrite {
  path: string;
  content: string;
  mode: number;
}

export interface StepActions {
  title: string;
  commands: string[][];
  files: FileWrite[];
  /** Filesystem operations that are not commands (mkdir, rename, chown), in words. */
  ops: string[];
  /** Everything above in the order it happens. */
  sequence: Action[];
}

export type Action = { run: string[] } | { write: FileWrite } | { op: string };

/** Builds StepActions from the ordered sequence. */
function seq(title: string, ...sequence: (Action | false)[]): StepActions {
  const list = sequence.filter((a): a is Action => a !== false);
  return {
    title,
    sequence: list,
    commands: list.flatMap((a) => ('run' in a ? [a.run] : [])),
    files: list.flatMap((a) => ('write' in a ? [a.write] : [])),
    ops: list.flatMap((a) => ('op' in a ? [a.op] : [])),
  };
}

/** The content of the native migration marker: where the original data is. */
export const migrationMarker = (from: string) => `${JSON.stringify({ version: 1, from }, null, 2)}\n`;

const octal = (mode: number) => `0${mode.toString(8)}`;

export const mountArgv = (s: Extract<Step, { kind: 'mount' }>) => ['mount', '-t', s.spec.type, '-o', s.spec.options.join(','), s.spec.what, s.spec.where];
export const mkfsArgv = (s: Extract<Step, { kind: 'mkfs-btrfs' }>) => [
  'mkfs.btrfs',
  ...(s.wipe ? ['-f'] : []),
  '-L',
  s.label,
  '-U',
  s.uuid,
  s.device,
];
/** The descriptor copy-data hands the copy: the target directory, opened by root through the verified filesystem. */
export const COPY_TARGET_FD = 3;
/** As the crypt's user (setpriv; nothing to switch for root): their data, read and written with their rights. */
export const copyArgv = (s: Extract<Step, { kind: 'copy-data' }>) => [
  ...(s.as.uid === 0 ? [] : ['setpriv', `--reuid=${s.as.uid}`, `--regid=${s.as.gid}`, '--init-groups', '--']),
  'cp',
  '-a',
  '--reflink=never',
  '--',
  ...s.entries.map((e) => `${s.from}/${e}`),
  `/proc/self/fd/${COPY_TARGET_FD}/`,
];

/** What a step inside the crypt checks first (see CryptFs). */
export const verifyOp = (fs: CryptFs): Action => ({
  op: `open ${fs.root} without following a symbolic link and check it is ${fs.uuid ? `the top (inode 256) of the Btrfs filesystem ${fs.uuid}` : 'on Btrfs'}; act through that descriptor`,
});

export function stepActions(step: Step): StepActions {
  const reload = (yes: boolean): Action | false => yes && { run: ['systemctl', 'daemon-reload'] };
  switch (step.kind) {
    case 'create-dir':
      return seq(
        `create directory ${step.path}`,
        step.fs ? verifyOp(step.fs) : { op: `open ${path.dirname(step.path)} without following a symbolic link a user could have made` },
        { op: `mkdir ${step.path} (mode ${octal(step.mode)}, owner ${step.owner.uid}:${step.owner.gid}) in it` },
      );
    case 'create-image':
      return seq(
        `create image ${step.path} (${formatSize(step.sizeBytes)})`,
        { op: `create empty file ${step.path} (mode 0600)` },
        step.nocow && { run: ['chattr', '+C', step.path] },
        { run: ['truncate', '-s', String(step.sizeBytes), step.path] },
      );
    case 'grow-image':
      return seq(
        `grow the image ${step.path} to ${formatSize(step.sizeBytes)}`,
        { run: ['truncate', '-s', String(step.sizeBytes), step.path] },
        { run: ['losetup', '--set-capacity', '<loop device of the mount>'] },
        { run: ['btrfs', 'filesystem', 'resize', 'max', step.mountPoint] },
      );
    case 'mkfs-btrfs':
      return seq(
        `format ${step.device} as Btrfs (label ${step.label})${step.wipe ? ', wiping what it holds' : ''}`,
        { run: ['wipefs', '--no-act', '--json', step.device] },
        { op: step.wipe ? 'format even if it holds a signature (wipe: true)' : 'stop if it holds any signature' },
        { run: mkfsArgv(step) },
        { run: ['blkid', step.device] },
      );
    case 'write-mount-record':
      return seq(`write mount record ${step.path} (underneath the mount)`, { write: { path: step.path, content: step.content, mode: 0o644 } });
    case 'mount':
      return seq(`mount ${step.spec.what} at ${step.spec.where}`, { run: mountArgv(step) });
    case 'unmount':
      return seq(`unmount ${step.path}`, { run: ['umount', step.path] });
    case 'remove-dir':
      return seq(`remove empty directory ${step.path}`, { op: `rmdir ${step.path}` });
    case 'move-aside':
      return seq(
        `keep the original ${step.from} as backup ${step.to}`,
        { op: `open ${path.dirname(step.from)} without following a symbolic link a user could have made` },
        { op: `rename ${step.from} -> ${step.to} in it` },
        { op: `mkdir ${step.from} (same owner and mode)` },
        step.marker !== null && { write: { path: step.marker, content: migrationMarker(step.to), mode: 0o644 } },
      );
    case 'copy-data':
      return seq(
        `copy ${step.entries.length} existing entries from ${step.from} into ${step.to}, as ${step.as.user}`,
        verifyOp(step.fs),
        { op: `open ${step.to} through it and hand it to the copy as fd ${COPY_TARGET_FD}` },
        { run: copyArgv(step) },
        step.marker !== null && { op: `rm ${step.marker}` },
      );
    case 'write-fstab-line':
      return seq(
        `persist the mount in ${step.file}`,
        { op: `back up ${step.file} to ${step.file}.lychd-crypt.bak` },
        { op: `replace our line (tag x-lychd-crypt) or append it, atomically: ${step.line}` },
        reload(step.reload),
      );
    case 'remove-fstab-line':
      return seq(
        `remove our line for ${step.where} from ${step.file}`,
        { op: `back up ${step.file} to ${step.file}.lychd-crypt.bak` },
        { op: `remove the line tagged x-lychd-crypt, atomically` },
        reload(step.reload),
      );
    case 'write-mount-unit':
      return seq(`write systemd unit ${step.unit}`, { write: { path: step.path, content: step.content, mode: 0o644 } }, reload(step.reload));
    case 'remove-mount-unit':
      return seq(
        `remove systemd unit ${step.unit}`,
        step.systemd && { run: ['systemctl', 'disable', step.unit] },
        { op: `rm ${step.path}` },
        reload(step.systemd),
      );
    case 'enable-mount-unit':
      return step.start
        ? seq(`enable ${step.unit} and mount ${step.start.where} through it`, { run: ['systemctl', 'daemon-reload'] }, { run: ['systemctl', 'enable', '--now', step.unit] })
        : seq(`enable ${step.unit}`, { run: ['systemctl', 'daemon-reload'] }, { run: ['systemctl', 'enable', step.unit] });
    case 'create-subvolume':
      return seq(
        `create subvolume ${step.path}`,
        verifyOp(step.fs),
        { op: `create the subvolume ${step.path} (BTRFS_IOC_SUBVOL_CREATE, what \`btrfs subvolume create\` does)` },
        { op: `chown ${step.owner.uid}:${step.owner.gid} ${step.path}` },
      );
    case 'create-pgdata':
      return seq(
        `create PGDATA ${step.path} (nodatacow)`,
        verifyOp(step.fs),
        { op: `mkdir ${step.path}` },
        { op: `chattr +C ${step.path} (FS_IOC_SETFLAGS, while it is empty)` },
        { op: `chown ${step.owner.uid}:${step.owner.gid} ${step.path}` },
        { op: `chmod ${octal(step.mode)} ${step.path}` },
      );
    case 'write-file':
      return seq(`write ${step.path}`, { write: { path: step.path, content: step.content, mode: step.mode } });
    case 'own-dir':
      return seq(
        `make ${step.path} ${step.owner.uid}:${step.owner.gid} ${octal(step.mode)}`,
        !!step.fs && verifyOp(step.fs),
        { op: `chown ${step.owner.uid}:${step.owner.gid} and chmod ${octal(step.mode)} ${step.path} (never through a symbolic link)` },
      );
    case 'register':
      if (step.provisionalUuid) {
        return seq(`record the new filesystem as the crypt "${step.name}"'s in ${step.dir}`, {
          op: `write ${step.dir}/${step.name}.json (root-owned, mode 0644) with the filesystem UUID ${step.provisionalUuid}; completed by the last step`,
        });
      }
      return seq(
        `register the crypt "${step.name}" in ${step.dir}`,
        !!step.fs && verifyOp(step.fs),
        { op: `read the identity of ${step.config.crypt.path} (filesystem UUID, root inode, active/ subvolume UUID)` },
        { op: `write ${step.dir}/${step.name}.json (root-owned, mode 0644): its definition, identity and state directory ${step.stateDir}` },
      );
    case 'write-unit':
      return seq(`write systemd ${step.user ? `user unit of ${step.user.name}` : 'unit'} ${step.unit}`, { write: { path: step.path, content: step.content, mode: 0o644 } });
    case 'enable-timer':
      return seq(
        `enable and start ${step.unit}${step.user ? ` (user timer of ${step.user.name})` : ''}`,
        !!step.user && { run: ['loginctl', 'enable-linger', step.user.name] },
        !!step.user && { run: ['systemctl', 'start', `user@${step.user.uid}.service`] },
        { run: systemctlArgv(step.user, 'daemon-reload') },
        { run: systemctlArgv(step.user, 'enable', step.unit) },
        { run: systemctlArgv(step.user, 'restart', step.unit) },
      );
    case 'remove-unit':
      return seq(
        `remove systemd ${step.user ? `user unit of ${step.user.name}` : 'unit'} ${step.unit}`,
        step.systemd && { run: systemctlArgv(step.user, 'disable', '--now', step.unit) },
        { op: `rm ${step.path}` },
        step.systemd && { run: systemctlArgv(step.user, 'daemon-reload') },
      );
    case 'install-runtime':
      if (step.link) return seq(`use the packaged runtime as ${step.target}`, { op: `symlink ${step.target} -> ${step.source}` });
      return seq(
        `install the runtime command ${step.target}`,
        { op: `copy the runtime directory ${path.dirname(step.source)}/ -> ${runtimeInstallDir(step.target)}/<version>-<digest>/ (root's; entry mode ${octal(step.mode)})` },
        { op: `symlink ${step.target} -> ${runtimeInstallDir(step.target)}/<version>-<digest>/${RUNTIME_ENTRY}` },
      );
  }
}
