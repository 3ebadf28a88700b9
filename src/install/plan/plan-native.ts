// native: the crypt is a plain directory of the Btrfs host; the layout is built in place.
import path from 'node:path';
import type { Config } from '../../model/config.js';
import { RefusedError } from '../../base/errors.js';
import { cryptLayout, LEGACY_STATE_DIR, MIGRATION_MARKER } from '../../base/crypt/paths.js';
import type { HostFacts } from '../detect/facts.js';
import { activeSteps, backupPath, createDirs, cryptFsFor, cryptUser, userOwned } from './common.js';
import type { InitStep } from '../../model/steps.js';

/** Layout names of a native crypt (not user data to migrate). */
const LAYOUT = new Set(['active', 'snapshots', LEGACY_STATE_DIR]);

/**
 * Existing data: the original is renamed aside first (atomic), a marker in the crypt directory says where
 * it went, then it is copied into the new active/ subvolume (a rename cannot cross into a subvolume);
 * copy-data removes the marker, and a run that finds the marker finishes the copy.
 */
export function planNative(facts: HostFacts, config: Config, notes: string[]): InitStep[] {
  const root = config.crypt.path;
  const active = cryptLayout(root).active;
  if (facts.cryptMount && facts.cryptMount.fstype !== 'btrfs') {
    throw new RefusedError(`${root} is a mount point of ${facts.cryptMount.source} (${facts.cryptMount.fstype})`, { hint: 'Unmount it, or choose another crypt.path.' });
  }
  const steps = createDirs(root, facts.existingAncestor, userOwned(config));
  const marker = path.join(root, MIGRATION_MARKER);
  const fs = cryptFsFor(facts, config);
  const copy = (from: string, entries: string[]): InitStep => ({ kind: 'copy-data', from, entries, to: active, marker, fs, as: cryptUser(config) });
  const pending = facts.pendingMigration;
  // Registered, or made by a version before the registry (its state directory is there).
  const isCrypt = facts.existingConfig !== null || facts.cryptEntries.includes(LEGACY_STATE_DIR);
  if (pending) {
    notes.push(`the copy of the data moved aside to ${pending.from} into ${active} will be finished; the original stays there`);
    return [...steps, ...activeSteps(fs, config), copy(pending.from, pending.entries)];
  }
  if (isCrypt) {
    const extra = facts.cryptEntries.filter((e) => !LAYOUT.has(e));
    if (extra.length) notes.push(`${root} holds entries outside the layout (${extra.join(', ')}); they will be left alone`);
    return [...steps, ...activeSteps(fs, config)];
  }
  if (facts.cryptEntries.length === 0) return [...steps, ...activeSteps(fs, config)];
  const backup = backupPath(root, facts.now);
  notes.push(`existing data in ${root} will be copied into ${active}; the original will be kept in ${backup}`);
  return [
    ...steps,
    { kind: 'move-aside', from: root, to: backup, marker },
    ...activeSteps(fs, config),
    copy(backup, facts.cryptEntries),
  ];
}
