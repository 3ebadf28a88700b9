// Small host probes used by detectHost: PATH lookup, nearest existing directory, free space, the image
// file, the postgres account and the runtime bundle.
import { access, stat, statfs, readFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import sea from 'node:sea';
import { fileURLToPath } from 'node:url';
import { exists } from '../../base/sys/fs.js';
import { NODE_ENTRY, PACKAGED_RUNTIME } from '../../base/bundle/packaged.js';
import type { Runner } from '../../base/runner.js';
import type { ImageFacts, UserFacts } from './facts.js';
import { probeSignatures } from './signatures.js';
import { lookupUser } from '../../base/user.js';

export async function onPath(name: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const dirs = [...(env.PATH ?? '').split(':'), '/usr/local/sbin', '/usr/sbin', '/sbin'].filter(Boolean);
  for (const dir of dirs) {
    try {
      await access(path.join(dir, name), constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

export async function nearestExisting(p: string): Promise<string> {
  for (let dir = p; ; dir = path.dirname(dir)) {
    try {
      if ((await stat(dir)).isDirectory()) return dir;
    } catch {
      /* walk up */
    }
    if (dir === '/') return '/';
  }
}

export async function freeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

export async function btrfsInKernel(): Promise<boolean> {
  if (await exists('/sys/module/btrfs')) return true;
  const fss = await readFile('/proc/filesystems', 'utf8').catch(() => '');
  return /\tbtrfs$/m.test(fss);
}

/**
 * The runtime to install (its entry; the directory around it is what is installed): the packaged one when the
 * package is installed (init links to it, so a package upgrade upgrades the crypt's command too), else the
 * one this process runs (ownRuntime).
 */
export async function findRuntime(explicit?: string): Promise<string | null> {
  for (const c of [explicit, PACKAGED_RUNTIME, ownRuntime()]) if (c && (await exists(c))) return c;
  return null;
}

/**
 * The runtime this process runs: the single executable itself, or the entry beside main.js (this module is
 * part of it when bundled); from source, the checkout's dist/ beside src/ (found from src/ itself, so that
 * where this file sits inside src/ does not matter).
 */
export function ownRuntime(): string {
  if (sea.isSea()) return process.execPath;
  const self = fileURLToPath(import.meta.url);
  return self.endsWith('.ts') ? path.join(self.slice(0, self.lastIndexOf(`${path.sep}src${path.sep}`)), 'dist/lychd-crypt', NODE_ENTRY) : path.join(path.dirname(self), NODE_ENTRY);
}

export async function detectImage(runner: Runner, image: string): Promise<ImageFacts> {
  let st;
  try {
    st = await stat(image);
  } catch {
    return { path: image, exists: false, sizeBytes: 0, allocatedBytes: 0, signatures: [], loopDevices: [] };
  }
  const loops = await runner.run(['losetup', '--associated', image, '--noheadings', '--output', 'NAME'], { allowFailure: true });
  return {
    path: image,
    exists: true,
    sizeBytes: st.size,
    allocatedBytes: st.blocks * 512,
    signatures: st.isFile() && st.size > 0 ? await probeSignatures(runner, image) : [],
    loopDevices: loops.stdout.split('\n').map((l) => l.trim()).filter(Boolean),
  };
}

export async function detectPostgresUser(runner: Runner, ref: string | number): Promise<UserFacts | null> {
  try {
    return await lookupUser(runner, ref);
  } catch {
    // A rootless container maps postgres to a sub-UID that has no passwd entry: take the number as is.
    return typeof ref === 'number' || /^\d+$/.test(String(ref)) ? { name: String(ref), uid: Number(ref), gid: Number(ref), home: '/' } : null;
  }
}

/** Bytes allocated under a directory (du -s): what a migration must copy. */
export async function diskUsage(runner: Runner, dir: string): Promise<number> {
  const r = await runner.run(['du', '-s', '-B1', '-x', '--', dir], { allowFailure: true });
  return Number(r.stdout.split('\t')[0]) || 0;
}

/** Free space where a file would be created (its nearest existing directory), for a question asked now. */
export async function freeSpaceFor(file: string): Promise<{ path: string; freeBytes: number }> {
  const dir = await nearestExisting(path.dirname(file));
  return { path: dir, freeBytes: await freeBytes(dir) };
}
