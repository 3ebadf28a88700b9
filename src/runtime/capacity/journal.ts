// The capacity journal: the resize in progress, written (fsynced) before its first step and cleared after
// its last, so the next command that can (a root-run resize, repair, or any root-run mutating command on
// a system crypt) finishes it. It is root's, in root's state directory of the crypt
// (<registry.state>/<name>/capacity.json), also for a rootless crypt: what it names root acts on (the
// image, the loop device), so a file the owner could write is never read.
import path from 'node:path';
import { unlink } from 'node:fs/promises';
import { RefusedError } from '../../base/errors.js';
import { fsyncDir, writeJsonAtomic } from '../../base/sys/fs.js';
import { readTextSafely, UnsafeFileError } from '../../base/sys/read-file.js';
import type { Config } from '../../model/config.js';

export interface MigrateEntry {
  op: 'migrate';
  id: string;
  startedAt: string;
  /** The image and its loop device the crypt leaves, and the device (canonical path) it moves to. */
  image: string;
  loopDevice: string;
  device: string;
  /** The device's signatures were consented to be wiped (btrfs replace -f). */
  wipe: boolean;
}

export type CapacityJournal = CapacityEntry | MigrateEntry;

export interface CapacityEntry {
  op: 'resize';
  id: string;
  startedAt: string;
  /** The size the crypt is being brought to (bytes): finishing means making every step reach it. */
  toBytes: number;
  fromBytes: number;
  direction: 'grow' | 'shrink';
  /** Grow with fallocate (a preallocated image). */
  preallocate: boolean;
}

/**
 * The lock root takes for a resize or migrate: the crypt's own on a system crypt (root's state directory:
 * it also keeps snapshots and rollbacks out meanwhile); on a rootless crypt one beside root's capacity
 * journal — the crypt's lock is in its owner's directory, where root creates nor opens nothing (a file
 * root made there would be root's, and the owner's next command could not take it).
 */
export function capacityLockPath(config: Pick<Config, 'registry' | 'crypt' | 'profile'>, cryptLock: string): string {
  return config.profile === 'system' ? cryptLock : path.join(config.registry.state, config.crypt.name, 'capacity.lock');
}

export function capacityJournalPath(config: Pick<Config, 'registry' | 'crypt'>): string {
  return path.join(config.registry.state, config.crypt.name, 'capacity.json');
}

function invalid(file: string, why: string): RefusedError {
  return new RefusedError(`the capacity journal ${file} ${why}: what the interrupted resize was cannot be told; nothing was changed`, {
    hint: `Look at it, remove it, and run \`lychd-crypt resize --size SIZE\` again with the size you wanted.`,
  });
}

export async function readCapacityJournal(config: Pick<Config, 'registry' | 'crypt'>): Promise<CapacityJournal | undefined> {
  const file = capacityJournalPath(config);
  let text: string | undefined;
  try {
    text = await readTextSafely(file, { maxBytes: 64 * 1024, owners: [0] });
  } catch (e) {
    if (e instanceof UnsafeFileError) throw invalid(file, e.why);
    throw e;
  }
  if (text === undefined) return undefined;
  let e: Partial<CapacityEntry>;
  try {
    e = JSON.parse(text) as Partial<CapacityEntry>;
  } catch {
    throw invalid(file, 'is not JSON');
  }
  const m = e as unknown as Partial<MigrateEntry>;
  const abs = (p: unknown) => typeof p === 'string' && p.startsWith('/') && !p.includes('\0');
  if (m.op === 'migrate') {
    if (typeof m.id !== 'string' || typeof m.startedAt !== 'string' || !abs(m.image) || !abs(m.loopDevice) || !abs(m.device) || typeof m.wipe !== 'boolean') {
      throw invalid(file, 'is not an entry this version knows');
    }
    return m as MigrateEntry;
  }
  const size = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
  if (e.op !== 'resize' || typeof e.id !== 'string' || typeof e.startedAt !== 'string' || !size(e.toBytes) || !size(e.fromBytes) || (e.direction !== 'grow' && e.direction !== 'shrink') || typeof e.preallocate !== 'boolean') {
    throw invalid(file, 'is not an entry this version knows');
  }
  return e as CapacityEntry;
}

export async function writeCapacityJournal(config: Pick<Config, 'registry' | 'crypt'>, entry: CapacityJournal): Promise<void> {
  await writeJsonAtomic(capacityJournalPath(config), entry, { mode: 0o600 });
}

export async function clearCapacityJournal(config: Pick<Config, 'registry' | 'crypt'>): Promise<void> {
  const file = capacityJournalPath(config);
  try {
    await unlink(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    return;
  }
  await fsyncDir(path.dirname(file));
}
