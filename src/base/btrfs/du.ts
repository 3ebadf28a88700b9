// Exclusive size of one subvolume from `btrfs filesystem du -s --raw` (walks its files: on demand only,
// for `list --sizes` when quotas are off; no quota is ever enabled for it).
import type { Runner } from '../runner.js';

/** The Exclusive column of `btrfs filesystem du -s --raw PATH`'s one data line; null when unparsable. */
export function parseFilesystemDu(text: string): number | null {
  const line = text.split('\n').find((l) => /^\s*\d+\s+\d+\s+\d+\s+\S/.test(l));
  const m = line ? /^\s*(\d+)\s+(\d+)\s+(\d+)/.exec(line) : null;
  return m ? Number(m[2]) : null;
}

export async function exclusiveByDu(runner: Runner, subvolume: string): Promise<number | null> {
  const r = await runner.run(['btrfs', 'filesystem', 'du', '-s', '--raw', subvolume], { allowFailure: true });
  return r.exitCode === 0 ? parseFilesystemDu(r.stdout) : null;
}
