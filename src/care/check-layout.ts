// layout.* and snapshots.*: active/ is a subvolume, snapshots/ and the state directory exist, and no
// leftovers of interrupted operations (staging subvolumes, snapshots without metadata, metadata without
// snapshot) remain. Leftovers are only judged while the journal is clean: otherwise they belong to the
// operation that recovery will finish or undo.
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { isSubvolume, subvolumeShow } from '../base/btrfs/index.js';
import { STAGING_PREFIX } from '../base/crypt/paths.js';
import { layoutOwner } from '../install/plan/common.js';
import { NOCOW_STAGING_PREFIX } from './nocow-paths.js';
import type { RepairStep } from '../model/steps.js';
import { metaPath, readMeta, readSnapshotDir, snapshotPath, UnusableMetaError } from '../runtime/snapshots/meta.js';
import { isSnapshotName } from '../runtime/snapshots/names.js';
import { describeForeign, type ForeignEntry } from '../runtime/snapshots/foreign.js';
import type { DoctorEnv } from './doctor-env.js';
import { fixable, manual, ok, type Check } from './findings.js';

const ROOT = { uid: 0, gid: 0 };


export async function checkActive(env: DoctorEnv): Promise<Check> {
  const id = 'layout.active';
  const st = await lstat(env.paths.active).catch(() => null);
  if (!st) return manual(id, `${env.paths.active} is missing`, 'restore it from a snapshot with `lychd-crypt rollback NAME`, or run init again to create an empty one');
  if (!(await isSubvolume(env.paths.active))) {
    return manual(id, `${env.paths.active} is a plain directory, not a Btrfs subvolume: it cannot be snapshotted`, `move it aside (mv active active.old), run init again to create the subvolume, then copy the data back (cp -a --reflink=always active.old/. active/)`);
  }
  return ok(id, 'active/ is a subvolume');
}

export async function checkSnapshotsDir(env: DoctorEnv): Promise<Check> {
  const id = 'layout.snapshots';
  const st = await lstat(env.paths.snapshots).catch(() => null);
  if (!st) {
    const moved = await findMovedSnapshots(env);
    if (moved) {
      return fixable(
        id,
        `${env.paths.snapshots} is missing, and ${moved.dir} beside active/ holds ${moved.count} snapshot(s): moved by hand?`,
        `move ${path.basename(moved.dir)}/ back to snapshots/ (asks first; or move it yourself: mv ${moved.dir} ${env.paths.snapshots})`,
        [{ kind: 'move-snapshots-back', from: moved.dir, to: env.paths.snapshots, count: moved.count }],
      );
    }
    return fixable(id, `${env.paths.snapshots} is missing`, 'create snapshots/', [{ kind: 'create-dir', path: env.paths.snapshots, mode: 0o755, owner: layoutOwner(env.config!) }]);
  }
  if (!st.isDirectory()) return manual(id, `${env.paths.snapshots} is not a directory`, 'move it away; repair then creates snapshots/');
  return ok(id, 'snapshots/ exists');
}

/**
 * A directory beside active/ that holds snapshots (subvolumes with their `<name>.json`): where snapshots/
 * went when it was renamed by hand. The one holding the most wins; null when there is none.
 */
async function findMovedSnapshots(env: DoctorEnv): Promise<{ dir: string; count: number } | null> {
  let best: { dir: string; count: number } | null = null;
  for (const e of await readdir(env.paths.root, { withFileTypes: true }).catch(() => [])) {
    if (!e.isDirectory() || e.name.startsWith('.') || e.name === 'active') continue;
    const dir = path.join(env.paths.root, e.name);
    const names = await readdir(dir).catch(() => [] as string[]);
    let count = 0;
    for (const n of names) {
      if (n.endsWith('.json') || !names.includes(`${n}.json`) || !isSnapshotName(n)) continue;
      if (await isSubvolume(path.join(dir, n)).catch(() => false)) count++;
    }
    if (count && (!best || count > best.count)) best = { dir, count };
  }
  return best;
}

