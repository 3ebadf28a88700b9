// Receiving one stream into a store (the ssh receiver's `receive`, and a local path target in-process):
// the header must announce exactly what the request names; the stream passes a gate that refuses anything
// but that snapshot made from that parent (btrfs receive would look a parent or clone source up on the
// whole filesystem); a stream that stops, stalls, fails or is refused leaves nothing (its half is removed);
// a complete one is read-only with the announced received UUID, and its sidecar is written last.
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { CryptError, RefusedError } from '../../../base/errors.js';
import type { Runner } from '../../../base/runner.js';
import { faultPoint } from '../../../base/fault.js';
import { closeDir, openDir, subvolInfo } from '../../../base/sys/fd.js';
import { writeJsonAtomic } from '../../../base/sys/fs.js';
import { IdleError, IdleWatch, Meter } from '../../../base/pump.js';
import { StreamGate, StreamRefused } from '../../../base/btrfs/stream.js';
import type { Sidecar } from '../stream/header.js';
import type { Received } from '../stream/target.js';
import { bindStore, deleteEntry, inStore, removeLeftovers, scanStore, type Store } from './store.js';

export interface ReceiveWant {
  name: string;
  origin: string;
  parent: string | null;
}

export interface ReceiveOptions {
  /** Without a byte for this long the transfer is given up (a stalled link holds the lock otherwise). */
  idleTimeoutMs: number;
  /** Write NAME.json (a target's sidecar); false: the caller writes what it needs there (a restore: the snapshot's metadata). */
  sidecar?: boolean;
}

async function exists(s: Store, name: string): Promise<boolean> {
  const d = await openDir(name, s.dir).catch(() => null);
  await closeDir(d);
  return d !== null;
}

/** Checks the request against the store; leftovers are removed first. */
export async function prepareReceive(s: Store, runner: Runner, want: ReceiveWant, header: Sidecar): Promise<string[]> {
  if (header.snapshot.name !== want.name || header.origin.uuid !== want.origin || header.origin.parentUuid !== want.parent) {
    throw new RefusedError(`the header announces ${header.snapshot.name} (${header.origin.uuid}, parent ${header.origin.parentUuid ?? 'none'}), not the requested ${want.name} (${want.origin}, parent ${want.parent ?? 'none'}); nothing was received`);
  }
  await bindStore(s, header.from);
  const scan = await scanStore(s);
  const cleaned = await removeLeftovers(s, runner, scan.leftovers);
  if (scan.copies.some((c) => c.originUuid === want.origin)) {
    throw new RefusedError(`${s.shown} already holds a copy of ${want.name} (${want.origin}); nothing was received`, { hint: 'List the target first: only what it lacks is sent.' });
  }
  if (want.parent && !scan.copies.some((c) => c.originUuid === want.parent)) {
    throw new RefusedError(`the parent ${want.parent} of ${want.name} is not a complete copy in ${s.shown}; nothing was received`, { hint: 'Run `lychd-crypt replicate` again: it lists the target and sends against a copy it holds.' });
  }
  if (await exists(s, want.name)) throw new RefusedError(`${s.shown} holds another ${want.name} (of another snapshot); nothing was received`);
  return cleaned;
}

/** Receives `input` (exactly one btrfs send stream) as `want.name`; the store's lock is held by the caller. */
export async function receiveInto(s: Store, runner: Runner, want: ReceiveWant, header: Sidecar, input: Readable, opts: ReceiveOptions): Promise<Received & { ctransid: number; uuid: string; generation: number }> {
  const gate = new StreamGate({ name: want.name, uuid: want.origin, parent: want.parent });
  const meter = new Meter();
  // -e: stop at the stream's END (never wait for more); -C: its file operations stay inside DIR.
  const child = await runner.spawn(['btrfs', 'receive', '-e', '-C', s.dir.anchor], { stdin: 'pipe', stdout: 'ignore' });
  let flowError: unknown = null;
  try {
    await pipeline(input, new IdleWatch(opts.idleTimeoutMs), meter, gate, child.stdin!);
  } catch (e) {
    flowError = e;
    child.kill('SIGKILL');
  }
  const r = await child.done;
  const fail = async (e: Error): Promise<never> => {
    await deleteEntry(s, runner, want.name).catch(() => {});
    throw e;
  };
  if (flowError instanceof StreamRefused) return fail(new RefusedError(`refused the stream for ${want.name}: ${flowError.message}; nothing was kept`));
  if (flowError instanceof IdleError) return fail(new CryptError(`gave up receiving ${want.name}: ${flowError.message} (a stalled link or a stopped sender); nothing was kept`));
  if (flowError === null && !gate.complete) return fail(new CryptError(`the stream of ${want.name} ended before its end (the sender stopped or the link was cut); nothing was kept`));
  if (r.exitCode !== 0 || flowError !== null) return fail(new CryptError(`btrfs receive of ${want.name} failed (${r.exitCode === -1 ? 'killed' : `exit ${r.exitCode}`}): ${r.stderr.trim().split('\n').slice(-3).join(' / ') || 'no message'}; nothing was kept`));
  faultPoint('receive:after-receive');
  // Commit before the facts are read and the sidecar claims a copy: the copy is durable then, and its
  // ctransid (moved by that commit) stays what it is until someone changes the copy.
  await runner.run(['btrfs', 'filesystem', 'sync', s.dir.anchor]);
  const d = await openDir(want.name, s.dir);
  let info;
  try {
    info = await subvolInfo(d);
  } finally {
    await closeDir(d);
  }
  if (!info.readonly || info.receivedUuid !== want.origin) return fail(new CryptError(`btrfs receive left ${want.name} ${info.readonly ? `with received UUID ${info.receivedUuid}` : 'writable'}; nothing was kept`));
  if (opts.sidecar !== false) {
    const sidecar: Sidecar = { ...header, received: { at: new Date().toISOString(), uuid: info.uuid, ctransid: info.ctransid, bytes: meter.bytes } };
    await writeJsonAtomic(inStore(s, `${want.name}.json`), sidecar, { mode: 0o600 });
    faultPoint('receive:after-sidecar');
  }
  return { name: want.name, originUuid: want.origin, bytes: meter.bytes, ctransid: info.ctransid, uuid: info.uuid, generation: info.generation };
}
