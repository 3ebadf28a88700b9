// The numeric owners a restored snapshot's files carry are the sending host's (a send stream keeps uid and
// gid numbers): on a system crypt whose owner or postgres user has other ids here, the rollback's writable
// staging copy is given this host's ids before it becomes active/ (pure: the pairs; the rollback's staging
// step applies them). A rootless crypt's ids (the owner's, its sub-uid range) are not root's to change
// (SPEC section 9): there the restore is refused with what to align.
import { RefusedError } from '../../base/errors.js';
import type { Config } from '../../model/config.js';
import type { CopyHeader } from '../replicate/stream/header.js';

export interface OwnerMap {
  uids: [number, number][];
  gids: [number, number][];
}

export const noMap = (m: OwnerMap): boolean => !m.uids.length && !m.gids.length;

function pairs(list: [number, number][], what: string): [number, number][] {
  const out = new Map<number, number>();
  for (const [from, to] of list) {
    if (from === to) continue;
    if (out.has(from) && out.get(from) !== to) throw new RefusedError(`the snapshot's ${what} ${from} would have to become both ${out.get(from)} and ${to} here; nothing was changed`);
    out.set(from, to);
  }
  // A chain (a→b while b→c) would map twice in sequence: refused rather than guessed.
  for (const to of out.values()) {
    if (out.has(to)) throw new RefusedError(`mapping the snapshot's ${what}s to this host's would chain (${[...out].map(([a, b]) => `${a}→${b}`).join(', ')}); nothing was changed`, { hint: 'Give the users the same ids as on the sending host (usermod -u / groupmod -g), then restore again.' });
  }
  return [...out];
}

export function ownerMap(ids: CopyHeader['ids'], config: Config): OwnerMap {
  const uids: [number, number][] = [[ids.owner.uid, config.crypt.uid]];
  const gids: [number, number][] = [[ids.owner.gid, config.crypt.gid]];
  if (ids.postgres && config.postgres) {
    uids.push([ids.postgres.uid, config.postgres.uid]);
    gids.push([ids.postgres.gid, config.postgres.gid]);
  }
  const map = { uids: pairs(uids, 'uid'), gids: pairs(gids, 'gid') };
  if (config.profile === 'rootless' && !noMap(map)) {
    throw new RefusedError(
      `the snapshot's files belong to ${ids.owner.user} (uid ${ids.owner.uid}, gid ${ids.owner.gid}) on the sending host; ${config.crypt.user} here is uid ${config.crypt.uid}, gid ${config.crypt.gid}: a rootless crypt's ids are not root's to change; nothing was changed`,
      { hint: `Give ${config.crypt.user} the sending host's ids (\`usermod -u ${ids.owner.uid} ${config.crypt.user}\`, \`groupmod -g ${ids.owner.gid} ${config.crypt.user}\`, and the same /etc/subuid and /etc/subgid range), then restore again.` },
    );
  }
  return map;
}

/** `chown -R -h --from=…`: one command per pair (uids, then gids), never following a link. */
export function mapArgv(dir: string, m: OwnerMap, recursive: boolean): string[][] {
  const r = recursive ? ['-R'] : [];
  return [...m.uids.map(([a, b]) => ['chown', ...r, '-h', `--from=${a}`, String(b), '--', dir]), ...m.gids.map(([a, b]) => ['chown', ...r, '-h', `--from=:${a}`, `:${b}`, '--', dir])];
}
