// Which files the owner reaches only through its user namespace: a crypt whose PostgreSQL runs in the
// owner's rootless container (PGDATA, its snapshots and clones belong to a subordinate uid) is registered
// here when its owner opens it (base/crypt/open.ts); an operation on a path inside it then runs in the
// helper (base/userns/helper.ts), anything else in-process. Registered like the fd anchors
// (base/anchors.ts): once per command, for the crypt the command works on.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { CryptError } from '../errors.js';
import { selfArgv } from '../bundle/self.js';
import { createRunner, type Runner } from '../runner.js';
import { parseSubIds, type IdRange, type OwnerIds } from './ids.js';
import { NsHelper, type HelperSpec, type NsOp } from './helper.js';

interface Tree {
  root: string;
  /** Made on the first operation. */
  helper: NsHelper | null;
}

const trees: Tree[] = [];

const inside = (p: string, root: string): boolean => p === root || p.startsWith(root.endsWith('/') ? root : `${root}/`);

/** The ids of a user and its subordinate ranges (what newuidmap lets it map), in file order. */
export function ownerIds(user: { name: string; uid: number; gid: number }, read: (f: string) => string = (f) => readFileSync(f, 'utf8')): OwnerIds {
  const of = (file: string, id: number): IdRange[] => {
    try {
      return parseSubIds(read(file), user.name, id);
    } catch {
      return [];
    }
  };
  return { uid: user.uid, gid: user.gid, subuids: of('/etc/subuid', user.uid), subgids: of('/etc/subgid', user.gid) };
}

/** This process's user's ids and ranges. */
export function ownIds(): OwnerIds {
  const { username, uid, gid } = os.userInfo();
  return ownerIds({ name: username, uid, gid });
}

/** The helper for this process's user, or why there cannot be one. */
function helperSpec(): HelperSpec {
  const self = selfArgv();
  if (!self) throw new CryptError('reaching PGDATA in the owner\'s user namespace needs the lychd-crypt runtime itself (it runs a helper of its own there)');
  const { subuids: uids, subgids: gids } = ownIds();
  if (!uids.length || !gids.length) {
    throw new CryptError(`${os.userInfo().username} has no subordinate ${uids.length ? 'gid' : 'uid'} range (/etc/sub${uids.length ? 'gid' : 'uid'}), so PGDATA owned by its container's uid cannot be reached`, {
      hint: 'Rootless Podman needs them too: `usermod --add-subuids 100000-165535 --add-subgids 100000-165535 USER` (as root).',
    });
  }
  return { uids: uids[0]!, gids: gids[0]!, runtime: self };
}

/** Files under `root` are reached through this user's namespace from now on (nothing starts until the first use). */
export function reachThroughUserns(root: string): void {
  if (!trees.some((t) => t.root === root)) trees.push({ root, helper: null });
}

/** Ends every helper (the end of a command); the registrations go too. */
export function forgetUserns(): void {
  for (const t of trees.splice(0)) t.helper?.close();
}

/** Whether `where` lies in a tree reached through the namespace. */
export const throughUserns = (where: string): boolean => trees.some((t) => inside(where, t.root));

/**
 * Runs `op` for a path: in the helper when the path lies in a registered tree, else in this process (with
 * `runner` for the commands it runs; null: an operation that runs none).
 */
export async function onTree<A extends unknown[], R>(where: string, runner: Runner | null, op: NsOp<A, R>, ...args: A): Promise<R> {
  const t = trees.find((x) => inside(where, x.root));
  if (!t) return op.run({ runner: runner ?? createRunner() }, ...args);
  return (t.helper ??= new NsHelper(helperSpec())).call(op, args);
}
