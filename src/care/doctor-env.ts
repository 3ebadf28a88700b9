// What every check reads: the crypt path, its configuration (readable only while mounted), the mount
// record (readable only while unmounted) and the mount description derived from either.
import path from 'node:path';
import type { Config, Method } from '../model/config.js';
import type { Runner } from '../base/runner.js';
import type { CryptPaths } from '../base/crypt/paths.js';
import type { MountFacts } from '../install/detect/facts.js';
import { mountSpecFor, unitNameForPath, type MountRecord, type MountSpec } from '../install/render/index.js';
import type { FsIdentity } from '../base/btrfs/fs-identity.js';

/** How the crypt is mounted and persisted, from the config or, while unmounted, from the mount record. */
export interface MountView {
  method: Exclude<Method, 'native'>;
  spec: MountSpec;
  image: string | null;
  device: string | null;
  persist: {
    via: 'systemd' | 'fstab' | 'none';
    /** The fstab file; null when only the record is known and it names a unit. */
    fstab: string | null;
    /** The unit file path; null when only the record is known and it names fstab. */
    unitPath: string | null;
    unit: string;
  };
  /** Where this description came from. */
  source: 'config' | 'record';
}

export interface DoctorEnv {
  root: string;
  paths: CryptPaths;
  runner: Runner;
  /** null: not readable (crypt unmounted, or no crypt here). */
  config: Config | null;
  /** Why config.json exists but could not be read (not JSON, unreadable), else null. */
  configError: string | null;
  /** Read only when config is not readable. */
  record: MountRecord | null;
  /** null for native, or when neither config nor record is known. */
  view: MountView | null;
  /** What is mounted exactly at root (topmost), or null. */
  mounted: MountFacts | null;
  /** The version the runtime command must report. */
  version: string;
  /** systemd runs as PID 1 (/run/systemd/system): units must also be enabled. */
  systemd: boolean;
  /** What is mounted at root against the registered filesystem UUID (Method A/B, while mounted); else null. */
  identity?: FsIdentity | null;
}

/** The filesystem at the crypt path is not the crypt's (another one, or a copy from elsewhere): nothing on it is checked. */
export function notTheCryptFs(env: DoctorEnv): boolean {
  const id = env.identity;
  return !!id && (id.kind === 'other' || (id.kind === 'temp-fsid' && !id.registeredSource));
}

export function viewFromConfig(config: Config): MountView | null {
  const spec = mountSpecFor(config);
  if (!spec || config.method === 'native') return null;
  const unit = unitNameForPath(spec.where);
  return {
    method: config.method,
    spec,
    image: config.loopback?.image ?? null,
    device: config.partition?.device ?? null,
    persist: { via: config.persist.via, fstab: config.persist.fstab, unitPath: path.join(config.persist.unitDir, unit), unit },
    source: 'config',
  };
}

/** The crypt's filesystem is there to look at: mounted as configured, or native. */
export function fsReady(env: DoctorEnv): boolean {
  return env.config !== null && (env.config.method === 'native' || (env.mounted !== null && !notTheCryptFs(env)));
}
