// What the installer detected and what it proposes, in words (for the interactive UI and the logs).
import type { Method } from '../model/config.js';
import { approxSize } from '../model/units.js';
import type { HostFacts } from './detect/facts.js';
import { describeSignatures } from './detect/signatures.js';

export interface Proposal {
  method: Method;
  reason: string;
}

/** The method auto would pick, with the reason a person would want to hear. */
export function proposeMethod(facts: HostFacts): Proposal {
  if (facts.existingConfig) return { method: facts.existingConfig.method, reason: `the crypt at ${facts.cryptPath} already uses it` };
  if (facts.mountRecord) return { method: facts.mountRecord.method, reason: `the crypt at ${facts.cryptPath} was made with it (mount record)` };
  if (facts.hostFs.fstype === 'btrfs') {
    return { method: 'native', reason: `${facts.existingAncestor} is on Btrfs: the crypt can live there directly, no image or partition needed` };
  }
  const free = facts.candidateDevices.filter((d) => d.signatures.length === 0);
  if (free.length) {
    return {
      method: 'partition',
      reason: `${facts.existingAncestor} is on ${facts.hostFs.fstype}, and ${free[0]!.path} (${free[0]!.description}) is an empty partition: a dedicated Btrfs is fastest`,
    };
  }
  return { method: 'loopback', reason: `${facts.existingAncestor} is on ${facts.hostFs.fstype} and no free partition was found: a Btrfs image file needs no repartitioning` };
}

/** Detected facts as short lines. */
export function describeFacts(facts: HostFacts): string[] {
  const lines = [
    `target user: ${facts.user.name} (uid ${facts.user.uid}, home ${facts.user.home})`,
    `crypt path: ${facts.cryptPath}${facts.cryptMount ? ` (mounted: ${facts.cryptMount.source}, ${facts.cryptMount.fstype})` : ''}${facts.cryptHasData ? `, holds ${facts.cryptEntries.length} entries` : ''}`,
    `host filesystem: ${facts.hostFs.fstype} at ${facts.hostFs.target}, ${approxSize(facts.freeBytes)} free`,
    `systemd: ${facts.systemdRunning ? 'running' : 'not running (mounts are made directly)'}`,
    `btrfs: ${facts.btrfsInKernel ? 'in the kernel' : 'NOT in the kernel'}; tools: ${Object.entries(facts.tools)
      .filter(([, ok]) => !ok)
      .map(([t]) => `${t} missing`)
      .join(', ') || 'all present'}`,
  ];
  for (const d of facts.candidateDevices) {
    lines.push(`partition ${d.path}: ${d.description}${d.signatures.length ? `, holds ${describeSignatures(d.signatures)}` : ', empty'}`);
  }
  if (facts.existingConfig) lines.push(`existing crypt: method ${facts.existingConfig.method}`);
  return lines;
}

export { proposeImageSize } from './image-size.js';
