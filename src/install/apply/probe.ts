// --dry-run on a real host: each step's own check, evaluated without acting. A probe only reads (files,
// findmnt, blkid, wipefs --no-act, systemctl is-enabled/show, lsattr) and answers "already satisfied" or
// "would change", with a unified diff for the files a step would rewrite. The handlers make the same checks
// before they act, so the dry run agrees with what a real run then reports as unchanged or done.
import { lstat, readFile, readdir, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { exists } from '../../base/sys/fs.js';
import { mountAt } from '../detect/findmnt.js';
import { probeSignatures } from '../detect/signatures.js';
import { unifiedDiff } from '../plan/diff.js';
import type { Plan, Step } from '../../model/steps.js';
import { entryFile, type RegistryEntry } from '../../base/registry/store.js';
import { FSTAB_TAG, parseFstab, upsertFstabLine } from '../render/index.js';
import { systemctlArgv } from '../../base/systemctl.js';
import { asUser } from '../../base/runner.js';
import type { ApplyContext } from './context.js';
import { isSubvolume } from './handlers-btrfs.js';
import { isDir, sameFile } from './handlers-fs.js';
import { builtIdentity } from './handlers-registry.js';
import { closeDir, FS_NOCOW_FL, inodeFlags } from '../../base/sys/fd.js';
import { openTrustedDirOrThrow } from '../../base/sys/trusted-path.js';
import { mountedAsSpec } from './handlers-mount.js';
import { lingering, readAs, show } from './handlers-schedule.js';

export type ProbeStatus = 'satisfied' | 'would-change';

export interface Probe {
  status: ProbeStatus;
  /** Why it is satisfied, or what would change. */
  detail?: string;
  /** For a file: unified diff of its current content → what the step writes. */
  diff?: string;
}

type S<K extends Step['kind']> = Extract<Step, { kind: K }>;
type Probes = { [K in Step['kind']]: (s: S<K>, ctx: ApplyContext) => Promise<Probe> };

const ok = (detail: string): Probe => ({ status: 'satisfied', detail });
const change = (detail?: string, diff?: string): Probe => ({ status: 'would-change', ...(detail ? { detail } : {}), ...(diff ? { diff } : {}) });
const readText = (p: string) => readFile(p, 'utf8').catch(() => null);

/** Content a step would write, against what is there now. */
function fileProbe(file: string, current: string | null, next: string, satisfied = 'same content'): Probe {
  if (current === next) return ok(satisfied);
  return change(current === null ? 'new file' : undefined, unifiedDiff(current ?? '', next, file));
}

const probes: Probes = {
  'create-dir': async (s) => {
    const st = await lstat(s.path).catch(() => null);
    if (st && !st.isDirectory()) return change(`${st.isSymbolicLink() ? 'a symbolic link' : 'not a directory'} is there: init will refuse`);
    return st ? ok('exists') : change();
  },
  'create-image': async (s) => ((await stat(s.path).catch(() => null))?.size === s.sizeBytes ? ok('exists with this size') : change()),
  'grow-image': async (s, ctx) => {
    const m = await mountAt(ctx.runner, s.mountPoint);
    const size = (await stat(s.path).catch(() => null))?.size ?? 0;
    if (!m || m.backingFile !== s.path || size < s.sizeBytes) return change();
    const dev = Number((await ctx.runner.run(['blockdev', '--getsize64', m.source], { allowFailure: true })).stdout.trim());
    return dev >= s.sizeBytes ? ok('already this size') : change();
  },
  'mkfs-btrfs': async (s, ctx) => {
    if (!(await exists(s.device))) return change();
    const sigs = await probeSignatures(ctx.runner, s.device);
    if (sigs.some((x) => x.type === 'btrfs' && x.uuid === s.uuid)) return ok('already formatted by us');
    return change(sigs.length && !s.wipe ? 'it holds data: init will refuse' : undefined);
  },
  'write-mount-record': async (s, ctx) => {
    // Underneath a mount the record is out of reach without a bind mount (an action): planned then only
    // because the configuration changed, so it will be rewritten.
    if (await mountAt(ctx.runner, path.dirname(s.path))) return change('rewritten underneath the mount (the configuration changed)');
    return fileProbe(s.path, await readText(s.path), s.content);
  },
  mount: async (s, ctx) => {
    const state = await mountedAsSpec(ctx, s.spec);
    return state === 'yes' ? ok('already mounted') : change(state === 'other' ? 'something else is mounted there: init will refuse' : undefined);
  },
  unmount: async (s, ctx) => ((await mountAt(ctx.runner, s.path)) ? change() : ok('not mounted')),
  'remove-dir': async (s) => ((await isDir(s.path)) ? change() : ok('absent')),
  'move-aside': async (s) => ((await exists(s.to)) ? ok(`${s.to} exists already`) : change()),
  'copy-data': async (s) => change(`${s.entries.length} entries`),
  'write-fstab-line': async (s) => {
    const text = (await readText(s.file)) ?? '';
    return fileProbe(s.file, text, upsertFstabLine(text, s.spec), 'line present');
  },
  'remove-fstab-line': async (s) => {
    const text = (await readText(s.file)) ?? '';
    const ours = new Set(parseFstab(text).filter((e) => e.where === s.where && e.options.includes(FSTAB_TAG)).map((e) => e.line));
    if (!ours.size) return ok('no line of ours');
    return change(undefined, unifiedDiff(text, text.split('\n').filter((_, i) => !ours.has(i + 1)).join('\n'), s.file));
  },
  'write-mount-unit': async (s) => fileProbe(s.path, await readText(s.path), s.content),
  'remove-mount-unit': async (s) => {
    const text = await readText(s.path);
    return text === null ? ok('absent') : change(undefined, unifiedDiff(text, '', s.path));
  },
  'enable-mount-unit': async (s, ctx) => {
    const enabled = (await ctx.runner.run(['systemctl', 'is-enabled', s.unit], { allowFailure: true })).stdout.trim() === 'enabled';
    const mounted = s.start ? await mountedAsSpec(ctx, s.start) : 'yes';
    if (mounted === 'other') return change('something else is mounted there: init will refuse');
    return enabled && mounted === 'yes' ? ok('enabled') : change(enabled ? 'start it' : undefined);
  },
  'create-subvolume': async (s) => {
    const sub = await isSubvolume(s.path);
    if (sub === false) return change('exists but is not a subvolume: init will refuse');
    if (!sub) return change();
    const st = await lstat(s.path);
    return st.uid === s.owner.uid && st.gid === s.owner.gid ? ok('exists') : change('correct its owner');
  },
  'create-pgdata': async (s) => {
    const st = await lstat(s.path).catch(() => null);
    if (!st) return change();
    const fixes: string[] = [];
    if (st.uid !== s.owner.uid || st.gid !== s.owner.gid) fixes.push('owner');
    if ((st.mode & 0o7777) !== s.mode) fixes.push('mode');
    const dir = await openTrustedDirOrThrow(s.path);
    try {
      if (!((await inodeFlags(dir)) & FS_NOCOW_FL) && (await readdir(dir.anchor)).length === 0) fixes.push('nodatacow');
    } finally {
      await closeDir(dir);
    }
    return fixes.length ? change(`correct its ${fixes.join(', ')}`) : ok('exists');
  },
  'write-file': async (s) => ((await sameFile(s.path, s.content, s.mode)) ? ok('same content') : fileProbe(s.path, await readText(s.path), s.content, 'same content, other mode')),
  'own-dir': async (s) => {
    const st = await lstat(s.path).catch(() => null);
    if (!st) return change();
    return st.uid === s.owner.uid && st.gid === s.owner.gid && (st.mode & 0o7777) === s.mode ? ok('owner and mode as wanted') : change();
  },
  register: async (s) => {
    const file = entryFile(s.dir, s.name);
    const text = await readText(file);
    const old = text === null ? null : (JSON.parse(text) as RegistryEntry);
    if (s.provisionalUuid) return old?.identity.fsUuid === s.provisionalUuid ? ok('registered') : change(old ? 'updated' : 'new entry');
    // The identity is read from what is built; before that (a new crypt) the entry is new anyway.
    const identity = await builtIdentity(s).catch(() => null);
    if (!identity) return change(old ? 'updated once the crypt is built' : 'new entry');
    const entry: RegistryEntry = { version: 1, name: s.name, config: s.config, identity, stateDir: s.stateDir, registeredAt: old?.registeredAt ?? '(now)' };
    if (old && JSON.stringify(old) === JSON.stringify(entry)) return ok('registered as it is');
    return change(old ? undefined : 'new entry', unifiedDiff(text ?? '', `${JSON.stringify(entry, null, 2)}\n`, file));
  },
  'install-runtime': async (s) => {
    if (s.link) {
      if ((await readlink(s.target).catch(() => null)) === s.source) return ok('links to the packaged runtime');
      return (await realpath(s.target).catch(() => null)) === (await realpath(s.source).catch(() => '')) ? ok('is the packaged runtime') : change();
    }
    const content = await readFile(s.source).catch(() => null);
    if (content && (await sameFile(s.target, content, s.mode))) return ok('same version installed');
    return change((await exists(s.target)) ? 'another version is installed' : undefined);
  },
  'write-unit': async (s, ctx) => fileProbe(s.path, await readAs(ctx, s.user, s.path), s.content),
  'enable-timer': async (s, ctx) => {
    const u = s.user;
    if (u && !(await lingering(ctx, u))) return change();
    if ((await ctx.runner.run(systemctlArgv(u, 'is-enabled', s.unit), { allowFailure: true })).stdout.trim() !== 'enabled') return change();
    if ((await show(ctx, u, s.unit, 'ActiveState')) !== 'active' || (await show(ctx, u, s.unit, 'NeedDaemonReload')) !== 'no') return change();
    return (await show(ctx, u, s.unit.replace(/\.timer$/, '.service'), 'NeedDaemonReload')) === 'no' ? ok('enabled and running') : change();
  },
  'remove-unit': async (s, ctx) => {
    const present = s.user ? (await ctx.runner.run(asUser(s.user, ['test', '-e', s.path]), { allowFailure: true })).exitCode === 0 : await exists(s.path);
    return present ? change() : ok('absent');
  },
};

/** One step's probe; a probe that cannot look (missing tool, no permission) says the step would run. */
export async function probeStep(step: Step, ctx: ApplyContext): Promise<Probe> {
  const p = probes[step.kind] as (s: Step, c: ApplyContext) => Promise<Probe>;
  try {
    return await p(step, ctx);
  } catch (e) {
    return change(`could not check: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Every step's probe, in order. Steps after one that would change are probed against today's host. */
export async function probePlan(plan: Plan, ctx: ApplyContext): Promise<Probe[]> {
  const out: Probe[] = [];
  for (const step of plan.steps) out.push(await probeStep(step, ctx));
  return out;
}
