// Renders the systemd .mount unit for a MountSpec (systemd.mount(5)).
import path from 'node:path';
import type { MountSpec } from './mount-spec.js';

/** Unit files expand %-specifiers in What=/Where=/Options=: a literal % is written %%. */
function escapeSpecifiers(value: string): string {
  return value.replace(/%/g, '%%');
}

function assertUnitValue(name: string, value: string): void {
  // A newline would end the assignment; a unit file has no quoting for these settings.
  if (/[\n\r]/.test(value)) throw new Error(`${name} cannot contain a newline: ${JSON.stringify(value)}`);
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
    ...(isImage ? [`RequiresMountsFor=${escapeSpecifiers(path.dirname(spec.what))}`] : []),
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
