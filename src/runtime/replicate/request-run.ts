// A rootless crypt's owner asks root's service for a replication: the owner writes a request file in their
// own state directory; root's `.path` unit (install/render/replicate-units.ts) starts the root service when
// it changes. Root never reads the file (a nudge, not input). With a wait, the owner then watches root's
// record (0644) for a run that ended after the request.
import path from 'node:path';
import type { OpenCrypt } from '../../base/crypt/open.js';
import type { CryptPaths } from '../../base/crypt/paths.js';
import { writeFileAtomic } from '../../base/sys/fs.js';
import { readReplication } from './record.js';
import { REPLICATE_REQUEST_FILE } from '../../model/replicate.js';

export const requestPath = (paths: Pick<CryptPaths, 'state'>): string => path.join(paths.state, REPLICATE_REQUEST_FILE);

export interface RequestResult {
  ok: boolean;
  requestedAt: string;
  /** Per target, when waited for: the run's outcome (null: no run ended in time). */
  runs: Record<string, { ok: boolean; summary: string; at: string } | null> | null;
  human: string;
  exitCode: number;
}

export async function requestReplication(crypt: OpenCrypt, waitSeconds: number): Promise<RequestResult> {
  const requestedAt = new Date().toISOString();
  await writeFileAtomic(requestPath(crypt.paths), `${requestedAt}\n`, { mode: 0o600 });
  const targets = (crypt.config.replicate?.targets ?? []).map((t) => t.name);
  const asked = `asked root's replication service for a run (${requestPath(crypt.paths)})`;
  if (waitSeconds <= 0) return { ok: true, requestedAt, runs: null, human: `${asked}; see \`lychd-crypt replicate --list\` or \`lychd-crypt status\` for its outcome`, exitCode: 0 };
  const deadline = Date.now() + waitSeconds * 1000;
  for (;;) {
    const rec = await readReplication(crypt.config);
    const runs = Object.fromEntries(targets.map((t) => {
      const r = rec.targets[t];
      return [t, r && r.at > requestedAt ? { ok: r.ok, summary: r.summary, at: r.at } : null];
    }));
    const done = Object.values(runs).every((r) => r !== null);
    if (done || Date.now() >= deadline) {
      const failed = Object.entries(runs).filter(([, r]) => r && !r.ok);
      const lines = Object.entries(runs).map(([t, r]) => `${t}: ${r ? `${r.ok ? 'ok' : 'FAILED'}: ${r.summary}` : `no run ended within ${waitSeconds}s`}`);
      return { ok: done && !failed.length, requestedAt, runs, human: [asked, ...lines].join('\n'), exitCode: done && !failed.length ? 0 : 1 };
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
