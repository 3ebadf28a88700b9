// The receiver's other two requests on complete copies: delete one (target retention; never the newest,
// which is the base of the next incremental), and send one back (a restore), with its header first.
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { CryptError, RefusedError } from '../../../base/errors.js';
import type { Runner } from '../../../base/runner.js';
import { headerOf } from '../stream/header.js';
import { zstdThrough } from '../stream/zstd.js';
import type { Copy } from '../stream/target.js';
import { deleteEntry, inStore, removeLeftovers, scanStore, type Store } from './store.js';

/** The complete copies, leftovers removed first (the names removed in `cleaned`). */
export async function listCopies(s: Store, runner: Runner): Promise<{ copies: Copy[]; cleaned: string[] }> {
  const scan = await scanStore(s);
  return { copies: scan.copies, cleaned: await removeLeftovers(s, runner, scan.leftovers) };
}

function find(copies: Copy[], name: string, origin: string, s: Store): Copy {
  const c = copies.find((x) => x.name === name && x.originUuid === origin);
  if (!c) throw new RefusedError(`${s.shown} holds no complete copy ${name} (${origin}); nothing was changed`);
  return c;
}

export async function deleteCopy(s: Store, runner: Runner, name: string, origin: string): Promise<void> {
  const { copies } = await listCopies(s, runner);
  const copy = find(copies, name, origin, s);
  if (copies.at(-1) === copy) {
    throw new RefusedError(`${name} is the newest copy in ${s.shown}: the next incremental is made against it; it is never deleted`);
  }
  await deleteEntry(s, runner, name);
}

/** Writes the copy's header (one JSON line) and then `btrfs send [-p PARENT] NAME` to `out` (zstd-compressed over ssh). */
export async function sendCopy(s: Store, runner: Runner, name: string, origin: string, parent: string | null, out: Writable, opts: { compress?: boolean } = {}): Promise<void> {
  const { copies } = await listCopies(s, runner);
  const copy = find(copies, name, origin, s);
  const base = parent ? copies.find((c) => c.originUuid === parent) : undefined;
  if (parent && !base) throw new RefusedError(`${s.shown} holds no complete copy ${parent} to send ${name} against; nothing was sent`);
  const header = { ...headerOf(copy.sidecar), origin: { ...copy.sidecar.origin, parentUuid: parent } };
  const child = await runner.spawn(['btrfs', 'send', '-q', ...(base ? ['-p', inStore(s, base.name)] : []), inStore(s, name)]);
  await new Promise<void>((resolve, reject) => out.write(`${JSON.stringify(header)}\n`, (e) => (e ? reject(e) : resolve())));
  let flowError: unknown = null;
  const z = opts.compress ? await zstdThrough(runner, child.stdout!, 'compress') : null;
  await Promise.all([pipeline(z ? z.output : child.stdout!, out), z?.done]).catch((e: unknown) => {
    flowError = e;
    child.kill('SIGKILL');
    z?.kill();
  });
  const r = await child.done;
  if (r.exitCode !== 0 || flowError) throw new CryptError(`btrfs send of ${name} failed: ${r.stderr.trim() || (flowError as Error | null)?.message || `exit ${r.exitCode}`}`);
}
