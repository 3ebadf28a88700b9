// Leftovers of a verify that was killed: its clone subvolume beside active/ and, possibly, the throwaway
// server still running on it (pg_ctl daemonizes it, so it outlives us). The next verify removes both.
import { readdir, readlink, realpath, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Runner } from '../../base/runner.js';
import { STAGING_PREFIX } from '../../base/crypt/paths.js';
import { isSubvolume } from '../../base/btrfs/probe.js';
import { subvolumeDelete } from '../../base/btrfs/subvolume.js';
import { isPostgresPid, readPostmaster } from '../../base/pg/postmaster.js';
import { inspectContainer } from '../../base/container/podman.js';
import { VERIFY_CONTAINER_PREFIX } from './clone-container.js';

export const VERIFY_PREFIX = `${STAGING_PREFIX}verify-`;

/**
 * postmaster.pid in a clone is its user's to write: a pid or a socket directory read from it is acted on
 * only when the process really runs on this clone (a postmaster's working directory is its PGDATA) and
 * the directory is one verify made (directly under $TMPDIR).
 */
async function runsOn(pid: number, pgdata: string): Promise<boolean> {
  const [cwd, real] = await Promise.all([readlink(`/proc/${pid}/cwd`).catch(() => null), realpath(pgdata).catch(() => null)]);
  return cwd !== null && cwd === real;
}

async function stopPostmaster(pgdata: string): Promise<boolean> {
  const pm = await readPostmaster(pgdata);
  if (!pm.running || pm.pid === null || !(await runsOn(pm.pid, pgdata))) return false;
  // SIGQUIT: immediate shutdown. The clone is throwaway; nothing in it needs a clean stop.
  process.kill(pm.pid, 'SIGQUIT');
  for (let i = 0; i < 300 && (await isPostgresPid(pm.pid)); i++) await sleep(100);
  // Its private socket directory (with the log and hba file) was made by verify under $TMPDIR.
  const ours = pm.socketDir && path.dirname(pm.socketDir) === os.tmpdir() && path.basename(pm.socketDir).startsWith('lychd-verify-');
  if (ours) await rm(pm.socketDir!, { recursive: true, force: true });
  return true;
}

/** Stops the server running on one clone (if any) and deletes the clone; true when a server was stopped. */
export async function removeClone(runner: Runner, clone: string, pgDir: string | null): Promise<boolean> {
  const stopped = pgDir ? await stopPostmaster(path.join(clone, pgDir)) : false;
  await subvolumeDelete(runner, clone);
  return stopped;
}

/** verify's containers a killed verify left (they hold a clone's PGDATA open), removed with their socket directory. */
async function removeVerifyContainers(runner: Runner): Promise<string[]> {
  const r = await runner.run(['podman', 'ps', '--all', '--format', '{{.Names}}'], { allowFailure: true });
  const names = r.exitCode === 0 ? r.stdout.split('\n').map((n) => n.trim()).filter((n) => n.startsWith(VERIFY_CONTAINER_PREFIX)) : [];
  const done: string[] = [];
  for (const name of names) {
    const c = await inspectContainer(runner, name).catch(() => null);
    await runner.run(['podman', 'rm', '--force', '--volumes', '--time', '0', '--', name], { allowFailure: true });
    // Its socket directory's parent is the owner's own (runtime/verify/clone-container.ts): removed only by that name.
    for (const m of c?.mounts ?? []) if (path.basename(path.dirname(m.source)).startsWith('lychd-verify-')) await rm(path.dirname(m.source), { recursive: true, force: true });
    done.push(`removed the leftover verify container ${name}`);
  }
  return done;
}

/**
 * Stops and deletes every `.staging-verify-*` clone under `root` (first the containers of a container's
 * verify: `containers`); returns one line per thing removed.
 */
export async function removeVerifyLeftovers(runner: Runner, root: string, pgDir: string | null, containers = false): Promise<string[]> {
  const done: string[] = containers ? await removeVerifyContainers(runner) : [];
  for (const name of (await readdir(root)).filter((n) => n.startsWith(VERIFY_PREFIX))) {
    const clone = path.join(root, name);
    if (!(await isSubvolume(clone))) continue;
    const stopped = await removeClone(runner, clone, pgDir);
    done.push(`removed the leftover verify clone ${name}${stopped ? ' (and stopped its server)' : ''}`);
  }
  return done;
}
