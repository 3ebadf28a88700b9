// mount.*: the image or device is there, the crypt is mounted, from the right source, as btrfs, once.
import { lstat, realpath } from 'node:fs/promises';
import { exists } from '../base/sys/fs.js';
import type { Runner } from '../base/runner.js';
import { mountHolding } from '../install/detect/findmnt.js';
import type { DoctorEnv, MountView } from './doctor-env.js';
import { cannotCheck, fixable, manual, ok, type Check } from './findings.js';

/** The device a `UUID=` spec names, or the spec's path. */
async function sourceDevice(runner: Runner, what: string): Promise<string | null> {
  if (!what.startsWith('UUID=')) return (await exists(what)) ? what : null;
  const r = await runner.run(['blkid', '-U', what.slice(5)], { allowFailure: true });
  return r.exitCode === 0 ? r.stdout.trim() || null : null;
}

export async function checkSource(env: DoctorEnv, view: MountView): Promise<Check> {
  const id = 'mount.source';
  if (view.method === 'loopback') {
    const st = await lstat(view.spec.what).catch(() => null);
    if (!st) return manual(id, `the image ${view.spec.what} is missing`, `restore the image file to ${view.spec.what} (it holds the whole crypt)`);
    if (!st.isFile()) return manual(id, `the image ${view.spec.what} is not a regular file`, `restore the image file to ${view.spec.what}`);
    return ok(id, `image ${view.spec.what} present (${st.size} bytes)`);
  }
  const dev = await sourceDevice(env.runner, view.spec.what);
  if (!dev) return manual(id, `the device ${view.spec.what}${view.device ? ` (${view.device})` : ''} is not present`, 'attach the disk that holds the crypt');
  return ok(id, `device ${view.spec.what} present (${dev})`);
}

/** e.g. `failed (exit-code)`, `inactive`, `not loaded`: what systemd says of the unit. */
async function unitState(runner: Runner, unit: string): Promise<string> {
  const r = await runner.run(['systemctl', 'show', unit, '-p', 'LoadState', '-p', 'ActiveState', '-p', 'Result'], { allowFailure: true });
  const p = Object.fromEntries(r.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  if (p.LoadState && p.LoadState !== 'loaded') return `not loaded (${p.LoadState})`;
  if (!p.ActiveState) return `unknown (systemctl show: exit ${r.exitCode})`;
  return p.ActiveState === 'failed' ? `failed (${p.Result ?? 'unknown'}): see journalctl -u ${unit}` : p.ActiveState;
}

/** Is what is mounted at root the filesystem the view describes? null: yes; else why not. */
async function mismatch(env: DoctorEnv, view: MountView): Promise<string | null> {
  const m = env.mounted!;
  if (view.method === 'loopback') {
    const image = await realpath(view.spec.what).catch(() => view.spec.what);
    if (m.backingFile === image) return null;
    return m.backingFile ? `loop device ${m.source} is backed by ${m.backingFile}, not ${image}` : `${m.source} is mounted there, not the image ${image}`;
  }
  const dev = await sourceDevice(env.runner, view.spec.what);
  if (dev && (m.source === dev || (await realpath(dev).catch(() => dev)) === m.source)) return null;
  return `${m.source} is mounted there, not ${view.spec.what}`;
}

export async function checkMounted(env: DoctorEnv, view: MountView): Promise<Check[]> {
  const id = 'mount.mounted';
  if (!env.mounted) {
    const spec = view.spec;
    if (!(await sourceDevice(env.runner, spec.what))) {
      return [manual(id, `the crypt is not mounted at ${spec.where}, and ${spec.what} is not there to mount (see mount.source)`, 'restore the image or attach the disk, then run repair')];
    }
    const from = view.source === 'record' ? 'the mount record' : 'the configuration';
    if (env.systemd && view.persist.via === 'systemd') {
      // systemd owns the mount: say what its unit is doing (a failed mount names its result), start it.
      const unit = view.persist.unit;
      const state = await unitState(env.runner, unit);
      return [fixable(id, `the crypt is not mounted at ${spec.where}; ${unit} is ${state}`, `start ${unit} (mounts ${spec.what} at ${spec.where})`, [{ kind: 'mount', spec, unit }])];
    }
    return [fixable(id, `the crypt is not mounted at ${spec.where}`, `mount ${spec.what} at ${spec.where} as described by ${from}`, [{ kind: 'mount', spec }])];
  }
  if (env.mounted.fstype !== 'btrfs') {
    return [manual(id, `${env.mounted.source} mounted at ${env.root} is ${env.mounted.fstype}, not btrfs`, `unmount it (umount ${env.root}), then run repair`)];
  }
  const wrong = await mismatch(env, view);
  const checks = [wrong ? manual(view.method === 'loopback' ? 'mount.loop' : id, wrong, `unmount it (umount ${env.root}) and run repair to mount the right one`) : ok(id, `mounted at ${env.root} (${env.mounted.source}, btrfs)`)];
  if (!wrong) checks.push(await checkTwice(env));
  return checks;
}

interface FindmntRow {
  target: string;
  source: string;
  fsroot?: string;
}

async function findmntRows(runner: Runner, args: string[]): Promise<FindmntRow[]> {
  const r = await runner.run(['findmnt', '-J', '-o', 'TARGET,SOURCE,FSROOT', ...args], { allowFailure: true });
  if (r.exitCode !== 0 || !r.stdout.trim()) return [];
  return (JSON.parse(r.stdout) as { filesystems?: FindmntRow[] }).filesystems ?? [];
}

/** Stacked twice on the crypt path (a second `mount`), or the top level mounted elsewhere as well. */
async function checkTwice(env: DoctorEnv): Promise<Check> {
  const id = 'mount.twice';
  const m = env.mounted!;
  const stack = await findmntRows(env.runner, ['--mountpoint', env.root]);
  if (stack.length > 1) {
    return fixable(id, `the crypt is mounted ${stack.length} times on top of itself at ${env.root}`, `unmount the extra copies (umount ${env.root}, ${stack.length - 1}×)`, Array.from({ length: stack.length - 1 }, () => ({ kind: 'unmount-stacked' as const, where: env.root })));
  }
  // Bind mounts of a subvolume (FSROOT /active/…) elsewhere are deliberate; another mount of the top level is not.
  const others = (await findmntRows(env.runner, ['--source', m.source])).filter((r) => r.target !== env.root && (r.fsroot ?? '/') === '/');
  if (others.length) {
    return manual(id, `the crypt's filesystem is also mounted at ${others.map((o) => o.target).join(', ')}`, `unmount it there (umount ${others[0]!.target})`);
  }
  return ok(id, 'mounted once');
}

/** native: the crypt path is a directory on a Btrfs filesystem. */
export async function checkNative(env: DoctorEnv): Promise<Check> {
  const id = 'mount.native';
  try {
    const fs = await mountHolding(env.runner, env.root);
    if (fs.fstype !== 'btrfs') return manual(id, `${env.root} is on ${fs.fstype}, but the crypt is configured native (on Btrfs)`, 'restore the Btrfs filesystem that held it');
    return ok(id, `native crypt on the Btrfs filesystem at ${fs.target}`);
  } catch (e) {
    return cannotCheck(id, `cannot tell the filesystem of ${env.root}: ${(e as Error).message}`);
  }
}
