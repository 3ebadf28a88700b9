// init's steps for replication's ssh keys (pure): for each ssh:// target without an `identity:` of its own,
// the key in the registry (its directory root's, 0700), and notes saying what to run on the target.
import path from 'node:path';
import type { Config } from '../../model/config.js';
import type { InitStep } from '../../model/steps.js';
import { targetKeyFiles } from '../../model/replicate.js';
import { dirsBelow, ROOT } from './common.js';

export function replicateKeySteps(config: Config, notes: string[]): InitStep[] {
  const ssh = (config.replicate?.targets ?? []).filter((t) => t.url.kind === 'ssh');
  const steps: InitStep[] = [];
  const own = ssh.filter((t) => t.identity === null);
  if (own.length) {
    const dir = path.dirname(targetKeyFiles(config.registry.dir, config.crypt.name, own[0]!.name).identity);
    steps.push(...dirsBelow(config.registry.dir, dir, ROOT, 0o700));
    for (const t of own) steps.push({ kind: 'replicate-key', path: targetKeyFiles(config.registry.dir, config.crypt.name, t.name).identity, comment: `lychd-crypt:${config.crypt.name}:${t.name}` });
  }
  for (const t of ssh) {
    if (t.url.kind !== 'ssh') continue;
    const files = targetKeyFiles(config.registry.dir, config.crypt.name, t.name);
    const key = t.identity ?? files.identity;
    notes.push(
      [
        `replication target ${t.name}: authorize this host's key on ${t.url.host}, then trust its host key:`,
        // Run there, with that host's own command and registry: written so that this host's are not added.
        `  as root on ${t.url.host}:  lychd-crypt init --receiver ${t.url.path} --authorize '<the line of ${key}.pub>' --yes`,
        `  here:  sudo lychd-crypt replicate --target ${t.name} --trust-host${t.knownHosts ? '' : `   (writes ${files.knownHosts})`}`,
      ].join('\n'),
    );
  }
  return steps;
}
