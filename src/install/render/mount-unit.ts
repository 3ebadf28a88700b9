// Renders the systemd .mount unit for a MountSpec (systemd.mount(5)).
import path from 'node:path';
import { UsageError } from '../../base/errors.js';
import type { MountSpec } from '../../model/mount-spec.js';

/** Unit files expand %-specifiers in What=/Where=/Options=: a literal % is written %%. */
export function escapeSpecifiers(value: string): string {
  return value.replace(/%/g, '%%');
}

/**
 * RequiresMountsFor= is a list split on whitespace (extract_first_word with EXTRACT_UNQUOTE): a path
 * with blanks, quotes or backslashes is double-quoted, with \ and " escaped.
 */
export function quoteListWord(value: string): string {
  const v = escapeSpecifiers(value);
  return /[\s"'\\]/.test(v) ? `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"` : v;
}

export function assertUnitValue(name: string, value: string): void {
  // A newline would end the assignment and blanks at either end are trimmed: a unit file has no
  // quoting for these settings, so such a path cannot be described at all.
  if (/[\n\r]/.test(value) || value !== value.trim()) {
    throw new UsageError(`${name}= cannot hold ${JSON.stringify(value)} (a newline, or blanks at either end)`, {
      hint: 'Choose a path without them, or persist.via: fstab.',
    });
  }
}

/**
 * The unit text. For an image, What= is the file and Options= starts with `loop`; the directory
 * holding the image must be mounted first (RequiresMountsFor=). WantedBy=local-fs.target mounts it
 * at boot with the other local filesystems, without making the boot fail when it cannot (Wants is weak).
 */
export function renderMountUnit(spec: MountSpec): string {
  assertUnitValue('What', spec.what);
  assertUnitValue('Where', spec.where);
  const isImage = spec.options.includes('loop') && spec.what.startsWith('/');
  const unit = [
    '[Unit]',
    `Description=LychD crypt (Btrfs) at ${escapeSpecifiers(spec.where)}`,
    'Documentation=man:systemd.mount(5)',
    ...(isImage ? [`RequiresMountsFor=${quoteListWord(path.dirname(spec.what))}`] : []),
    '',
    '[Mount]',
    `What=${escapeSpecifiers(spec.what)}`,
    `Where=${escapeSpecifiers(spec.where)}`,
    `Type=${spec.type}`,
    `Options=${escapeSpecifiers(spec.options.join(','))}`,
    '',
    '[Install]',
    'WantedBy=local-fs.target',
    '',
  ];
  return unit.join('\n');
}
