// The plan on one screen (the interactive preview): what is formatted, what is mounted where, which host
// files change, what is installed. The full plan (every command, every file) stays behind --dry-run or
// "Show the full plan". Pure: built from the steps alone.
import path from 'node:path';
import { formatSize } from '../../model/units.js';
import type { InitStep, Plan } from '../../model/steps.js';

type S<K extends InitStep['kind']> = Extract<InitStep, { kind: K }>;
const of = <K extends InitStep['kind']>(plan: Plan, kind: K): S<K>[] => plan.steps.filter((s): s is S<K> => s.kind === kind);
const uniq = (xs: string[]) => [...new Set(xs)];

/** The preview's lines: a head, then short sections; at most a few lines each. */
export function summarizePlan(plan: Plan): string[] {
  const c = plan.config;
  const lines = [`crypt ${c.crypt.path} for ${c.crypt.user}, method ${c.method}, ${plan.steps.length} steps`];
  const section = (title: string, items: string[]) => {
    if (items.length) lines.push('', `${title}:`, ...items.map((i) => `  ${i}`));
  };

  section('Formats', [
    ...of(plan, 'create-image').map((s) => `new image ${s.path} (${formatSize(s.sizeBytes)}, ${s.preallocate ? 'preallocated' : 'sparse'})`),
    ...of(plan, 'grow-image').map((s) => `grows the image ${s.path} to ${formatSize(s.sizeBytes)}`),
    ...of(plan, 'mkfs-btrfs').map((s) => `${s.device} as Btrfs (label ${s.label})${s.wipe ? ': ERASES what it holds' : ''}`),
  ]);

  // The crypt's own mount (a migration's temporary mount is an inner detail).
  const where = c.crypt.path;
  const mounts = [...of(plan, 'mount').map((s) => s.spec), ...of(plan, 'enable-mount-unit').flatMap((s) => (s.start ? [s.start] : []))].filter((m) => m.where === where);
  const via = c.persist.via === 'fstab' ? `at boot via ${c.persist.fstab}` : c.persist.via === 'systemd' ? 'at boot via a systemd mount unit' : 'not at boot (persist.via: none)';
  section('Mounts', [
    ...uniq(mounts.map((m) => `${m.what} at ${m.where}`)),
    ...(c.method !== 'native' && (mounts.length || of(plan, 'write-fstab-line').length || of(plan, 'write-mount-unit').length) ? [via] : []),
  ]);

  const copies = of(plan, 'copy-data');
  const aside = of(plan, 'move-aside');
  section(
    'Moves data',
    copies.map((s) => `copies ${s.entries.length} existing ${s.entries.length === 1 ? 'entry' : 'entries'} into active/${aside[0] ? `; the original is kept as ${aside[0].to}` : ''}`),
  );

  section('Creates', [
    // Named as in the crypt, also when made on a migration's temporary mount.
    ...of(plan, 'create-subvolume').map((s) => `subvolume ${where}/${path.basename(s.path)}`),
    ...of(plan, 'create-pgdata').map((s) => `PGDATA ${where}/active/${path.basename(s.path)} (nodatacow, mode 0${s.mode.toString(8)})`),
  ]);

  section(
    'Host files',
    uniq([
      ...of(plan, 'write-fstab-line').map((s) => `${s.file} (one line, tagged x-lychd-crypt; backup kept)`),
      ...of(plan, 'remove-fstab-line').map((s) => `${s.file} (our line removed)`),
      ...of(plan, 'write-mount-unit').map((s) => s.path),
      ...of(plan, 'remove-mount-unit').map((s) => `${s.path} (removed)`),
      ...of(plan, 'write-unit').map((s) => s.path),
      ...of(plan, 'remove-unit').map((s) => `${s.path} (removed)`),
      ...of(plan, 'register').map((s) => `${s.dir}/${s.name}.json (registry entry)`),
    ]),
  );

  section('Installs', [
    ...of(plan, 'install-runtime').map((s) => `${s.target}${s.link ? ' (link to the packaged runtime)' : ''}`),
    ...of(plan, 'enable-timer').map((s) => `timer ${s.unit}${s.user ? ` (user ${s.user.name})` : ''}`),
  ]);

  section('Notes', plan.notes);
  return lines;
}
