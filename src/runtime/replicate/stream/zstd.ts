// The zstd binary between a stream and where it goes (Node 20's zlib has no zstd): over ssh the stream
// travels compressed (a snapshot's zero-filled WAL segments and padded tables shrink tenfold), and a
// file:// target stores it so. Both ends are streams; `done` settles with zstd's own verdict.
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { CryptError } from '../../../base/errors.js';
import type { Runner } from '../../../base/runner.js';

export interface Zstd {
  /** What comes out of zstd. */
  output: Readable;
  /** Settles when the input was taken and zstd ended; rejects with what went wrong. */
  done: Promise<void>;
  kill(): void;
}

/** compress: level 1 on every core (fast enough for any link); else decompress. */
export async function zstdThrough(runner: Runner, input: Readable, mode: 'compress' | 'decompress'): Promise<Zstd> {
  const child = await runner.spawn(mode === 'compress' ? ['zstd', '-1', '-T0', '-q', '-c'] : ['zstd', '-d', '-q', '-c'], { stdin: 'pipe' });
  const fed = pipeline(input, child.stdin!).then(
    () => null,
    (e: unknown) => e as Error,
  );
  const done = Promise.all([fed, child.done]).then(([feedError, r]) => {
    if (r.notRun !== undefined) throw new CryptError(`could not run zstd: ${r.notRun}`, { hint: 'Install zstd (Debian: zstd).' });
    if (r.exitCode !== 0) throw new CryptError(`zstd ${mode === 'compress' ? '' : '-d '}failed (${r.exitCode === -1 ? 'killed' : `exit ${r.exitCode}`}): ${r.stderr.trim() || 'no message'}`);
    if (feedError) throw feedError;
  });
  done.catch(() => {});
  return { output: child.stdout!, done, kill: () => child.kill('SIGKILL') };
}