/** The state directory (journal, lock, pg_ctl's log): root's 0711 for a system crypt, the owner's 0700 for a rootless one. */
export async function checkStateDir(env: DoctorEnv): Promise<Check> {
  const id = 'layout.state';
  const config = env.config!;
  const want = config.profile === 'rootless' ? { uid: config.crypt.uid, gid: config.crypt.gid, mode: 0o700 } : { ...ROOT, mode: 0o711 };
  const st = await lstat(env.paths.state).catch(() => null);
  const step = { kind: 'set-owner' as const, path: env.paths.state, owner: { uid: want.uid, gid: want.gid }, mode: want.mode, recursive: false };
  if (!st) return fixable(id, `the state directory ${env.paths.state} is missing`, 'create it', [{ kind: 'create-dir', path: env.paths.state, mode: want.mode, owner: { uid: want.uid, gid: want.gid } }]);
  if (!st.isDirectory()) return manual(id, `${env.paths.state} is not a directory`, 'move it away; repair then creates the state directory');
  if (st.uid !== want.uid || (st.mode & 0o7777) !== want.mode) {
    return fixable(id, `${env.paths.state} is ${st.uid}:${st.gid} mode 0${(st.mode & 0o7777).toString(8)}, expected ${want.uid}:${want.gid} 0${want.mode.toString(8)}`, 'fix its owner and mode', [step]);
  }
  return ok(id, `state directory ${env.paths.state} is ${want.uid === 0 ? 'root' : config.crypt.user}'s, 0${want.mode.toString(8)}`);
}

/** `.staging-*` beside active/ (rollback) and `.lychd-nocow-*` inside it (repair), with no operation pending. */
export async function checkStaging(env: DoctorEnv): Promise<Check> {
  const id = 'layout.staging';
  const steps: RepairStep[] = [];
  const stray: string[] = [];
  for (const name of (await readdir(env.paths.root)).filter((n) => n.startsWith(STAGING_PREFIX))) {
    const p = path.join(env.paths.root, name);
    stray.push(name);
    steps.push((await isSubvolume(p)) ? { kind: 'delete-subvolume', path: p, why: `stray staging subvolume ${name}` } : { kind: 'remove-tree', path: p, why: `stray staging directory ${name}` });
  }
  for (const name of (await readdir(env.paths.active).catch(() => [] as string[])).filter((n) => n.startsWith(NOCOW_STAGING_PREFIX))) {
    stray.push(`active/${name}`);
    steps.push({ kind: 'remove-tree', path: path.join(env.paths.active, name), why: `leftover of an interrupted nocow rewrite active/${name}` });
  }
  if (!stray.length) return ok(id, 'no stray staging subvolumes');
  return fixable(id, `stray staging left by an interrupted operation: ${stray.join(', ')}`, 'delete them (no operation is pending, nothing refers to them)', steps);
}

/** snapshots.metadata-invalid: metadata no command uses (list leaves those snapshots out): set aside, rebuilt. */
async function checkUnusableMeta(env: DoctorEnv, names: string[]): Promise<Check> {
  const id = 'snapshots.metadata-invalid';
  if (!names.length) return ok(id, 'every snapshot\'s metadata is valid');
  const found: string[] = [];
  const steps: RepairStep[] = [];
  for (const name of names) {
    const why = await readMeta(env.paths, name).then(() => 'cannot be read', (e: unknown) => (e instanceof UnusableMetaError ? e.why : (e as Error).message));
    found.push(`${name}.json ${why}`);
    steps.push({ kind: 'set-aside', path: metaPath(env.paths, name), why: `the unusable metadata ${name}.json` });
    const p = snapshotPath(env.paths, name);
    if (await subvolumeShow(env.runner, p).then((i) => i.readonly, () => false)) steps.push({ kind: 'rebuild-metadata', path: p, name });
  }
  return fixable(id, `${names.length} snapshot(s) have metadata no command can use (list leaves them out): ${found.join('; ')}`, 'set each file aside (repair asks first; it is kept as <file>.invalid-<time>) and rebuild the metadata from the snapshot', steps);
}

