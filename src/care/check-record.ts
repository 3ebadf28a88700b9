// mount.record: the record underneath the mount point says how to mount the crypt again. It is hidden
// while the crypt is mounted, so it is read through a temporary bind mount of the parent filesystem
// (withUnderlying): nothing is written.
import { readTextSafely } from '../base/sys/read-file.js';
import path from 'node:path';
import { withUnderlying } from '../install/steps/underlying.js';
import { cryptLayout, MOUNT_RECORD } from '../base/crypt/paths.js';
import { mountRecordFor, renderMountRecord } from '../install/render/index.js';
import type { DoctorEnv } from './doctor-env.js';
import { cannotCheck, fixable, ok, type Check } from './findings.js';

const ID = 'mount.record';

export async function checkMountRecord(env: DoctorEnv): Promise<Check> {
  // Looking underneath the mount needs a bind mount (root); the record is informative only anyway.
  if (process.getuid?.() !== 0) return ok(ID, 'not looked at as a user (the mount record is informative only; root mounts from the registry)');
  if (!env.config) return env.record ? ok(ID, `mount record ${env.paths.mountRecord} present`) : cannotCheck(ID, 'no configuration to compare the mount record with');
  const record = mountRecordFor(env.config);
  if (!record) return ok(ID, 'native: no mount record needed');
  const want = renderMountRecord(record);
  let have: string | null;
  try {
    // The directory under the mount point may be a user's: the record is read only as a small regular file
    // (a link or a FIFO planted there reads as a record that does not match, and is rewritten).
    have = await withUnderlying(env.runner, env.root, async (dir) => (await readTextSafely(path.join(dir, MOUNT_RECORD), { maxBytes: 64 * 1024 }).catch(() => '')) ?? null);
  } catch (e) {
    return cannotCheck(ID, `cannot look underneath the mount point: ${(e as Error).message}`);
  }
  // Underneath the mount: by the crypt's path (the repair step reaches it through a bind mount of the host fs).
  const step = { kind: 'write-mount-record' as const, path: cryptLayout(env.root).mountRecord, content: want };
  if (have === null) return fixable(ID, `no mount record underneath ${env.root}: after an unmount, repair could not mount it again`, 'write the mount record from the configuration', [step]);
  if (have !== want) return fixable(ID, `the mount record underneath ${env.root} does not match the configuration`, 'rewrite the mount record from the configuration', [step]);
  return ok(ID, 'mount record matches the configuration');
}
