// `verify`: restore-test one snapshot without touching it or active/. A writable Btrfs clone of the
// snapshot (instant, on the crypt), then PostgreSQL started on it as the live one would start after a
// rollback: crash recovery from the snapshot's WAL — by postgres.bin's pg_ctl, or for a cluster in the owner's
// container by a container of the same image (runtime/verify/clone-container.ts). Then checks, then the clone
// is stopped and deleted.
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { showing, type OpContext } from '../../base/context.js';
import { findAmcheck, noAmcheckDetail } from './amcheck-path.js';
import { CryptError } from '../../base/errors.js';
import { asUser, type RunResult } from '../../base/runner.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
import { subvolumeDelete, subvolumeSnapshot } from '../../base/btrfs/subvolume.js';
import { resolvePgBin, pgProgram } from '../../base/pg/bin.js';
import { snapshotPath, type SnapshotMeta } from '../snapshots/meta.js';
import { startCloneServer, type CloneServer } from './clone-server.js';
import { removeClone, removeVerifyLeftovers, VERIFY_PREFIX } from './leftovers.js';
import { couldNotRun, couldNotRunError, type CouldNotRun } from './could-not-run.js';
import { cleanupOnSignal } from './on-signal.js';
import { faultPoint } from '../../base/fault.js';
import { onTree } from '../../base/userns/tree.js';
import { startCloneContainer, type CloneContainer } from './clone-container.js';
import { cleanCloneOp, cloneImage, cloneVersionOp } from './clone-files.js';
import { staleFilesFor } from '../rollback/staging.js';
import { Phases } from '../../base/phases.js';

export interface VerifyCheck {
  name: string;
  ok: boolean | null; // null: skipped
  detail: string;
}

export interface VerifyReport {
  name: string;
  ok: boolean;
  checks: VerifyCheck[];
  timings: Record<string, number>;
  /** Set when the test could not run here (no space, read-only, a permission): the snapshot was not judged. */
  couldNotRun?: CouldNotRun;
}

async function serverMajor(runner: OpContext['runner'], binDir: string): Promise<number | null> {
  const r = await runner.run([pgProgram(binDir, 'postgres'), '--version'], { allowFailure: true });
  const m = /(\d+)(?:\.\d+)?/.exec(r.stdout);
  return m ? Number(m[1]) : null;
}

export interface VerifyOptions {
  /** The image to verify a container's snapshot with when the container and its image are gone. */
  image?: string;
}

