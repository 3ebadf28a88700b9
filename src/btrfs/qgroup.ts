// Exclusive size of snapshots from Btrfs quota groups, only where that is cheap: when quotas are already
// enabled. We never enable quotas ourselves (they cost write performance on the whole filesystem).
import type { Runner } from '../core/runner.js';

/** Parses `btrfs qgroup show --raw` into subvolume id -> exclusive bytes (level-0 groups only). */
export function parseQgroupShow(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = /^0\/(\d+)\s+(\d+)\s+(\d+)/.exec(line.trim());
    if (m) out.set(Number(m[1]), Number(m[3]));
  }
  return out;
}

/** Subvolume id -> exclusive bytes, or null when quotas are off (or the numbers are being rescanned). */
export async function exclusiveSizes(runner: Runner, anyPathOnFs: string): Promise<Map<number, number> | null> {
  const r = await runner.run(['btrfs', 'qgroup', 'show', '--raw', anyPathOnFs], { allowFailure: true });
  if (r.exitCode !== 0) return null;
  // While a rescan runs the numbers are wrong; btrfs-progs warns on stderr. Better no number than a wrong one.
  if (/inconsistent|rescan/i.test(r.stderr)) return null;
  return parseQgroupShow(r.stdout);
}