export async function checkSnapshots(env: DoctorEnv): Promise<Check[]> {
  // A missing snapshots/ is layout.snapshots' finding; there is nothing in it to judge.
  if (!(await lstat(env.paths.snapshots).then((s) => s.isDirectory(), () => false))) return [ok('snapshots.incomplete', 'snapshots/ is missing (see layout.snapshots)')];
  const dir = await readSnapshotDir(env.paths);
  const checks: Check[] = [];
  const incompleteSteps: RepairStep[] = [];
  const lost: RepairStep[] = [];
  for (const name of dir.incomplete) {
    const p = snapshotPath(env.paths, name);
    if (!(await isSubvolume(p))) continue;
    // The Ritual only ever makes read-only snapshots, and with a clean journal none is half made: a
    // read-only one without metadata lost its file (deleted by hand, a restore of snapshots/ without the
    // .json files). It is complete, so its metadata is rebuilt rather than the snapshot deleted.
    const ro = isSnapshotName(name) && (await subvolumeShow(env.runner, p).then((i) => i.readonly, () => false));
    if (ro) lost.push({ kind: 'rebuild-metadata', path: p, name });
    else incompleteSteps.push({ kind: 'delete-subvolume', path: p, why: `incomplete snapshot ${name} (writable, no metadata)` });
  }
  if (lost.length) {
    checks.push(
      fixable(
        'snapshots.metadata-lost',
        `${lost.length} complete read-only snapshot(s) lost their metadata file: ${lost.map((s) => (s as { name: string }).name).join(', ')}`,
        'rebuild the metadata from the subvolume and the snapshot cluster\'s control data (pg_controldata)',
        lost,
      ),
    );
  } else checks.push(ok('snapshots.metadata-lost', 'every read-only snapshot has its metadata'));
  const isSub = (n: string) => [...incompleteSteps, ...lost].some((s) => 'path' in s && s.path === snapshotPath(env.paths, n));
  const plainDirs = dir.incomplete.filter((n) => !isSub(n));
  if (plainDirs.length) {
    checks.push(manual('snapshots.foreign', `snapshots/ holds directories that are not subvolumes: ${plainDirs.join(', ')}`, 'move them out of snapshots/ (they are not snapshots and repair does not delete them)'));
  }
  checks.push(
    incompleteSteps.length
      ? fixable('snapshots.incomplete', `${incompleteSteps.length} writable snapshot subvolume(s) without metadata (not a finished snapshot): ${incompleteSteps.map((s) => path.basename((s as { path: string }).path)).join(', ')}`, 'delete the incomplete snapshot subvolumes', incompleteSteps)
      : ok('snapshots.incomplete', `${dir.complete.length} snapshot(s), none without metadata`),
  );
  checks.push(checkForeign(dir.foreign));
  checks.push(await checkUnusableMeta(env, dir.unreadableMeta ?? []));
  checks.push(
    dir.orphanMeta.length
      ? fixable('snapshots.orphan-meta', `metadata without a snapshot: ${dir.orphanMeta.map((n) => `${n}.json`).join(', ')}`, 'delete the orphan metadata files', dir.orphanMeta.map((n) => ({ kind: 'remove-file' as const, path: metaPath(env.paths, n), why: `orphan metadata ${n}.json` })))
      : ok('snapshots.orphan-meta', 'no metadata without a snapshot'),
  );
  return checks;
}

const SHOWN_FOREIGN = 10;

/**
 * snapshots.names: entries of snapshots/ that are no snapshot of ours (src/runtime/snapshots/foreign.ts), named
 * escaped. Manual on purpose: whoever owns the crypt can write snapshots/, and such an entry may be their
 * file (or bait); root's repair never deletes by a name it did not make.
 */
function checkForeign(foreign: ForeignEntry[]): Check {
  const id = 'snapshots.names';
  if (!foreign.length) return ok(id, 'every entry of snapshots/ is a snapshot or its metadata');
  const shown = foreign.map(describeForeign).sort().slice(0, SHOWN_FOREIGN).join(', ');
  const more = foreign.length > SHOWN_FOREIGN ? `, … (${foreign.length - SHOWN_FOREIGN} more)` : '';
  return manual(
    id,
    `snapshots/ holds ${foreign.length} entr${foreign.length === 1 ? 'y' : 'ies'} that lychd-crypt did not make (every command ignores them): ${shown}${more}`,
    'move them out of snapshots/ by hand (`ls -b` shows their names escaped; a subvolume needs `btrfs subvolume delete`); repair leaves them alone, as they may be someone\'s files',
  );
}
