// The scenes many real tests open with, built once here: a scratch host filesystem at <scratch>/host, and
// on it a fresh user with the path where their crypt is to be made; a crypt with its server and the CLI
// bound to it.
import path from 'node:path';
import { makeUser, mountScratchFs, type TestUser } from './host.js';
import type { Scratch } from './scratch.js';
import { cliChild, cryptWithServer } from './snap.js';
import type { ScratchSuite } from './suite.js';
import type { PgVersion } from './pg.js';

type Fstype = 'ext4' | 'xfs' | 'btrfs';

/** A host filesystem of `fstype` (sizeMiB, on a loop image) mounted at <scratch>/host. */
export async function hostFs(scratch: Scratch, fstype: Fstype, sizeMiB: number): Promise<string> {
  const host = scratch.path('host');
  await mountScratchFs(scratch, fstype, host, sizeMiB);
  return host;
}

/** hostFs, a fresh user, and the crypt path `<host>/<cryptDir>` for them (not made: a test makes it when it needs it). */
export async function userHost(scratch: Scratch, fstype: Fstype, sizeMiB: number, cryptDir = 'crypt'): Promise<{ host: string; user: TestUser; crypt: string }> {
  const host = await hostFs(scratch, fstype, sizeMiB);
  return { host, user: makeUser(scratch), crypt: path.join(host, cryptDir) };
}

/**
 * A scratch dir from `scratches`, a crypt with its PostgreSQL server in it (cryptWithServer), and `run`:
 * the bundled CLI as a child process on that crypt.
 */
export async function serverCrypt(scratches: ScratchSuite, bundle: string, version: PgVersion = 15, opts: Parameters<typeof cryptWithServer>[2] = {}) {
  const scratch = await scratches.scratch();
  const c = await cryptWithServer(scratch, version, opts);
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => cliChild(bundle, c.fx.root, args, env);
  return { scratch, ...c, run };
}
