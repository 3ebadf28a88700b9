// Runs every check that applies, in a fixed order. A check that throws becomes `cannot-check` with the
// reason; checks that need the crypt's filesystem say so while it is unmounted.
import { lockHolder } from '../base/crypt/lock-holder.js';
import { readJournal, UnusableJournalError, type JournalEntry } from '../base/crypt/journal.js';
import { checkActive, checkSnapshots, checkSnapshotsDir, checkStaging, checkStateDir } from './check-layout.js';
import { checkCapacityJournal, checkJournal, checkMigration } from './check-journal.js';
import { checkMounted, checkNative, checkSource } from './check-mount.js';
import { checkIdentity } from './check-identity.js';
import { checkCryptPath } from './check-path.js';
import { checkPersist } from './check-persist.js';
import { checkActiveOwner, checkPgdata } from './check-pgdata.js';
import { checkPgSettings } from './check-pgsettings.js';
import { checkContainer } from './check-container.js';
import { checkPostgresConnect, checkPostgresUser } from './check-postgres.js';
import { checkOutsideWal, checkWalDir } from './check-wal.js';
import { checkNested, checkWal } from './check-snapshotable.js';
import { checkMountRecord } from './check-record.js';
import { checkCodeCache, checkRuntime } from './check-runtime.js';
import { checkReserve } from './check-reserve.js';
import { checkDeviceErrors, checkWritable } from './check-writable.js';
import { checkCryptSpace, checkImageHostSpace, checkSpaceTrend } from './check-space.js';
import { fsReady, notTheCryptFs, type DoctorEnv } from './doctor-env.js';
import { cannotCheck, manual, type Check } from './findings.js';
import { ROOT_ONLY } from './plan.js';
import { rootRepairCommand } from '../base/crypt/access.js';

type Probe = [id: string, run: () => Promise<Check | Check[]>];

async function runProbe([id, run]: Probe): Promise<Check[]> {
  try {
    const r = await run();
    return Array.isArray(r) ? r : [r];
  } catch (e) {
    return [cannotCheck(id, `check failed: ${(e as Error).message.split('\n')[0]}`)];
  }
}

/** The checks on the crypt's own filesystem (only when it is there to look at). */
function fsProbes(env: DoctorEnv, journal: JournalEntry | UnusableJournalError | undefined, holder: number | null): Probe[] {
  const config = env.config!;
  // Leftovers and PGDATA belong to the pending or running operation: an operation in progress (its lock
  // held) is not judged by its half-made state.
  const pending = journal !== undefined || holder !== null;
  return [
    ['mount.errors', () => checkDeviceErrors(env)],
    ['journal.pending', async () => checkJournal(journal, holder)],
    ['journal.migration', () => checkMigration(env.root)],
    ['journal.capacity', () => checkCapacityJournal(config, holder)],
    ['layout.active', () => checkActive(env)],
    ['layout.snapshots', () => checkSnapshotsDir(env)],
    ['layout.state', () => checkStateDir(env)],
    // Leftovers belong to the pending operation until recovery has run.
    ...(!pending ? ([['layout.staging', () => checkStaging(env)], ['snapshots.incomplete', () => checkSnapshots(env)]] as Probe[]) : []),
    ['layout.nested', () => checkNested(env)],
    ['owners.active', () => checkActiveOwner(env)],
    ...(config.postgres && !pending
      ? ([
          ['pgdata.nocow', () => checkPgdata(env)],
          // A container's user is the image's, mapped to a subordinate uid: pgdata.container checks it.
          ...(config.postgres.container ? [] : ([['postgres.user', () => checkPostgresUser(env)]] as Probe[])),
          ['postgres.connect', () => checkPostgresConnect(env)],
          ...(config.postgres.walDir
            ? ([['pgdata.wal', () => checkOutsideWal(env)], ['wal.dir', () => checkWalDir(env)]] as Probe[])
            : ([['pgdata.wal', () => checkWal(env)]] as Probe[])),
          ['pgdata.settings', () => checkPgSettings(env)],
        ] as Probe[])
      : []),
    ...(config.postgres?.container ? ([['pgdata.container', () => checkContainer(env)]] as Probe[]) : []),
    ['space.crypt', () => checkCryptSpace(env)],
    ['space.trend', () => checkSpaceTrend(env)],
    ['space.reserve', () => checkReserve(env)],
  ];
}

