// The table of target kinds: one module each behind ReplicaTarget (../target.ts).
import type { Runner } from '../../../base/runner.js';
import { targetKeyFiles, type TargetConfig } from '../../../model/replicate.js';
import type { ReplicaTarget } from '../stream/target.js';
import { FileTarget } from './file.js';
import { PathTarget } from './path.js';
import { SshTarget } from './ssh.js';

export interface TargetContext {
  runner: Runner;
  /** Where the default key files of an ssh target are (model/replicate.ts targetKeyFiles). */
  registryDir: string;
  cryptName: string;
  /** The crypt's filesystem (a path target on it is refused). */
  cryptFsUuid: string | null;
  /** A link that stops answering for this long ends an ssh transfer. */
  aliveSeconds: number;
  /** A local path target's lock wait and idle limit. */
  waitSeconds: number;
  idleTimeoutMs: number;
}

/** The key files an ssh target uses: the configured ones, else the registry's defaults. */
export function sshFiles(target: TargetConfig, registryDir: string, cryptName: string): { identity: string; knownHosts: string } {
  const d = targetKeyFiles(registryDir, cryptName, target.name);
  return { identity: target.identity ?? d.identity, knownHosts: target.knownHosts ?? d.knownHosts };
}

export function openTarget(target: TargetConfig, ctx: TargetContext): ReplicaTarget {
  const u = target.url;
  switch (u.kind) {
    case 'ssh':
      return new SshTarget(u, sshFiles(target, ctx.registryDir, ctx.cryptName), ctx.runner, { aliveSeconds: ctx.aliveSeconds, rateBytesPerS: target.rateLimit });
    case 'path':
      return new PathTarget(u.path, ctx.runner, { cryptFsUuid: ctx.cryptFsUuid, waitSeconds: ctx.waitSeconds, idleTimeoutMs: ctx.idleTimeoutMs, rateBytesPerS: target.rateLimit });
    case 'file':
      return new FileTarget(u.path, ctx.runner, { rateBytesPerS: target.rateLimit });
  }
}
