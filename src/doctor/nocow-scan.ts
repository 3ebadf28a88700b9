// Which regular files and directories of a tree lack the C (nodatacow) attribute, read with lsattr -d
// in batches (symlinks and special files carry no flags and are skipped).
import type { Runner } from '../core/runner.js';
import type { TreeEntry } from './walk.js';

const BATCH = 400;

/** Parses `lsattr -d` output lines `<flags> <path>` into a path → has-C map. */
export function parseLsattr(stdout: string): Map<string, boolean> {
  const flags = new Map<string, boolean>();
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) (.+)$/.exec(line);
    if (m) flags.set(m[2]!, m[1]!.includes('C'));
  }
  return flags;
}

export async function entriesWithoutNocow(runner: Runner, entries: TreeEntry[]): Promise<TreeEntry[]> {
  const flagged = entries.filter((e) => e.st.isFile() || e.st.isDirectory());
  const missing: TreeEntry[] = [];
  for (let i = 0; i < flagged.length; i += BATCH) {
    const batch = flagged.slice(i, i + BATCH);
    const r = await runner.run(['lsattr', '-d', '--', ...batch.map((e) => e.path)], { allowFailure: true });
    const flags = parseLsattr(r.stdout);
    for (const e of batch) if (flags.get(e.path) !== true) missing.push(e);
  }
  return missing;
}
