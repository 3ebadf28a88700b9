// Gathers what the checks need, without changing anything and without the lock.
import { lstat } from 'node:fs/promises';
import type { Config } from '../config/config.js';
import { exists, readJsonIfExists } from '../core/fs.js';
import type { Runner } from '../core/runner.js';
import { cryptPaths } from '../crypt/paths.js';
import { mountAt } from '../detect/findmnt.js';
import type { MountRecord } from '../render/index.js';
import { VERSION } from '../version.js';
import { viewFromConfig, viewFromRecord, type DoctorEnv } from './context.js';

async function readJsonQuietly<T>(file: string): Promise<T | null> {
  try {
    return (await readJsonIfExists<T>(file)) ?? null;
  } catch {
    return null; // unreadable or not JSON: the checks report what is missing
  }
}

export async function loadDoctorEnv(runner: Runner, root: string): Promise<DoctorEnv> {
  const paths = cryptPaths(root);
  const isDir = (await lstat(root).catch(() => null))?.isDirectory() ?? false;
  const mounted = isDir ? await mountAt(runner, root) : null;
  const config = isDir ? await readJsonQuietly<Config>(paths.config) : null;
  // While the crypt is mounted the record is hidden underneath it (the mount.record check looks there).
  const record = !config && isDir ? await readJsonQuietly<MountRecord>(paths.mountRecord) : null;
  const view = config ? viewFromConfig(config) : record?.version === 1 ? viewFromRecord(record) : null;
  return { root, paths, runner, config, record, view, mounted, version: VERSION, systemd: await exists('/run/systemd/system') };
}
