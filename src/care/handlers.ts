// One handler per repair step kind. Mount and persistence reuse init's handlers (same check-before-act
// and the same atomic writes with a .lychd-crypt.bak backup).
import { chmod, copyFile, lchown, lstat, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { createDir, installRuntime } from '../install/apply/handlers-fs.js';
import { ensurePgdata } from '../install/apply/handlers-btrfs.js';
import { enableMountUnit, mount, removeFstabLine, startMountUnit, removeMountUnit, writeFstabLine, writeMountRecord } from '../install/apply/handlers-mount.js';
import { subvolumeDelete } from '../base/btrfs/index.js';
import { CryptError } from '../base/errors.js';
import { exists, fsyncDir, writeFileAtomic } from '../base/sys/fs.js';
import { findRuntime } from '../install/detect/probes.js';
import { PACKAGED_RUNTIME } from '../base/bundle/packaged.js';
import { walkTree } from './walk.js';
import { renderFstabLine } from '../install/render/index.js';
import type { RepairContext } from './repair-context.js';
import { rewriteNocow } from './nocow-rewrite.js';
import { remountCrypt } from './remount.js';
import type { RepairStep } from './steps.js';
import { removeClone, VERIFY_PREFIX } from '../runtime/verify/leftovers.js';
import { readMeta, writeMeta } from '../runtime/snapshots/meta.js';
import { rebuildMeta } from '../runtime/snapshots/rebuild.js';
import { formatTime } from '../base/output/time.js';
import { formatNameTime } from '../runtime/snapshots/names.js';

type S<K extends RepairStep['kind']> = Extract<RepairStep, { kind: K }>;
export type Handler<K extends RepairStep['kind']> = (s: S<K>, rc: RepairContext) => Promise<string>;

const detail = (o: { changed: boolean; detail?: string }) => (o.changed ? (o.detail ?? 'done') : `already so (${o.detail})`);

function needCrypt(rc: RepairContext) {
  if (!rc.crypt) throw new Error('the crypt is not open');
  return rc.crypt;
}

async function backup(file: string): Promise<void> {
  if (await exists(file)) await copyFile(file, `${file}.lychd-crypt.bak`);
}

async function reload(rc: RepairContext): Promise<void> {
  if (rc.systemd) await rc.ctx.runner.run(['systemctl', 'daemon-reload']);
}

export const handlers: { [K in RepairStep['kind']]: Handler<K> } = {
  mount: async (s, rc) =>
    detail(s.unit ? await startMountUnit(s.unit, s.spec, { runner: rc.ctx.runner }) : await mount({ kind: 'mount', spec: s.spec }, { runner: rc.ctx.runner })),
  'unmount-stacked': async (s, rc) => {
    const r = await rc.ctx.runner.run(['findmnt', '-J', '--mountpoint', s.where], { allowFailure: true });
    const n = r.exitCode === 0 ? ((JSON.parse(r.stdout) as { filesystems?: unknown[] }).filesystems?.length ?? 0) : 0;
    if (n < 2) return 'already mounted once';
    await rc.ctx.runner.run(['umount', s.where]);
    return 'done';
  },
  'remount-crypt': async (s, rc) => remountCrypt(s, rc),
  'write-mount-record': async (s, rc) => detail(await writeMountRecord({ kind: 'write-mount-record', path: s.path, content: s.content }, { runner: rc.ctx.runner })),
  'write-fstab-line': async (s, rc) =>
    detail(await writeFstabLine({ kind: 'write-fstab-line', file: s.file, spec: s.spec, line: renderFstabLine(s.spec), reload: rc.systemd }, { runner: rc.ctx.runner })),
  'remove-fstab-line': async (s, rc) => detail(await removeFstabLine({ kind: 'remove-fstab-line', file: s.file, where: s.where, reload: rc.systemd }, { runner: rc.ctx.runner })),
  'write-mount-unit': async (s, rc) => {
    if ((await readFile(s.path, 'utf8').catch(() => null)) === s.content) return 'already so (same content)';
    await backup(s.path);
    await writeFileAtomic(s.path, s.content, { mode: 0o644 });
    await reload(rc);
    return 'done';
  },
  'remove-mount-unit': async (s, rc) => {
    await backup(s.path);
    const out = detail(await removeMountUnit({ kind: 'remove-mount-unit', path: s.path, unit: s.unit, systemd: rc.systemd }, { runner: rc.ctx.runner }));
    await reload(rc);
    return out;
  },
  'enable-mount-unit': async (s, rc) => detail(await enableMountUnit({ kind: 'enable-mount-unit', unit: s.unit, path: s.path }, { runner: rc.ctx.runner })),
  'create-dir': async (s) => detail(await createDir({ kind: 'create-dir', path: s.path, mode: s.mode, owner: s.owner })),
  'create-pgdata': async (s) => detail(await ensurePgdata(s.path, s.owner, s.mode)),
  'set-owner': async (s) => {
    const entries = s.recursive ? await walkTree(s.path) : [{ path: s.path }];
    for (const e of entries) await lchown(e.path, s.owner.uid, s.owner.gid);
    if (s.mode !== null) await chmod(s.path, s.mode);
    return s.recursive ? `${entries.length} entries` : 'done';
  },
  'delete-subvolume': async (s, rc) => {
    if (!(await exists(s.path))) return 'already gone';
    // A killed verify's clone may still have its throwaway server running (pg_ctl daemonized it): stop it
    // first, or it would run on, orphaned, on a deleted subvolume.
    if (path.basename(s.path).startsWith(VERIFY_PREFIX)) {
      return (await removeClone(rc.ctx.runner, s.path, rc.crypt?.config.postgres?.dir ?? null)) ? 'done (its verify server stopped)' : 'done';
    }
    await subvolumeDelete(rc.ctx.runner, s.path);
    return 'done';
  },
  'remove-tree': async (s) => {
    await rm(s.path, { recursive: true, force: true });
    return 'done';
  },
  'remove-file': async (s) => {
    await rm(s.path, { force: true });
    return 'done';
  },
  'nocow-rewrite': async (s, rc) => rewriteNocow(needCrypt(rc), rc.ctx, s.pgdata),
  'set-aside': async (s) => {
    const to = `${s.path}.invalid-${formatNameTime(new Date())}`;
    // rename(2) moves the entry itself: a link or a FIFO is moved, never followed or opened.
    if (!(await lstat(s.path).then(() => true, () => false))) return 'already gone';
    await rename(s.path, to);
    await fsyncDir(path.dirname(s.path));
    return `moved to ${to}`;
  },
  'recover-interrupted': async (_s, rc) => {
    if (!rc.heal) throw new Error('no recovery was handed to this repair');
    return (await rc.heal(needCrypt(rc))).join('; ') || 'already recovered';
  },
  'install-runtime': async (s) => {
    const source = await findRuntime();
    if (!source) throw new CryptError('the runtime bundle is not available to install', { hint: 'Run `npm run build`, then repair with dist/lychd-crypt/lychd-crypt.js.' });
    return detail(await installRuntime({ kind: 'install-runtime', source, target: s.target, mode: 0o755, link: source === PACKAGED_RUNTIME }));
  },
  'rebuild-metadata': async (s, rc) => {
    const crypt = needCrypt(rc);
    const existing = await readMeta(crypt.paths, s.name).then((m) => (m ? 'usable' : 'none'), () => 'unusable');
    if (existing === 'usable') return 'already has metadata';
    // An unusable file is replaced only once it was set aside (with consent), never overwritten here.
    if (existing === 'unusable') return 'not rebuilt: its unusable metadata file is still there (it was not set aside)';
    const meta = await rebuildMeta(rc.ctx.runner, crypt.paths, s.name, crypt.config.postgres);
    await writeMeta(crypt.paths, meta);
    return `rebuilt (${meta.mode}, created ${formatTime(meta.createdAt)}${meta.rebuilt?.checkpointLsn ? `, checkpoint ${meta.rebuilt.checkpointLsn} on timeline ${meta.rebuilt.timeline}` : ''})`;
  },
  'move-snapshots-back': async (s) => {
    if (await lstat(s.to).then(() => true, () => false)) return `already there (${s.to} exists)`;
    // rename(2) within one filesystem: atomic, no data copied.
    await rename(s.from, s.to);
    return 'done';
  },
};
