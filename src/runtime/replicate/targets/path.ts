// A directory on another Btrfs filesystem of this host (a second disk): the receiver's own functions run
// in this process, so a local copy follows exactly the rules (and the tests) of an ssh one.
import { PassThrough, type Readable } from 'node:stream';
import path from 'node:path';
import { RefusedError } from '../../../base/errors.js';
import type { Runner } from '../../../base/runner.js';
import { btrfsFsUuid, chownDir, closeDir, createSubvolumeAt, FdError, openDir } from '../../../base/sys/fd.js';
import { openTrustedDir } from '../../../base/sys/trusted-path.js';
import { MAX_HEADER_BYTES, type CopyHeader } from '../stream/header.js';
import { deleteCopy, listCopies, sendCopy } from '../receiver/copies.js';
import { prepareReceive, receiveInto } from '../receiver/receive.js';
import { closeStore, freeBytes, openStore, withStoreLock, type Store } from '../receiver/store.js';
import type { Copy, Inventory, OpenedCopy, Received, ReplicaTarget, SendJob } from '../stream/target.js';
import { readFirstLine } from '../stream/wire.js';
import { Meter } from '../../../base/pump.js';
import { makeTargetDir } from './make-dir.js';

export interface PathOptions {
  /** The crypt's own filesystem: a copy on it would die with it. */
  cryptFsUuid: string | null;
  waitSeconds: number;
  idleTimeoutMs: number;
  rateBytesPerS: number | null;
}

const ENOENT = 2;

/** Makes DIR as a subvolume of its own (root's, 0700) when its parent is there: a second disk needs nothing else. */
export async function ensureStoreDir(dir: string): Promise<void> {
  const existing = await openTrustedDir(dir);
  if (existing) return void (await closeDir(existing));
  const parentPath = path.dirname(dir);
  makeTargetDir(parentPath, 0o755);
  const parent = await openTrustedDir(parentPath);
  if (!parent) throw new RefusedError(`${parentPath} could not be opened`);
  try {
    await createSubvolumeAt(parent, path.basename(dir)).catch((e: unknown) => {
      if (e instanceof FdError && e.errno === 25) throw new RefusedError(`${parentPath} is not on a Btrfs filesystem: a path target needs one (or use file://${dir}); nothing was changed`);
      throw e;
    });
    const made = await openDir(path.basename(dir), parent);
    try {
      await chownDir(made, 0, 0, 0o700);
    } finally {
      await closeDir(made);
    }
  } finally {
    await closeDir(parent);
  }
}

export class PathTarget implements ReplicaTarget {
  readonly kind = 'path' as const;

  constructor(
    readonly shown: string,
    private readonly runner: Runner,
    private readonly opts: PathOptions,
  ) {}

  private refuseSameFs(fsUuid: string | null): void {
    if (this.opts.cryptFsUuid && fsUuid === this.opts.cryptFsUuid) {
      throw new RefusedError(`${this.shown} is on the crypt's own filesystem (${fsUuid}): a copy there dies with it; nothing was sent`, { hint: 'Point the target at another disk.' });
    }
  }

  /** Whether the directory exists (refusing, before anything is made, one on the crypt's filesystem). */
  private async present(): Promise<boolean> {
    for (let d = this.shown; ; d = path.dirname(d)) {
      const fs = await fsUuidOf(d);
      if (fs !== null || d === '/') {
        this.refuseSameFs(fs);
        return d === this.shown;
      }
    }
  }

  private async withStore<T>(fn: (s: Store) => Promise<T>, opts: { create?: boolean } = {}): Promise<T> {
    if (!(await this.present()) && opts.create) await ensureStoreDir(this.shown);
    let s: Store;
    try {
      s = await openStore(this.shown);
    } catch (e) {
      if (e instanceof FdError && e.errno === ENOENT) {
        throw new RefusedError(`the target directory ${this.shown} does not exist`, { hint: `Mount the disk, or let \`lychd-crypt replicate\` make it (it makes ${this.shown} when its parent is on Btrfs).` });
      }
      throw e;
    }
    try {
      this.refuseSameFs(s.fsUuid);
      return await withStoreLock(s, this.opts.waitSeconds, () => fn(s));
    } finally {
      await closeStore(s);
    }
  }

  async inventory(): Promise<Inventory> {
    // Not made yet (the first run makes it when it sends): nothing held.
    if (!(await this.present())) return { copies: [], broken: [], chainIndex: {}, cleaned: [], freeBytes: null };
    return this.withStore(async (s) => {
      const { copies, cleaned } = await listCopies(s, this.runner);
      return { copies, broken: [], chainIndex: {}, cleaned, freeBytes: freeBytes(s) };
    });
  }

  receive(job: SendJob, stream: Readable): Promise<Received> {
    return this.withStore(async (s) => {
      const want = { name: job.name, origin: job.originUuid, parent: job.parentOriginUuid };
      await prepareReceive(s, this.runner, want, job.header);
      const r = await receiveInto(s, this.runner, want, job.header, this.opts.rateBytesPerS ? stream.pipe(new Meter({ rateBytesPerS: this.opts.rateBytesPerS })) : stream, { idleTimeoutMs: this.opts.idleTimeoutMs });
      return { name: r.name, originUuid: r.originUuid, bytes: r.bytes };
    }, { create: true });
  }

  remove(copy: Copy): Promise<void> {
    return this.withStore((s) => deleteCopy(s, this.runner, copy.name, copy.originUuid));
  }

  async open(copy: Copy, parent: Copy | null): Promise<OpenedCopy> {
    const pass = new PassThrough();
    const done = this.withStore((s) => sendCopy(s, this.runner, copy.name, copy.originUuid, parent?.originUuid ?? null, pass));
    done.catch((e: unknown) => pass.destroy(e as Error));
    const { line, rest } = await readFirstLine(pass, MAX_HEADER_BYTES);
    const header: CopyHeader = await (await import('../stream/header-schema.js')).parseHeaderText(line);
    return { header, stream: rest, done, abort: () => pass.destroy() };
  }

  async close(): Promise<void> {}
}

/** The filesystem UUID of a directory, or null (for the same-filesystem check before a target exists). */
export async function fsUuidOf(dir: string): Promise<string | null> {
  const d = await openTrustedDir(dir).catch(() => null);
  if (!d) return null;
  try {
    return await btrfsFsUuid(d).catch(() => null);
  } finally {
    await closeDir(d);
  }
}
