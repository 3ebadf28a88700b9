// Which registered crypt a command acts on: --crypt NAME (did-you-mean when unknown) or PATH (it holds a /); without it, the only crypt there is
// (for root), or the caller's own (for a user).
import path from 'node:path';
import { UsageError } from '../errors.js';
import { exists } from '../sys/fs.js';
import { detectTargetUser } from '../user.js';
import { learnCrypt } from '../output/hint.js';
import { closest, orList } from '../output/did-you-mean.js';
import { readRegistry, registryDir, type RegistryEntry } from '../registry/store.js';
import { defaultCryptPath } from './locate.js';
import { LEGACY_STATE_DIR } from './paths.js';
import type { OpContext } from '../context.js';

const list = (es: RegistryEntry[]) => es.map((e) => `${e.name} (${e.config.crypt.path})`).join(', ');

async function notRegistered(where: string, dir: string): Promise<never> {
  const legacy = await exists(path.join(where, LEGACY_STATE_DIR, 'config.json'));
  throw new UsageError(
    legacy ? `the crypt at ${where} was made by an earlier version and is not in the registry ${dir}` : `no registered crypt at ${where}`,
    {
      hint: legacy
        ? 'Adopt it: as root, re-run `lychd-crypt init --answers <its answers> --yes` (it changes nothing but records the crypt). See docs/trust.md, "Crypts made before the registry".'
        : 'Run `lychd-crypt init`, or name a registered crypt with --crypt NAME|PATH (`lychd-crypt crypts` lists them).',
    },
  );
}

/** --crypt NAME that no crypt has: the names that are there, the closest first. */
function unknownName(want: string, entries: RegistryEntry[], dir: string): never {
  const near = closest(want, entries.map((e) => e.name));
  const known = entries.length ? `registered: ${list(entries)}` : `nothing is registered in ${dir}`;
  throw new UsageError(`no crypt named "${want}"${near.length ? `; did you mean ${orList(near)}?` : ''} (${known})`, {
    hint: entries.length
      ? 'Name a registered crypt with --crypt NAME, or its path with a / in it (`lychd-crypt crypts` lists them).'
      : 'Run `lychd-crypt init` first, or name the registry it used with --registry DIR.',
  });
}

/**
 * What opening a crypt needs of the command line: which crypt (--crypt, --registry, --user) and the command
 * as typed (a refusal tells the user exactly what to run instead).
 */
export interface CryptRequest {
  /** --crypt NAME or PATH (or LYCHD_CRYPT); undefined: the target user's own. */
  crypt?: string;
  /** --registry (or LYCHD_CRYPT_REGISTRY); undefined: the default. */
  registry?: string;
  /** --user; undefined: SUDO_USER, else the caller. */
  user?: string;
  command: string;
  argv: string[];
}

export async function selectEntry(ctx: OpContext, req: Pick<CryptRequest, 'crypt' | 'registry' | 'user'>): Promise<RegistryEntry> {
  const dir = registryDir(req.registry, ctx.env);
  const entries = await readRegistry(dir);
  learnCrypt({ several: entries.length > 1, registry: dir });
  const want = req.crypt;
  if (want) {
    // A path holds a `/` (`./lychd` for one here); anything else is a registered name, never a relative path.
    if (!want.includes('/')) return entries.find((e) => e.name === want) ?? unknownName(want, entries, dir);
    const p = path.resolve(want);
    return entries.find((e) => e.config.crypt.path === p) ?? notRegistered(p, dir);
  }
  const uid = process.getuid?.() ?? 0;
  if (uid === 0 && !req.user && !ctx.env.SUDO_USER && entries.length === 1) return entries[0]!;
  const user = await detectTargetUser(ctx.runner, req.user, ctx.env);
  const own = entries.filter((e) => e.config.crypt.uid === user.uid);
  if (own.length === 1) return own[0]!;
  if (own.length > 1) {
    throw new UsageError(`${user.name} has several crypts: ${list(own)}`, { hint: 'Choose one with --crypt NAME.' });
  }
  if (uid === 0 && entries.length > 1 && !req.user && !ctx.env.SUDO_USER) {
    throw new UsageError(`several crypts are registered: ${list(entries)}`, { hint: 'Choose one with --crypt NAME.' });
  }
  return notRegistered(defaultCryptPath(user, ctx.env, uid), dir);
}
