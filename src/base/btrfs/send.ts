// `btrfs send` for the off-host copies: its argv (protocol 1, quiet; an incremental names its parent with
// -p only — clone sources beyond the parent would widen what a receiver must allow) and the size of a send
// before it is made, from the metadata-only stream (`--no-data`: one UPDATE_EXTENT per changed extent, with
// its length), in a fraction of a second.
import type { Runner } from '../runner.js';
import { CryptError } from '../errors.js';
import { ExtentCounter } from './stream.js';

export function sendArgv(snapshot: string, parent: string | null, opts: { noData?: boolean } = {}): string[] {
  return ['btrfs', 'send', '-q', ...(opts.noData ? ['--no-data'] : []), ...(parent ? ['-p', parent] : []), snapshot];
}

/** Bytes the send of `snapshot` (against `parent`) will carry: its data plus its metadata. */
export async function estimateSend(runner: Runner, snapshot: string, parent: string | null): Promise<number> {
  const child = await runner.spawn(sendArgv(snapshot, parent, { noData: true }));
  const counter = new ExtentCounter();
  let meta = 0;
  let parseError: Error | null = null;
  child.stdout!.on('data', (b: Buffer) => {
    meta += b.length;
    try {
      counter.push(b);
    } catch (e) {
      parseError ??= e as Error;
    }
  });
  const r = await child.done;
  if (r.exitCode !== 0) throw new CryptError(`btrfs send --no-data ${snapshot} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  if (parseError) throw new CryptError(`could not read the metadata stream of ${snapshot}: ${(parseError as Error).message}`);
  return counter.bytes + meta;
}
