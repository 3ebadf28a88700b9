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

/** null when absent; { error } when present but unreadable or not JSON (the checks report it). */
async function readJsonQuietly<T>(file: string): Promise<T | null | { error: string }> {
  try {
    return (await readJsonIfExists<T>(file)) ?? null;
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0]! };
  }
}

const usable = <T>(v: T | null | { error: string }): T | null => (v && typeof v === 'object' && 'error' in v ? null : (v as T | null));

export async function loadDoctorEnv(runner: Runner, root: string): Promise<DoctorEnv> {
  const paths = cryptPaths(root);
  const isDir = (await lstat(root).catch(() => null))?.isDirectory() ?? false;
  const mounted = isDir ? await mountAt(runner, root) : null;
  const rawConfig = isDir ? await readJsonQuietly<Config>(paths.config) : null;
  const config = usable(rawConfig);
  const configError = rawConfig && 'error' in rawConfig ? rawConfig.error : null;
  // While the crypt is mounted the record is hidden underneath it (the mount.record check looks there).
  const record = !config && isDir ? usable(await readJsonQuietly<MountRecord>(paths.mountRecord)) : null;
  const view = config ? viewFromConfig(config) : record?.version === 1 ? viewFromRecord(record) : null;
  return { root, paths, runner, config, configError, record, view, mounted, version: VERSION, systemd: await exists('/run/systemd/system') };
}
