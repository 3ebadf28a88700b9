// The wizard's offer of an outside WAL (postgres.walDir, docs/wal.md) on a loopback crypt: each commit's WAL
// flush through the loop device is what halves the live database's speed there, and only the WAL is on the
// commit path. Opt-in (No by default) with the trade-off said in the question; never offered for a
// container (not supported) or a crypt already registered with one (kept: the way back is not built).
import path from 'node:path';
import type { AnswersInput } from '../../install/answers/schema.js';
import type { HostFacts } from '../../install/detect/facts.js';
import { askConfirm, askText, say, type PromptIo } from './prompts.js';

type Postgres = NonNullable<AnswersInput['postgres']>;

/** Where the WAL goes by default: the owner's own data directory for a rootless crypt, else root's /var/lib. */
export function defaultWalDir(facts: Pick<HostFacts, 'user' | 'registry'>): string {
  return facts.user.uid !== 0 ? path.join(facts.user.home, '.local/share/lychd-wal') : path.join('/var/lib/lychd-wal', facts.registry.name);
}

const inside = (p: string, dir: string) => p === dir || p.startsWith(`${dir}/`);

export async function askWalDir(facts: HostFacts, postgres: Postgres, registeredWalDir: string | undefined, io: PromptIo): Promise<Postgres> {
  if (!postgres.enabled || postgres.container) return postgres;
  if (registeredWalDir) {
    say.info(`The live WAL stays outside the crypt, in ${registeredWalDir} (postgres.walDir; moving it back is not built, docs/wal.md)`, io);
    return { ...postgres, walDir: registeredWalDir };
  }
  const outside = await askConfirm(
    "Keep the live WAL (pg_wal) on the host's own filesystem? Commits then run at about the host's speed (measured 1.0× the host, against about 0.5× inside the image); snapshots stay whole, but between snapshots the crypt alone no longer holds the newest WAL",
    { ...io, initialValue: postgres.walDir !== undefined },
  );
  if (!outside) {
    const { walDir: _dropped, ...rest } = postgres;
    return rest;
  }
  const walDir = await askText("Directory for the live WAL (on the host's filesystem, outside the crypt)", {
    ...io,
    defaultValue: postgres.walDir ?? defaultWalDir(facts),
    validate: (v) => {
      if (!v.startsWith('/')) return 'The WAL directory must be an absolute path (starting with /)';
      const p = path.resolve(v);
      if (inside(p, facts.cryptPath) || inside(facts.cryptPath, p)) return `It must be outside the crypt (${facts.cryptPath})`;
      return undefined;
    },
  });
  return { ...postgres, walDir: path.resolve(walDir) };
}