export async function verifySnapshot(crypt: OpenCrypt, ctx: OpContext, meta: SnapshotMeta, opts: VerifyOptions = {}): Promise<VerifyReport> {
  const checks: VerifyCheck[] = [];
  const phases = new Phases();
  const timings = phases.timings;
  const timed = <T>(name: string, fn: () => Promise<T>): Promise<T> => phases.run(name, fn);
  const pgcfg = crypt.config.postgres;
  const source = snapshotPath(crypt.paths, meta.name);
  if (!pgcfg || !meta.postgres) {
    // Nothing to start: the restore test is that the snapshot's tree can be read.
    const entries = await timed('read', () => readdir(source));
    checks.push({ name: 'readable', ok: true, detail: `the snapshot is readable (${entries.length} top-level entries)` });
    checks.push({ name: 'postgres', ok: null, detail: 'no database to verify (no database in this snapshot, mode none): nothing to start' });
    return { name: meta.name, ok: true, checks, timings };
  }
  for (const line of await removeVerifyLeftovers(ctx.runner, crypt.paths.root, pgcfg.dir, Boolean(pgcfg.container))) ctx.log.info(line);
  // A container's cluster is verified by a container of the same image; a host cluster by the programs in postgres.bin.
  const boxed = pgcfg.container ? await cloneImage(ctx, pgcfg, opts.image) : null;
  const bin = boxed ? null : await resolvePgBin(pgcfg.bin, ctx.env);
  const owner = { uid: pgcfg.uid, gid: pgcfg.gid };
  const clone = path.join(crypt.paths.root, `${VERIFY_PREFIX}${randomUUID().slice(0, 8)}`);
  const pgdata = path.join(clone, pgcfg.dir);
  let server: CloneServer | CloneContainer | undefined;
  let superuser = pgcfg.connection.user;
  // The check a thrown error is reported under: the report names the step that failed, not just "start".
  let stage = 'pgdata';
  let couldNot: CouldNotRun | undefined;
  const guard = cleanupOnSignal([async () => server?.stop(), async () => removeClone(ctx.runner, clone, pgcfg.dir)]);
  try {
    await timed('clone', () => subvolumeSnapshot(source, clone, { readonly: false }));
  } catch (e) {
    guard.remove();
    const c = couldNotRun(e);
    throw c ? couldNotRunError(meta.name, c, e) : e;
  }
  try {
    // The clone's contents are its user's: checked and prepared through fds, without following links, where
    // PGDATA's owner may (runtime/verify/clone-files.ts).
    const versionText = await onTree(clone, ctx.runner, cloneVersionOp, clone, pgcfg.dir);
    const major = Number(versionText?.trim());
    if (!versionText || !Number.isInteger(major)) {
      throw new CryptError(`the snapshot holds no PostgreSQL cluster at ${pgcfg.dir}/ (PG_VERSION ${versionText === null ? 'missing' : 'unreadable'})`);
    }
    stage = 'version';
    if (bin) {
      const binMajor = await serverMajor(ctx.runner, bin);
      if (binMajor !== major) {
        throw new CryptError(`the snapshot holds a PostgreSQL ${major} cluster, but ${bin} has PostgreSQL ${binMajor ?? 'unknown'}`, {
          hint: 'Point postgres.bin at the matching version to verify this snapshot.',
        });
      }
    }
    stage = 'start';
    if (await onTree(clone, ctx.runner, cleanCloneOp, clone, pgcfg.dir, owner, staleFilesFor(meta))) {
      checks.push({ name: 'config', ok: null, detail: 'no postgresql.conf in PGDATA (configuration kept elsewhere): the clone ran on defaults' });
    }
    server = await timed('recovery', () =>
      showing(ctx, 'starting PostgreSQL on the clone (crash recovery)', () => boxed ? startCloneContainer(ctx.runner, { ...boxed, pgdata, major }, ctx.env) : startCloneServer(ctx.runner, bin!, pgdata, owner, major)),
    );
    if (boxed) checks.push({ name: 'image', ok: null, detail: `the clone ran in a container of ${boxed.shown}` });
    checks.push({ name: 'start', ok: true, detail: 'the clone started and finished crash recovery' });
    faultPoint('verify:after-start');

    stage = 'query';
    const client = new pg.Client({ host: server.socketDir, port: server.port, user: pgcfg.connection.user, database: pgcfg.connection.database });
    client.on('error', () => {});
    await client.connect();
    try {
      const [row] = (
        await client.query<{ rec: boolean; sysid: string; v: string; dbs: string }>(
          `select pg_is_in_recovery() as rec, (select system_identifier::text from pg_control_system()) as sysid,
                  current_setting('server_version_num') as v,
                  (select string_agg(datname, ',' order by datname) from pg_database where datallowconn) as dbs`,
        )
      ).rows;
      // The clone trusts its private socket, so the checks run as the bootstrap superuser (oid 10):
      // pg_amcheck and every database must be reachable even when the configured user is not a superuser.
      superuser = (await client.query<{ r: string }>('select rolname as r from pg_roles where oid = 10')).rows[0]!.r;
      checks.push({ name: 'recovered', ok: row!.rec === false, detail: row!.rec ? 'still in recovery' : 'pg_is_in_recovery() is false' });
      const rp = meta.postgres.wal?.restorePoint;
      if (rp) checks.push(await restorePointCheck(server, rp));
      const same = !meta.postgres.systemIdentifier || meta.postgres.systemIdentifier === row!.sysid;
      checks.push({ name: 'system-identifier', ok: same, detail: same ? `system identifier ${row!.sysid}` : `system identifier ${row!.sysid}, metadata says ${meta.postgres.systemIdentifier}` });
      const dbs = (row!.dbs ?? '').split(',').filter(Boolean);
      await timed('query', async () => {
        for (const db of dbs) {
          const c = new pg.Client({ host: server!.socketDir, port: server!.port, user: superuser, database: db });
          c.on('error', () => {});
          await c.connect();
          try {
            await c.query('select count(*) from pg_class');
          } finally {
            await c.end();
          }
        }
      });
      checks.push({ name: 'query', ok: true, detail: `queried ${dbs.length} database(s): ${dbs.join(', ')}` });
    } finally {
      await client.end().catch(() => {});
    }

    stage = 'amcheck';
    checks.push(await runAmcheck(ctx, server, bin, major, superuser, owner, timed));
  } catch (e) {
    const tail = server ? await server.logTail() : '';
    const detail = `${(e as Error).message}${tail && !(e as Error).message.includes(tail) ? `\n${tail}` : ''}`;
    const c = couldNotRun(e) ?? couldNotRun(new Error(detail));
    if (c) couldNot = c;
    checks.push({ name: stage, ok: c ? null : false, detail: c ? `could not run here: ${detail}` : detail });
  } finally {
    await guard.settle(); // a signal's cleanup owns the clone now: do not race it
    await server?.stop();
    await timed('cleanup', () => subvolumeDelete(ctx.runner, clone)).catch((e) => {
      ctx.log.warn(`could not delete the verify clone ${clone}: ${(e as Error).message}; \`lychd-crypt repair\` removes it`);
    });
    guard.remove();
  }
  return { name: meta.name, ok: checks.every((c) => c.ok !== false) && !couldNot, checks, timings, ...(couldNot ? { couldNotRun: couldNot } : {}) };
}

