// `verify`: restore-test one snapshot without touching it or active/. A writable Btrfs clone of the
// snapshot (instant, on the crypt), then PostgreSQL started on it as the live one would start after a
// rollback: crash recovery from the snapshot's WAL. Then checks, then the clone is stopped and deleted.
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { exists } from '../../base/sys/fs.js';
import { readTextSafely } from '../../base/sys/read-file.js';
import path from 'node:path';
import pg from 'pg';
import { showing, type OpContext } from '../../base/context.js';
import { findAmcheck, noAmcheckDetail } from './amcheck-path.js';
import { CryptError } from '../../base/errors.js';
import { asUser } from '../../base/runner.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
import { subvolumeDelete, subvolumeSnapshot } from '../../base/btrfs/subvolume.js';
import { resolvePgBin, pgProgram } from '../../base/pg/bin.js';
import { snapshotPath, type SnapshotMeta } from '../snapshots/meta.js';
import { startCloneServer, type CloneServer } from './clone-server.js';
import { removeClone, removeVerifyLeftovers, VERIFY_PREFIX } from './leftovers.js';
import { couldNotRun, couldNotRunError, type CouldNotRun } from './could-not-run.js';
import { cleanupOnSignal } from './on-signal.js';
import { faultPoint } from '../../base/fault.js';
import { closeDir, createFileAt, NotFollowedError, openDir, unlinkAt } from '../../base/sys/fd.js';
import { lockClone } from '../rollback/staging.js';
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

/** Files that would make the clone start as a standby, or wait for archived WAL: never wanted here. */
const RECOVERY_FILES = ['postmaster.pid', 'recovery.signal', 'standby.signal', 'backup_label', 'tablespace_map'];

async function serverMajor(runner: OpContext['runner'], binDir: string): Promise<number | null> {
  const r = await runner.run([pgProgram(binDir, 'postgres'), '--version'], { allowFailure: true });
  const m = /(\d+)(?:\.\d+)?/.exec(r.stdout);
  return m ? Number(m[1]) : null;
}

export async function verifySnapshot(crypt: OpenCrypt, ctx: OpContext, meta: SnapshotMeta): Promise<VerifyReport> {
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
  for (const line of await removeVerifyLeftovers(ctx.runner, crypt.paths.root, pgcfg.dir)) ctx.log.info(line);
  const bin = await resolvePgBin(pgcfg.bin, ctx.env);
  const owner = { uid: pgcfg.uid, gid: pgcfg.gid };
  const clone = path.join(crypt.paths.root, `${VERIFY_PREFIX}${randomUUID().slice(0, 8)}`);
  const pgdata = path.join(clone, pgcfg.dir);
  let server: CloneServer | undefined;
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
    // The clone's contents are its user's: check and prepare PGDATA through fds, without following links,
    // while the clone is root's alone (see runtime/rollback/staging.ts); postgres gets it back to start on it.
    const locked = await lockClone(clone);
    let major: number;
    try {
      const dir = await openDir(pgcfg.dir, locked.dir).catch((e: unknown) => {
        if (e instanceof NotFollowedError) throw new CryptError(`the snapshot's PGDATA ${pgcfg.dir}/ is a symbolic link or leads through one; it is not followed`);
        return null;
      });
      try {
        const versionText = dir ? ((await readTextSafely({ dir, name: 'PG_VERSION' }, { maxBytes: 64 }).catch(() => null)) ?? null) : null;
        major = Number(versionText?.trim());
        if (!dir || !versionText || !Number.isInteger(major)) {
          throw new CryptError(`the snapshot holds no PostgreSQL cluster at ${pgcfg.dir}/ (PG_VERSION ${versionText === null ? 'missing' : 'unreadable'})`);
        }
        stage = 'version';
        const binMajor = await serverMajor(ctx.runner, bin);
        if (binMajor !== major) {
          throw new CryptError(`the snapshot holds a PostgreSQL ${major} cluster, but ${bin} has PostgreSQL ${binMajor ?? 'unknown'}`, {
            hint: 'Point postgres.bin at the matching version to verify this snapshot.',
          });
        }
        stage = 'start';
        for (const f of RECOVERY_FILES) await unlinkAt(dir, f);
        // Debian-style clusters keep their configuration in /etc (config_file=…), not in PGDATA. The clone
        // then starts on defaults plus our settings: that is enough to prove the data recovers.
        if (!(await exists(path.join(dir.anchor, 'postgresql.conf')))) {
          await createFileAt(dir, 'postgresql.conf', '', 0o600, owner);
          checks.push({ name: 'config', ok: null, detail: 'no postgresql.conf in PGDATA (configuration kept elsewhere): the clone ran on defaults' });
        }
      } finally {
        await closeDir(dir);
      }
    } finally {
      await locked.release();
    }
    server = await timed('recovery', () => showing(ctx, 'starting PostgreSQL on the clone (crash recovery)', () => startCloneServer(ctx.runner, bin, pgdata, owner, major)));
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
    const found = await findAmcheck(bin, major);
    const amcheck = found.path;
    if (amcheck) {
      // --install-missing only changes the throwaway clone.
      const r = await timed('amcheck', () =>
        showing(ctx, `pg_amcheck: checking every table and index of the clone (${amcheck})`, () =>
          ctx.runner.run(
            asUser(owner, [amcheck, '-h', server!.socketDir, '-p', String(server!.port), '-U', superuser, '--all', '--install-missing', '--heapallindexed']),
            { allowFailure: true, cwd: '/' },
          ),
        ),
      );
      const out = `${r.stdout}${r.stderr}`.trim();
      if (r.exitCode === 0) checks.push({ name: 'amcheck', ok: true, detail: `pg_amcheck --all --heapallindexed found no corruption (${amcheck})` });
      else if (/extension control file|could not open extension/i.test(out)) checks.push({ name: 'amcheck', ok: null, detail: 'skipped: the amcheck extension is not installed for this PostgreSQL (postgresql-contrib)' });
      else checks.push({ name: 'amcheck', ok: false, detail: `pg_amcheck reported problems:\n${out.split('\n').slice(0, 20).join('\n')}` });
    } else {
      checks.push({ name: 'amcheck', ok: null, detail: noAmcheckDetail(found.looked, major) });
    }
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
