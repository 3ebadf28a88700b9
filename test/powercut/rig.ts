// The shared frame of the power-cut tests: a crypt made by the real `init` (so doctor can call it
// healthy) holding a PostgreSQL 15 cluster with marker rows and a marker file; a recording of one
// operation through logfs; and a replay of each durable state with the checks every state must pass.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initCrypt, problems, type InitCrypt } from '../helpers/doctor.js';
import { PG_BIN } from '../helpers/env.js';
import { sh } from '../helpers/host.js';
import { type CliResult } from '../helpers/init.js';
import { startTestServer, type TestServer } from '../helpers/pg.js';
import { Recorder, umountPatiently, fstabLine, mountReplayed, replayStates, statesBetween, type MountSpecLine, type Recording, type ReplayedState } from '../helpers/powercut.js';
import { journalAt, type FlushPoint } from '../helpers/powercut-log.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';
import { checkDatabase, leftovers } from './checks.js';

/** Where the crypt's journal is: its state directory (root's, in the scratch registry's state dir). */
export const journalFile = (rig: Rig): string => rig.scratch.path(`state/${rig.c.user.name}/journal.json`);

const registryFile = (rig: Rig): string => rig.scratch.path(`registry/${rig.c.user.name}.json`);

async function placeJournal(rig: Rig, journal: unknown): Promise<void> {
  const file = journalFile(rig);
  if (journal === null) await rm(file, { force: true });
  else await writeFile(file, JSON.stringify(journal), { mode: 0o600 });
}

export interface Rig {
  scratch: Scratch;
  /** The crypt's registry entry before the recorded operation. */
  registryBefore?: string;
  c: InitCrypt;
  server: TestServer;
  pgdata: string;
  /** active/app/marker.txt: the generation of the live data, as the rows of table gen say too. */
  marker: string;
  spec: MountSpecLine;
}

/**
 * Registers the suite's hooks (inside a describe): one private build of the CLI, and a scratch
 * directory per test, cleaned up after it. `rig()` makes the test's crypt.
 */
export function powercutSuite(): { rig: () => Promise<Rig> } {
  const suite = cliSuite();
  return { rig: async () => makeRig(await suite.scratch(), suite.bundle) };
}

export async function makeRig(scratch: Scratch, cli: string): Promise<Rig> {
  const socketDir = scratch.path('sock');
  const c = await initCrypt(scratch, cli, {
    postgres: { connection: { host: socketDir, port: 5432 }, bin: PG_BIN[15], service: { kind: 'pg_ctl' } },
  });
  const pgdata = path.join(c.crypt, 'active/postgres');
  const server = await startTestServer(scratch, { version: 15, pgdata, socketDir });
  await server.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
  await server.query("INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g");
  await server.query('CREATE TABLE gen (g text)');
  const marker = path.join(c.crypt, 'active/app/marker.txt');
  await mkdir(path.dirname(marker), { recursive: true });
  const rig = { scratch, c, server, pgdata, marker, spec: await fstabLine(c.fstab, c.crypt) };
  await setGeneration(rig, 'A');
  return rig;
}

/** Moves the live data to generation `g`: the marker file and the marker row together. */
export async function setGeneration(rig: Rig, g: string): Promise<void> {
  await rig.server.query('DELETE FROM gen');
  await rig.server.query('INSERT INTO gen VALUES ($1)', [g]);
  await writeFile(rig.marker, g);
}

export function expectOk(r: CliResult, what: string): CliResult {
  if (r.code !== 0) throw new Error(`${what}: exit ${r.code}: ${r.stdout}${r.stderr}`);
  return r;
}

/**
 * Stops the server, serves the crypt through logfs, starts the server again and records `op` between
 * the marks op-start and op-end. Returns the log and the durable states inside that window.
 */
export async function recordOperation(rig: Rig, op: () => Promise<void>): Promise<{ rec: Recording; states: FlushPoint[] }> {
  if (rig.server.isRunning()) rig.server.stop();
  await umountPatiently(rig.c.crypt);
  const recorder = new Recorder(rig.scratch, rig.c.image, rig.spec);
  await recorder.start();
  rig.server.start();
  // The registry (outside the image) as it was before: each replayed state is paired with it (root records
  // a rollback's new active/ only after the swap is durable, so "registry before, crypt after" is a real state).
  rig.registryBefore = readFileSync(registryFile(rig), 'utf8');
  await recorder.mark('op-start');
  // The journal lives outside the crypt: its changes are marked in the log, to pair with each state.
  process.env.LYCHD_CRYPT_JOURNAL_MARKS = recorder.ctl;
  try {
    await op();
  } finally {
    delete process.env.LYCHD_CRYPT_JOURNAL_MARKS;
  }
  await recorder.mark('op-end');
  if (rig.server.isRunning()) rig.server.stop();
  const rec = await recorder.stop();
  return { rec, states: statesBetween(rec.records, 'op-start', 'op-end') };
}

