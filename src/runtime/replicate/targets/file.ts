// A file:// target: a directory of zstd-compressed send streams, each with a sidecar, on any filesystem
// (an rclone or object-store mount too). A stream is written as NAME.btrfs.zst.partial, fsynced and renamed;
// then its sidecar (temporary file + rename) marks it complete; then the directory is fsynced. What is found
// without a sidecar, or still .partial, is a leftover of an interrupted run and removed. Chains: ../chain.ts.
import { createReadStream, createWriteStream, fsyncSync, closeSync, openSync, readdirSync, renameSync, statSync, unlinkSync, lstatSync, statfsSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import path from 'node:path';
import { CryptError, RefusedError } from '../../../base/errors.js';
import type { Runner } from '../../../base/runner.js';
import { fsyncDir, writeJsonAtomic } from '../../../base/sys/fs.js';
import { readTextSafely } from '../../../base/sys/read-file.js';
import { Meter } from '../../../base/pump.js';
import { StreamGate, StreamRefused } from '../../../base/btrfs/stream.js';
import { isSnapshotName } from '../../snapshots/names.js';
import { MAX_HEADER_BYTES, headerOf, type Sidecar } from '../stream/header.js';
import { analyseChains, type StreamEntry } from '../stream/chain.js';
import { copyOf } from '../receiver/store.js';
import { makeTargetDir } from './make-dir.js';
import type { Copy, Inventory, OpenedCopy, Received, ReplicaTarget, SendJob } from '../stream/target.js';

export const STREAM_SUFFIX = '.btrfs.zst';
const PARTIAL = '.partial';

const streamFile = (name: string): string => `${name}${STREAM_SUFFIX}`;

/** sha256 of a file, read once (the --verify check and a restore's check before the first byte). */
async function sha256Of(file: string): Promise<string> {
  const { createHash } = await import('node:crypto');
  const h = createHash('sha256');
  await pipeline(createReadStream(file), h);
  return h.digest('hex');
}

export class FileTarget implements ReplicaTarget {
  readonly kind = 'file' as const;
  readonly shown: string;

  constructor(
    private readonly dir: string,
    private readonly runner: Runner,
    private readonly opts: { rateBytesPerS: number | null } = { rateBytesPerS: null },
  ) {
    this.shown = `file://${dir}`;
  }

  private at(name: string): string {
    return path.join(this.dir, name);
  }

  /** The directory, made (0700, root's) when missing; a link or a non-directory there is refused. */
  private ensureDir(create: boolean): boolean {
    const st = lstatSync(this.dir, { throwIfNoEntry: false });
    if (!st) {
      if (!create) return false;
      makeTargetDir(this.dir, 0o700);
      return true;
    }
    if (!st.isDirectory()) throw new RefusedError(`${this.dir} is not a directory (a symbolic link or a file); nothing was written there`);
    return true;
  }

  private async readEntries(verify: boolean): Promise<{ entries: StreamEntry[]; leftovers: string[] }> {
    const names = readdirSync(this.dir);
    const entries: StreamEntry[] = [];
    const leftovers: string[] = [];
    const withSidecar = new Set<string>();
    const { parseHeaderText } = await import('../stream/header-schema.js');
    for (const f of names) {
      const m = /^(.+)\.json$/.exec(f);
      if (!m || !isSnapshotName(m[1]!)) continue;
      const name = m[1]!;
      let sidecar: Sidecar;
      try {
        sidecar = await parseHeaderText((await readTextSafely(this.at(f), { maxBytes: MAX_HEADER_BYTES }))!);
      } catch {
        leftovers.push(f); // an unreadable sidecar marks nothing complete
        continue;
      }
      if (sidecar.snapshot.name !== name || !sidecar.stream || sidecar.stream.file !== streamFile(name)) {
        leftovers.push(f);
        continue;
      }
      withSidecar.add(name);
      const st = statSync(this.at(sidecar.stream.file), { throwIfNoEntry: false });
      const fileBytes = st?.isFile() ? st.size : null;
      const checksumOk = verify && fileBytes === sidecar.stream.bytes ? (await sha256Of(this.at(sidecar.stream.file))) === sidecar.stream.sha256 : null;
      entries.push({ name, sidecar, fileBytes, checksumOk });
    }
    for (const f of names) {
      const s = f.endsWith(PARTIAL) ? f.slice(0, -PARTIAL.length) : f;
      const m = s.endsWith(STREAM_SUFFIX) ? s.slice(0, -STREAM_SUFFIX.length) : null;
      if (m && isSnapshotName(m) && (f !== s || !withSidecar.has(m))) leftovers.push(f);
      const t = /^\.(.+)\.json\.[0-9a-f]+\.tmp$/.exec(f);
      if (t && isSnapshotName(t[1]!)) leftovers.push(f);
    }
    return { entries, leftovers };
  }

  async inventory(opts: { verify?: boolean } = {}): Promise<Inventory> {
    if (!this.ensureDir(false)) return { copies: [], broken: [], chainIndex: {}, cleaned: [], freeBytes: null };
    const { entries, leftovers } = await this.readEntries(opts.verify === true);
    for (const f of leftovers) unlinkSync(this.at(f));
    if (leftovers.length) await fsyncDir(this.dir);
    const facts = analyseChains(entries);
    const byTime = (a: Copy, b: Copy) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name);
    let free: number | null = null;
    try {
      const st = statfsSync(this.dir);
      free = st.bavail * st.bsize;
    } catch {
      /* a mount that cannot say */
    }
    return {
      copies: facts.intact.map((i) => copyOf(i.entry.sidecar)).sort(byTime),
      broken: facts.broken.map((b) => ({ name: b.entry.name, originUuid: b.entry.sidecar.origin.uuid, createdAt: b.entry.sidecar.snapshot.createdAt, why: b.why })),
      chainIndex: Object.fromEntries(facts.intact.map((i) => [i.entry.name, i.index])),
      cleaned: leftovers,
      freeBytes: free,
    };
  }

  /** Removes a copy: its sidecar first (the mark of a complete copy), then its stream. */
  private async removeName(name: string): Promise<void> {
    for (const f of [`${name}.json`, streamFile(name)]) {
      try {
        unlinkSync(this.at(f));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
    }
    await fsyncDir(this.dir);
  }

  async receive(job: SendJob, stream: Readable): Promise<Received> {
    this.ensureDir(true);
    // A broken copy of the same name (its stream lost) is replaced: it could not be restored anyway.
    await this.removeName(job.name);
    const partial = this.at(`${streamFile(job.name)}${PARTIAL}`);
    const gate = new StreamGate({ name: job.name, uuid: job.originUuid, parent: job.parentOriginUuid });
    const raw = new Meter();
    const packed = new Meter({ hash: true, rateBytesPerS: this.opts.rateBytesPerS });
    const zstd = await this.runner.spawn(['zstd', '-3', '-T0', '-q', '-c'], { stdin: 'pipe' });
    const file = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
    const results = await Promise.allSettled([pipeline(stream, gate, raw, zstd.stdin!), pipeline(zstd.stdout!, packed, file)]);
    const z = await zstd.done;
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    try {
      if (failed?.reason instanceof StreamRefused) throw new RefusedError(`refused the stream of ${job.name}: ${failed.reason.message}`);
      if (failed) throw new CryptError(`writing ${job.name} to ${this.shown} failed: ${(failed.reason as Error).message}`);
      if (!gate.complete) throw new CryptError(`the stream of ${job.name} ended before its end (btrfs send stopped); nothing was kept`);
      if (z.exitCode !== 0) throw new CryptError(`zstd failed (${z.exitCode === -1 ? 'killed' : `exit ${z.exitCode}`}): ${z.stderr.trim() || 'no message'}`);
      const fd = openSync(partial, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      zstd.kill('SIGKILL');
      try {
        unlinkSync(partial);
      } catch {
        /* not made */
      }
      throw e;
    }
    renameSync(partial, this.at(streamFile(job.name)));
    const sidecar: Sidecar = {
      ...job.header,
      stream: { file: streamFile(job.name), bytes: packed.bytes, sha256: packed.sha256!, rawBytes: raw.bytes, compression: 'zstd' },
      ...(job.chain ? { chain: job.chain } : {}),
    };
    await writeJsonAtomic(this.at(`${job.name}.json`), sidecar, { mode: 0o600 });
    return { name: job.name, originUuid: job.originUuid, bytes: packed.bytes };
  }

  async remove(copy: Copy): Promise<void> {
    await this.removeName(copy.name);
  }

  /** A broken copy (by name): what retention removes once a newer full is intact. */
  async removeBroken(name: string): Promise<void> {
    await this.removeName(name);
  }

  async open(copy: Copy): Promise<OpenedCopy> {
    const s = copy.sidecar.stream;
    if (!s) throw new CryptError(`${copy.name} on ${this.shown} has no stream`);
    const zstd = await this.runner.spawn(['zstd', '-d', '-q', '-c'], { stdin: 'pipe' });
    const fed = pipeline(createReadStream(this.at(s.file)), zstd.stdin!);
    const done = Promise.all([fed, zstd.done]).then(([, r]) => {
      if (r.exitCode !== 0) throw new CryptError(`zstd could not read ${s.file}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
    });
    done.catch(() => zstd.stdout?.destroy()); // and the caller, awaiting done, hears why
    return { header: headerOf(copy.sidecar), stream: zstd.stdout!, done, abort: () => zstd.kill('SIGKILL') };
  }

  async close(): Promise<void> {}
}
