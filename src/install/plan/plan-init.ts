// planInit: host facts + resolved config → the ordered steps of an install. Pure: no I/O, so the same
// function feeds --dry-run, --json, the interactive preview and the unit tests.
import path from 'node:path';
import type { Config } from '../../model/config.js';
import { UsageError } from '../../base/errors.js';
import type { HostFacts } from '../detect/facts.js';
import { PACKAGED_RUNTIME } from '../../base/bundle/packaged.js';
import { mountSpecFor } from '../render/index.js';
import { checkDataFits, checkForeignPersistence, checkRegistryParents, checkWalPlacement } from './checks.js';
import { cryptFsFor, stateSteps, walSteps } from './common.js';
import { planMounted } from './plan-mounted.js';
import { planNative } from './plan-native.js';
import type { Plan } from '../../model/steps.js';
import { scheduleSteps } from './schedule.js';
import { replicateKeySteps } from './replicate-keys.js';

/** What must hold before anything can be planned: root, Btrfs in the kernel, the tools, the runtime bundle. */
function checkPrerequisites(facts: HostFacts, config: Config): string {
  if (config.method !== 'native' && !facts.btrfsInKernel) {
    throw new UsageError('the kernel has no Btrfs support', { hint: 'Load it with `modprobe btrfs`.' });
  }
  const tools: (keyof HostFacts['tools'])[] = ['btrfs', 'chattr', ...(config.method === 'native' ? [] : (['mkfs.btrfs', 'wipefs'] as const))];
  for (const tool of tools) {
    if (!facts.tools[tool]) throw new UsageError(`${tool} is missing`, { hint: 'Install btrfs-progs and e2fsprogs (apt-get install btrfs-progs e2fsprogs).' });
  }
  if (!facts.runtimeSource) throw new UsageError('the runtime dist/lychd-crypt/ is not built', { hint: 'Run `npm run build` first.' });
  return facts.runtimeSource;
}

export function requireRoot(facts: HostFacts): void {
  if (!facts.isRoot) throw new UsageError('init must run as root to apply the plan (it formats, mounts and writes system files); nothing was changed', { hint: 'Run it with sudo, or preview it with --dry-run.' });
}

export function planInit(facts: HostFacts, config: Config): Plan {
  const runtime = checkPrerequisites(facts, config);
  checkForeignPersistence(facts);
  checkRegistryParents(facts, config);
  checkWalPlacement(facts, config);
  checkDataFits(facts, config);
  // A plan can be previewed without root (--dry-run); applying it needs root (see requireRoot).
  const notes: string[] = facts.isRoot ? [] : ['applying this plan needs root (it formats, mounts and writes system files)'];
  const spec = mountSpecFor(config);
  const steps = spec ? planMounted(facts, config, spec, notes) : planNative(facts, config, notes);
  steps.push(...stateSteps(config, cryptFsFor(facts, config)), ...walSteps(facts, config), {
    kind: 'install-runtime',
    source: runtime,
    target: path.join(config.install.binDir, 'lychd-crypt'),
    mode: 0o755,
    ...(runtime === PACKAGED_RUNTIME ? { link: true } : {}),
  });
  steps.push(...replicateKeySteps(config, notes)); // after the registry directory is there
  steps.push(...scheduleSteps(facts, config, notes)); // after the runtime: the units run it
  return { version: 1, config, registered: facts.existingConfig, ...(facts.released ? { released: true } : {}), steps, notes };
}
