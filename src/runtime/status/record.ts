// What the last runs did (verify, prune, scheduled snapshot), for `status` and the Prometheus file.
// One small JSON file in the crypt's state directory, replaced atomically; each writer changes only its own
// key. Display only: nothing decides what to delete or trust from it.
import path from 'node:path';
import { readJsonIfExists, writeJsonAtomic } from '../../base/sys/fs.js';
import type { CryptPaths } from '../../base/crypt/paths.js';

export interface RunRecord {
  /** ISO 8601 UTC of the end of the run. */
  at: string;
  ok: boolean;
  durationMs?: number;
  /** One line: what happened (or why it failed / was skipped). */
  summary: string;
  /** Kind-specific facts: the verified snapshot, the deleted names, … */
  detail?: Record<string, unknown>;
}

export type RunKind = 'verify' | 'prune' | 'scheduled';

export type RunRecords = Partial<Record<RunKind, RunRecord>>;

export function recordsPath(paths: CryptPaths): string {
  return path.join(paths.state, 'runs.json');
}

/** strict: a file this caller may not read throws (status then says it is not visible, rather than "never"). */
export async function readRuns(paths: CryptPaths, opts: { strict?: boolean } = {}): Promise<RunRecords> {
  // A damaged file must not break status: it only loses the history shown.
  return (
    (await readJsonIfExists<RunRecords>(recordsPath(paths)).catch((e: NodeJS.ErrnoException) => {
      if (opts.strict && (e.code === 'EACCES' || e.code === 'EPERM')) throw e;
      return undefined;
    })) ?? {}
  );
}

/** Callers hold the crypt lock (every writer is a mutating command), so read-modify-write does not race. */
export async function recordRun(paths: CryptPaths, kind: RunKind, rec: RunRecord): Promise<void> {
  const runs = await readRuns(paths);
  runs[kind] = rec;
  await writeJsonAtomic(recordsPath(paths), runs, { mode: 0o644 });
}
