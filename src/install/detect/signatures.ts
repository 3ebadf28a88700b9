// What a device or image file holds: `wipefs -n -J` lists every signature (filesystems, partition
// tables, RAID, LVM) without touching anything; blkid -p gives the filesystem's UUID and label.
import { CommandError, RefusedError } from '../../base/errors.js';
import type { Runner } from '../../base/runner.js';

export interface Signature {
  type: string;
  label: string | null;
  uuid: string | null;
  offset: string;
}

interface WipefsJson {
  signatures?: { device: string; offset: string; type: string; uuid?: string; label?: string }[];
}

export function parseWipefs(json: string): Signature[] {
  if (!json.trim()) return [];
  const data = JSON.parse(json) as WipefsJson;
  return (data.signatures ?? []).map((s) => ({ type: s.type, label: s.label || null, uuid: s.uuid || null, offset: s.offset }));
}

export async function probeSignatures(runner: Runner, device: string): Promise<Signature[]> {
  const r = await runner.run(['wipefs', '--no-act', '--json', device], { allowFailure: true });
  if (r.exitCode !== 0) {
    // Without root, another account's image or a disk cannot be read: say so instead of a raw failure.
    if (process.getuid?.() !== 0 && /denied|not permitted/i.test(r.stderr)) {
      throw new RefusedError(`reading what ${device} holds needs root (it is not readable by this user); nothing was changed`, {
        hint: 'Preview the plan as root: sudo lychd-crypt init --dry-run …',
      });
    }
    throw new CommandError(r.argv, r.exitCode, r.stderr);
  }
  return parseWipefs(r.stdout);
}

/** "ext4, label precious; dos partition table" — how refusals name what a device holds. */
export function describeSignatures(sigs: { type: string; label: string | null }[]): string {
  return sigs.map((s) => (s.label ? `${s.type}, label ${s.label}` : s.type)).join('; ');
}
