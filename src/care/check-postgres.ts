// postgres.user and postgres.connect: the registered PostgreSQL OS user, its uid and PGDATA's owner agree
// (an entry whose name says one account and whose uid says another would have every later step act on the
// wrong one), and the database answers as the registry says to connect (host, port, role, database). Names
// are printed with the numbers they stand for, taken from the passwd database — never a name for a uid
// that belongs to someone else.
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { connectPostgres } from '../base/pg/connect.js';
import { readPostmaster } from '../base/pg/postmaster.js';
import type { Runner } from '../base/runner.js';
import type { DoctorEnv } from './doctor-env.js';
import { manual, ok, type Check } from './findings.js';

/** `name (uid N)` from the passwd database; `uid N (no account)` when no account has it. */
export async function nameOfUid(runner: Runner, uid: number): Promise<string> {
  const r = await runner.run(['getent', 'passwd', String(uid)], { allowFailure: true });
  const name = r.exitCode === 0 ? r.stdout.split(':')[0] : undefined;
  return name ? `${name} (uid ${uid})` : `uid ${uid} (no account)`;
}

/** The uid of an account name (a numeric osUser is its own uid); null when there is no such account. */
async function uidOfName(runner: Runner, name: string): Promise<number | null> {
  if (/^\d+$/.test(name)) return Number(name);
  const r = await runner.run(['getent', 'passwd', name], { allowFailure: true });
  const uid = r.exitCode === 0 ? Number(r.stdout.split(':')[2]) : NaN;
  return Number.isInteger(uid) ? uid : null;
}

const FIX = 'correct the registry with `lychd-crypt init` as root (its questions start from the registered values: answer the PostgreSQL OS user), then `lychd-crypt repair`';

export async function checkPostgresUser(env: DoctorEnv): Promise<Check> {
  const id = 'postgres.user';
  const pg = env.config!.postgres!;
  const byName = await uidOfName(env.runner, pg.osUser);
  const registered = await nameOfUid(env.runner, pg.uid);
  if (byName === null) return manual(id, `postgres.osUser is ${pg.osUser}, but no account has that name (the registry records ${registered})`, FIX);
  if (byName !== pg.uid) {
    return manual(id, `postgres.osUser is ${pg.osUser} (uid ${byName}), but the registry records the uid of ${registered}: the entry contradicts itself`, FIX);
  }
  const st = await lstat(path.join(env.paths.active, pg.dir)).catch(() => null);
  if (st && st.uid !== pg.uid) {
    // owners.pgdata says what repair would chown; here: who it belongs to, by name.
    return manual(id, `PGDATA belongs to ${await nameOfUid(env.runner, st.uid)}, not to the registered ${registered}`, `if the database runs as ${await nameOfUid(env.runner, st.uid)}, ${FIX}; if not, \`lychd-crypt repair\` gives PGDATA back to ${pg.osUser}`);
  }
  return ok(id, `PostgreSQL's OS user ${registered} is the registered one${st ? ' and owns PGDATA' : ''}`);
}

/** Only a running server is asked (a stopped one is db status's business, not a problem of the crypt). */
export async function checkPostgresConnect(env: DoctorEnv): Promise<Check[]> {
  const id = 'postgres.connect';
  const pg = env.config!.postgres!;
  const pm = await readPostmaster(path.join(env.paths.active, pg.dir)).catch(() => null);
  if (!pm?.running) return [];
  const n = pg.connection;
  const where = `${n.host}${n.host.startsWith('/') ? ` port ${n.port}` : `:${n.port}`}, role ${n.user}, database ${n.database}`;
  try {
    const client = await connectPostgres(pg, { applicationName: 'lychd-crypt doctor', connectTimeoutMs: 3000 });
    await client.end().catch(() => {});
    return [ok(id, `PostgreSQL answers as configured (${where})`)];
  } catch (e) {
    const err = e as Error & { hint?: string };
    return [manual(id, `PostgreSQL runs but does not answer as configured (${where}): ${(err.cause as Error | undefined)?.message ?? err.message}`, err.hint ?? FIX)];
  }
}