export interface StateView<B> {
  where: string;
  state: ReplayedState;
  /** What the test read from the replayed state before repair touched it. */
  before: B;
  repair: CliResult;
}

/**
 * Replays each durable state (a sample unless LYCHD_POWERCUT=all), mounted as boot would mount it, and
 * checks: `repair --yes` succeeds, then doctor is healthy; no staging copy or journal is left; every
 * listed snapshot is read-only and holds the marker; the marker file and marker row agree (wholly one
 * generation, one of `generations`); PostgreSQL starts, every row of t is there, pg_amcheck is clean.
 * `inspect` reads facts before repair, `judge` adds the test's own findings. Returns every failure.
 */
export async function replayAndCheck<B>(
  rig: Rig,
  rec: Recording,
  states: FlushPoint[],
  opts: {
    generations: string[];
    inspect?: () => Promise<B> | B;
    judge?: (v: StateView<B>) => string[] | Promise<string[]>;
    /** Adds to the quick sample every state whose journal this accepts (read from the log's journal marks). */
    journalProbe?: (journal: { op: string; phase: string } | null) => boolean;
    /** More of the database to check, with the server up (null: right, else what is wrong). */
    data?: () => Promise<string | null>;
  },
): Promise<{ failures: string[]; visited: number }> {
  const failures: string[] = [];
  const visited = await replayStates(rec, rig.c.image, states, async (state) => {
    const where = `state ${state.n}/${state.of} (flush ${state.point.flush})`;
    const fail = (m: string) => failures.push(`${where}: ${m}`);
    // The state directory (on the host, outside the image) holds the journal as it was at this flush.
    await placeJournal(rig, journalAt(rec.records, state.point.index));
    if (rig.registryBefore) await writeFile(registryFile(rig), rig.registryBefore);
    const unmount = await mountReplayed(rig.spec);
    try {
      const before = (await opts.inspect?.()) as B;
      const repair = rig.c.cli('repair', '--yes', '--json');
      if (repair.code !== 0) return void fail(`repair exit ${repair.code}: ${repair.stdout}${repair.stderr}`);
      const doctor = rig.c.cli('doctor', '--json');
      if (doctor.code !== 0) fail(`doctor after repair: ${problems(doctor).join(', ') || doctor.stderr}`);
      const left = leftovers(rig.c.crypt, journalFile(rig));
      if (left.length) fail(`left over after repair: ${left.join(', ')}`);
      for (const m of snapshotProblems(rig)) fail(m);
      const generation = existsSync(rig.marker) ? readFileSync(rig.marker, 'utf8') : '(no marker)';
      if (!opts.generations.includes(generation)) fail(`active/ holds marker ${generation}, expected one of ${opts.generations.join(', ')}`);
      for (const m of (await opts.judge?.({ where, state, before, repair })) ?? []) fail(m);
      const db = await checkDatabase(rig.server, async () => {
        const [t] = await rig.server.query<{ n: string; s: string }>('SELECT count(*) AS n, sum(length(v)) AS s FROM t');
        if (t?.n !== '5000' || t?.s !== String(5000 * 200)) return `table t: ${JSON.stringify(t)}`;
        const g = (await rig.server.query<{ g: string }>('SELECT g FROM gen')).map((r) => r.g).join(',');
        if (g !== generation) return `the marker row says ${g}, the marker file ${generation}: active/ is not one whole state`;
        return (await opts.data?.()) ?? null;
      });
      if (db) fail(db);
    } finally {
      // A failed check may leave the server repair started; it must not hold the mount.
      if (rig.server.isRunning()) rig.server.stop('immediate');
      await unmount();
    }
  }, opts.journalProbe && (async (point) => opts.journalProbe!(journalAt(rec.records, point.index) as { op: string; phase: string } | null)));
  return { failures, visited: visited.length };
}

/** Every snapshot `list` shows is a read-only subvolume holding the marker file. */
function snapshotProblems(rig: Rig): string[] {
  const list = rig.c.cli('list', '--json');
  if (list.code !== 0) return [`list: exit ${list.code}: ${list.stderr}`];
  const entries: { name: string }[] = list.json?.snapshots ?? list.json ?? [];
  const out: string[] = [];
  for (const { name } of entries) {
    const dir = path.join(rig.c.crypt, 'snapshots', name);
    const ro = sh(['btrfs', 'property', 'get', '-ts', dir, 'ro']).trim();
    if (ro !== 'ro=true') out.push(`snapshot ${name}: ${ro}`);
    if (!existsSync(path.join(dir, 'app/marker.txt'))) out.push(`snapshot ${name}: no marker file (incomplete)`);
  }
  return out;
}