export interface CheckOptions {
  /**
   * Only what lies outside the crypt's files (mount, persistence, the installed runtime): what root looks
   * at on a rootless crypt before it drops to the owner for the rest (src/care/root-part.ts).
   */
  hostOnly?: boolean;
}

export async function runChecks(env: DoctorEnv, opts: CheckOptions = {}): Promise<Check[]> {
  return forReader(await runAll(env, opts), env);
}

/**
 * What only root can fix (ROOT_ONLY steps) is, for anyone else (the owner of a rootless crypt), not a step
 * its own repair would try and fail at, but the exact root command to run.
 */
function forReader(checks: Check[], env: DoctorEnv): Check[] {
  if (process.getuid?.() === 0 || !env.config) return checks;
  const sudo = rootRepairCommand(env.config.crypt.name);
  return checks.map((c) =>
    c.steps.some((s) => ROOT_ONLY.includes(s.kind)) ? manual(c.id, c.finding, `only root can ${c.fix && 'repair' in c.fix ? c.fix.repair : 'fix this'}: \`${sudo}\``) : c,
  );
}

async function runAll(env: DoctorEnv, opts: CheckOptions): Promise<Check[]> {
  const checks: Check[] = [];
  const add = async (p: Probe) => checks.push(...(await runProbe(p)));
  await add(['mount.path', () => checkCryptPath(env)]);
  if (!env.config && !env.view) return checks; // no crypt here: nothing else to look at

  const view = env.view;
  if (view) {
    await add(['mount.source', () => checkSource(env, view)]);
    await add(['mount.mounted', () => checkMounted(env, view)]);
    const identity = checkIdentity(env, view);
    if (identity) checks.push(identity);
    if (env.mounted && env.config) await add(['mount.writable', () => checkWritable(env, view)]);
    if (env.mounted || !env.config) await add(['mount.record', () => checkMountRecord(env)]);
    await add(['persist', () => checkPersist(env, view)]);
    if (view.image) await add(['space.host', () => checkImageHostSpace(view.image!)]);
  } else {
    await add(['mount.native', () => checkNative(env)]);
    if (env.config) await add(['mount.writable', () => checkWritable(env, null)]);
  }

  if (fsReady(env) && opts.hostOnly) await add(['runtime.installed', () => checkRuntime(env)]);
  else if (fsReady(env)) {
    // An unusable journal is a finding of its own (journal.pending), with the fix repair applies.
    const journal = await readJournal(env.paths).catch((e: unknown) => (e instanceof UnusableJournalError ? e : undefined));
    const holder = await lockHolder(env.runner, env.paths.lock).catch(() => null);
    for (const p of fsProbes(env, journal, holder)) await add(p);
    await add(['runtime.installed', () => checkRuntime(env)]);
    await add(['runtime.codecache', async () => checkCodeCache()]);
  } else if (notTheCryptFs(env)) {
    checks.push(cannotCheck('layout', `the filesystem mounted at ${env.root} is not the crypt's (see mount.identity): layout, snapshots, attributes, owners, journal, space and runtime are checked once the crypt is mounted`));
  } else {
    checks.push(cannotCheck('layout', 'the crypt is not mounted: layout, snapshots, attributes, owners, journal, space and runtime are checked once it is'));
  }
  return checks;
}

/** A check that could not run is a finding too: doctor never calls a crypt healthy it could not look at. */
export function summarize(checks: Check[]): { healthy: boolean; problems: number; cannotCheck: number } {
  const problems = checks.filter((c) => c.status === 'problem').length;
  const cannotCheck = checks.filter((c) => c.status === 'cannot-check').length;
  return { healthy: problems === 0 && cannotCheck === 0, problems, cannotCheck };
}
