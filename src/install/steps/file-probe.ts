// The dry run of a step that writes a file: satisfied when the content is there, else a unified diff of
// what would change.
import { readFile } from 'node:fs/promises';
import { unifiedDiff } from '../render/diff.js';
import { satisfied, wouldChange, type Probe } from './module.js';

export const readText = (p: string) => readFile(p, 'utf8').catch(() => null);

/** Content a step would write, against what is there now. */
export function fileProbe(file: string, current: string | null, next: string, same = 'same content'): Probe {
  if (current === next) return satisfied(same);
  return wouldChange(current === null ? 'new file' : undefined, unifiedDiff(current ?? '', next, file));
}