/** pg_amcheck on the clone: the image's (a container's cluster), else the one beside postgres.bin. */
async function runAmcheck(
  ctx: OpContext,
  server: CloneServer | CloneContainer,
  bin: string | null,
  major: number,
  superuser: string,
  owner: { uid: number; gid: number },
  timed: <T>(name: string, fn: () => Promise<T>) => Promise<T>,
): Promise<VerifyCheck> {
  // --install-missing only changes the throwaway clone.
  const args = ['-U', superuser, '--all', '--install-missing', '--heapallindexed'];
  let r: RunResult | null;
  let what: string;
  if ('amcheck' in server) {
    what = "the image's pg_amcheck";
    r = await timed('amcheck', () => showing(ctx, 'pg_amcheck: checking every table and index of the clone (in its container)', () => server.amcheck(args)));
    if (!r) return { name: 'amcheck', ok: null, detail: 'skipped: the image has no pg_amcheck (it ships with PostgreSQL 14 and later)' };
  } else {
    const found = await findAmcheck(bin!, major);
    const amcheck = found.path;
    if (!amcheck) return { name: 'amcheck', ok: null, detail: noAmcheckDetail(found.looked, major) };
    what = amcheck;
    r = await timed('amcheck', () =>
      showing(ctx, `pg_amcheck: checking every table and index of the clone (${amcheck})`, () =>
        ctx.runner.run(asUser(owner, [amcheck, '-h', server.socketDir, '-p', String(server.port), ...args]), { allowFailure: true, cwd: '/' }),
      ),
    );
  }
  const out = `${r.stdout}${r.stderr}`.trim();
  if (r.exitCode === 0) return { name: 'amcheck', ok: true, detail: `pg_amcheck --all --heapallindexed found no corruption (${what})` };
  if (/extension control file|could not open extension/i.test(out)) return { name: 'amcheck', ok: null, detail: 'skipped: the amcheck extension is not installed for this PostgreSQL (postgresql-contrib)' };
  return { name: 'amcheck', ok: false, detail: `pg_amcheck reported problems:\n${out.split('\n').slice(0, 20).join('\n')}` };
}

/**
 * A snapshot that carries its own WAL copy (postgres.walDir, docs/wal.md) restores to the backup's stop LSN:
 * the clone's log says where it became consistent. Not said (another log level): not judged.
 */
async function restorePointCheck(server: { logTail(lines?: number): Promise<string> }, rp: string): Promise<{ name: string; ok: boolean | null; detail: string }> {
  const at = /consistent recovery state reached at ([0-9A-F]+\/[0-9A-F]+)/.exec(await server.logTail(400).catch(() => ''))?.[1] ?? null;
  if (!at) return { name: 'restore-point', ok: null, detail: `the clone's log does not say where it became consistent (the restore point is the stop LSN ${rp})` };
  return { name: 'restore-point', ok: at === rp, detail: at === rp ? `consistent at ${at}, the backup's stop LSN` : `consistent at ${at}, not at the backup's stop LSN ${rp}` };
}
