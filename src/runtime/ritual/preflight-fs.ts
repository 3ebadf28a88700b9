// Preflight checks on the files, before any snapshot: everything the database needs must be inside
// active/ and inside the ONE subvolume a snapshot captures (a snapshot stops at nested subvolumes and
// mounts, and does not follow symlinks out of active/).
import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import path from 'node:path';
import { listNestedSubvolumes } from '../../base/btrfs/probe.js';
import type { Runner } from '../../base/runner.js';
import { escapeBytes } from '../../base/output/text.js';
import { nsOp } from '../../base/userns/helper.js';

export interface PreflightProblem {
  what: string;
  fix: string;
}

function inside(parent: string, child: string): boolean {
  return child === parent || child.startsWith(parent.endsWith('/') ? parent : `${parent}/`);
}

async function realOrNull(p: string | Buffer): Promise<string | null> {
  try {
    return await realpath(p);
  } catch {
    return null;
  }
}

/** active/ holds no nested subvolume or mount: their contents would silently be missing from snapshots. */
export async function checkNoNested(active: string, runner?: Runner): Promise<PreflightProblem[]> {
  const nested = await listNestedSubvolumes(active, runner);
  return nested.map((n) => ({
    what: `active/${n.path} is ${n.kind === 'subvolume' ? 'a nested Btrfs subvolume' : 'a mount point'}: a snapshot of active/ would not contain it`,
    fix:
      n.kind === 'subvolume'
        ? `turn it into a plain directory (stop the programs using it; mv active/${n.path} active/${n.path}.sub; cp -a --reflink=always active/${n.path}.sub active/${n.path}; btrfs subvolume delete active/${n.path}.sub)`
        : `unmount it and keep its data in active/${n.path} itself`,
  }));
}

/**
 * PGDATA is inside active/, pg_wal is a real directory of the same subvolume — or, with an outside WAL
 * (postgres.walDir), exactly the link `walLink` to active/'s own generation —, tablespaces link inside active/.
 */
export async function checkPgdataFiles(active: string, pgdata: string, walLink: string | null = null): Promise<PreflightProblem[]> {
  const problems: PreflightProblem[] = [];
  const realActive = await realpath(active);
  const realData = await realOrNull(pgdata);
  if (!realData) {
    return [{ what: `PGDATA ${pgdata} does not exist`, fix: 'check postgres.dir in the crypt configuration (it is relative to active/)' }];
  }
  if (!inside(realActive, realData) || realData === realActive) {
    return [{
      what: `PGDATA ${pgdata} resolves to ${realData}, outside active/: the snapshot would not contain the database`,
      fix: `stop PostgreSQL and move the data directory into ${active} (no symlink), then point the server at it`,
    }];
  }
  const dataDev = (await lstat(realData)).dev;
  const wal = path.join(realData, 'pg_wal');
  const walStat = await lstat(wal).catch(() => null);
  if (!walStat) {
    problems.push({ what: `${wal} is missing: this is not a PostgreSQL 10+ data directory`, fix: 'check postgres.dir in the crypt configuration' });
  } else if (walStat.isSymbolicLink() && walLink !== null) {
    const target = await readlink(wal);
    const genStat = target === walLink ? await lstat(walLink).catch(() => null) : null;
    if (target !== walLink) {
      problems.push({
        what: `pg_wal links to ${target}, not to active/'s own WAL generation ${walLink} (postgres.walDir)`,
        fix: 'run `lychd-crypt doctor` and `lychd-crypt repair`',
      });
    } else if (!genStat?.isDirectory()) {
      problems.push({ what: `the live WAL directory ${walLink} is ${genStat ? 'not a directory' : 'missing'}`, fix: 'run `lychd-crypt doctor`; roll back to the newest snapshot if the WAL is lost' });
    }
  } else if (walStat.isSymbolicLink()) {
    const target = await readlink(wal);
    problems.push({
      what: `pg_wal is a symlink to ${target}: the WAL would be missing from (or out of step with) the snapshot`,
      fix: `stop PostgreSQL, then: rm ${wal} && mv ${target} ${wal}, and start it again (the WAL must live inside PGDATA)`,
    });
  } else if (!walStat.isDirectory()) {
    problems.push({ what: `${wal} is not a directory`, fix: 'restore pg_wal as a directory inside PGDATA' });
  } else if (walStat.dev !== dataDev) {
    problems.push({
      what: `pg_wal is a nested subvolume or mount point: the snapshot of active/ would not contain the WAL`,
      fix: `stop PostgreSQL and make ${wal} a plain directory of active/ (copy its contents over, then remove the subvolume or mount)`,
    });
  }
  // Names read as bytes: whoever owns PGDATA can put any name in pg_tblspc, UTF-8 or not.
  const tblspc = Buffer.from(path.join(realData, 'pg_tblspc'));
  const slash = Buffer.from('/');
  for (const entry of await readdir(tblspc, { encoding: 'buffer' }).catch(() => [] as Buffer[])) {
    const link = Buffer.concat([tblspc, slash, entry]);
    const st = await lstat(link).catch(() => null);
    if (!st?.isSymbolicLink()) continue; // an in-place tablespace (a directory in pg_tblspc) is inside PGDATA; gone: nothing to judge
    const target = await realOrNull(link);
    if (!target || !inside(realActive, target)) {
      const to = await readlink(link, { encoding: 'buffer' }).catch(() => null);
      problems.push({
        what: `tablespace ${escapeBytes(entry)} lives at ${to ? escapeBytes(to) : 'an unreadable link'}, outside active/: the snapshot would not contain it`,
        fix: 'move the tablespace into active/ (ALTER TABLE … SET TABLESPACE pg_default, or recreate it under active/) and drop the outside one',
      });
    }
  }
  return problems;
}

/** checkPgdataFiles where PGDATA's owner may look (the owner's user namespace for a container's PGDATA). */
export const pgdataFilesOp = nsOp('preflight-files', (_ctx, active: string, pgdata: string, walLink: string | null = null) => checkPgdataFiles(active, pgdata, walLink));
