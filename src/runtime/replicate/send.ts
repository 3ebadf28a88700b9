// Sending one snapshot to one target: `btrfs send [-p PARENT] SNAPSHOT`, its bytes through the meter (rate
// limit, count, progress) into the target. Whichever end fails, the other is stopped, and the target keeps
// nothing of it (its receiver removes the half); the error says which end it was.
import { pipeline } from 'node:stream/promises';
import { CryptError } from '../../base/errors.js';
import type { Runner } from '../../base/runner.js';
import { faultPoint } from '../../base/fault.js';
import { Meter } from '../../base/pump.js';
import { sendArgv } from '../../base/btrfs/send.js';
import type { Received, ReplicaTarget, SendJob } from './stream/target.js';

export interface SendOptions {
  /** With the stream's bytes so far (the rate limit is the target's: on what leaves the host). */
  onProgress?: (bytes: number) => void;
}

export async function sendSnapshot(runner: Runner, target: ReplicaTarget, job: SendJob, snapshot: string, parent: string | null, opts: SendOptions): Promise<Received> {
  const child = await runner.spawn(sendArgv(snapshot, parent));
  faultPoint('replicate:after-send-start');
  const meter = new Meter({ onProgress: (n) => opts.onProgress?.(n) });
  const piped = pipeline(child.stdout!, meter).catch(() => {});
  let targetError: unknown = null;
  let received: Received | null = null;
  let stopped = false;
  try {
    received = await target.receive(job, meter);
  } catch (e) {
    targetError = e;
    stopped = true;
    child.kill('SIGKILL');
  }
  const r = await child.done;
  await piped;
  if (received) return { ...received, rawBytes: meter.bytes }; // the target saw the stream's END and checked the copy: it is whole
  // Whose fault: btrfs send killed by someone else, or a target that saw the stream stop early, is the sender's;
  // otherwise the target failed and btrfs send's own error (a broken pipe) only follows from that.
  const senderDied = (r.exitCode === -1 && !stopped) || r.notRun !== undefined;
  const streamStopped = targetError instanceof Error && /ended before its end/.test(targetError.message);
  if (senderDied || (r.exitCode !== 0 && (streamStopped || !targetError))) {
    throw new CryptError(`btrfs send of ${job.name} failed (${r.notRun ?? (r.exitCode === -1 ? 'killed' : `exit ${r.exitCode}`)}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n').at(-1)}` : ''}); ${target.shown} kept nothing of it`, {
      cause: targetError ?? undefined,
      hint: 'Nothing on this host changed. Run `lychd-crypt replicate` again: it sends what the target lacks.',
    });
  }
  throw targetError ?? new CryptError(`sending ${job.name} to ${target.shown} failed`);
}
