// Power cuts inside `rollback` with the live WAL outside the crypt (postgres.walDir, docs/wal.md). The
// rollback writes on two filesystems: the crypt (the swap, the pre-rollback snapshot, pg_wal's link) and
// walDir (a fresh generation filled from the snapshot, the replaced state's WAL kept, the old generation
// dropped). So, as in init.test.ts, logfs serves a whole ext4 "host": the crypt's image, walDir, the
// registry and the journal all live on it, and one log holds every write in the order the disk saw it —
// each replayed flush is a true power-cut state of both. (walDir on the recorded host is on a loop device,
// which walDir's rules refuse for speed alone: LYCHD_CRYPT_WAL_ALLOW_LOOP=1 lets it, docs/powercut.md.)
//
// At each durable state, mounted as boot would (the host, then the crypt by its fstab line): `repair --yes`
// succeeds and doctor is healthy (pg_wal links to active/'s own generation; no stray generation); nothing
// is left over; active/ is wholly the old state (B) or wholly the snapshot's (A), file and rows agreeing;
// once rolled back, the replaced state is kept as a pre-rollback snapshot holding B; PostgreSQL starts on
// the WAL it is given, has every row, and pg_amcheck is clean.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { problems } from '../helpers/doctor.js';
import { PG_BIN } from '../helpers/env.js';
import { runCli, writeAnswers, type CliResult } from '../helpers/init.js';
import { startTestServer, type TestServer } from '../helpers/pg.js';
import { fstabLine, makeRecordedHost, mountReplayed, powercutSkipReason, Recorder, replayStates, unmountCrypt, type MountSpecLine } from '../helpers/powercut.js';
import { dirtyStatesBetween, journalAt, type FlushPoint } from '../helpers/powercut-log.js';
import { cliSuite } from '../helpers/suite.js';
import { activeUuid } from '../helpers/wal.js';
import { checkDatabase, leftovers } from './checks.js';
import { expectOk } from './rig.js';

const skip = powercutSkipReason('root', 'btrfs', 'loop', 'pg15');

describe.skipIf(skip)(`power cut inside rollback, the WAL outside the crypt ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  it('every durable state of crypt and walDir: one whole state, its own WAL, the replaced state kept, the database consistent', async () => {
    const s = await suite.scratch();
    process.env.LYCHD_CRYPT_WAL_ALLOW_LOOP = '1';
    s.defer(() => void delete process.env.LYCHD_CRYPT_WAL_ALLOW_LOOP);
    const { image: hostImg, host, spec: hostSpec } = makeRecordedHost(s, '1200M');
    const crypt = path.join(host, 'crypt');
    const walDir = path.join(host, 'wal');
    const sock = s.path('sock');
    const fstab = path.join(host, 'etc/fstab');
    const answers = writeAnswers(s, {
      crypt: { path: crypt, user: 'root' },
      method: 'loopback',
      loopback: { image: path.join(host, 'images/crypt.img'), size: '700M' },
      persist: { via: 'fstab', fstab, unitDir: path.join(host, 'etc/systemd/system') },
      install: { binDir: path.join(host, 'bin') },
      registry: { dir: path.join(host, 'registry'), state: path.join(host, 'state') },
      postgres: { connection: { host: sock, port: 5432 }, bin: PG_BIN[15], service: { kind: 'pg_ctl' }, walDir },
    });
    const cli = (...args: string[]): CliResult => runCli(suite.bundle, ['--crypt', crypt, ...args]);
    const pgdata = path.join(crypt, 'active/postgres');
    const marker = path.join(crypt, 'active/app/marker.txt');
    const journal = path.join(host, 'state/root/journal.json');

    // Before recording: init, a cluster made with its WAL in active/'s generation, generation A in a
    // snapshot, then generation B live.
    let server!: TestServer;
    let target!: string;
    let cryptSpec!: MountSpecLine;
    {
      const unmountHost = await mountReplayed(hostSpec);
      try {
        expectOk(runCli(suite.bundle, ['init', '--answers', answers, '--yes']), 'init');
        cryptSpec = await fstabLine(fstab, crypt);
        const gen = path.join(walDir, `gen-${activeUuid(path.join(crypt, 'active'))}`);
        server = await startTestServer(s, { version: 15, pgdata, socketDir: sock, initdbArgs: ['--waldir', gen] });
        await server.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
        await server.query("INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g");
        await server.query('CREATE TABLE gen (g text)');
        mkdirSync(path.dirname(marker));
        const setGeneration = async (g: string) => {
          await server.query('DELETE FROM gen');
          await server.query('INSERT INTO gen VALUES ($1)', [g]);
          writeFileSync(marker, g);
        };
        await setGeneration('A');
        target = expectOk(cli('snapshot', '--label', 'base', '--json'), 'snapshot').json.snapshot.name;
        await setGeneration('B');
        server.stop();
        await unmountCrypt(crypt);
      } finally {
        await unmountHost();
      }
    }

    // Record the rollback (the server running: it stops and starts it) on the host served by logfs.
    const recorder = new Recorder(s, hostImg, hostSpec);
    await recorder.start();
    const unmountCryptRec = await mountReplayed(cryptSpec);
    server.start();
    await recorder.mark('op-start');
    // The journal is on the recorded host already; its marks only tell the quick sample where each phase is.
    process.env.LYCHD_CRYPT_JOURNAL_MARKS = recorder.ctl;
    let rolled: CliResult;
    try {
      rolled = cli('rollback', target, '--yes', '--json');
    } finally {
      delete process.env.LYCHD_CRYPT_JOURNAL_MARKS;
    }
    await recorder.mark('op-end');
    expect(rolled.code, rolled.stdout + rolled.stderr).toBe(0);
    server.stop();
    await unmountCryptRec();
    const rec = await recorder.stop();
    const states = dirtyStatesBetween(rec.records, 'op-start', 'op-end');

    const failures: string[] = [];
    // A sample spread evenly over the window (LYCHD_POWERCUT=all: every state; `npm run test:powercut`), plus
    // every state inside the restored database's backup recovery: its label renamed to backup_label.old,
    // pg_control still waiting for the end-of-backup record. A cut there once left a cluster that never
    // started again (src/base/pg/backup-recovery.ts). Only states of phase `kept` (the database starts after
    // it) are looked at, each mounted for a moment.
    const phase = (p: FlushPoint) => (journalAt(rec.records, p.index) as { phase?: string } | null)?.phase;
    const inBackupRecovery = async (p: FlushPoint): Promise<boolean> => {
      if (phase(p) !== 'kept') return false;
      const unmountHost = await mountReplayed(hostSpec);
      try {
        const unmountCrypt_ = await mountReplayed(cryptSpec);
        try {
          if (existsSync(path.join(pgdata, 'backup_label')) || !existsSync(path.join(pgdata, 'backup_label.old'))) return false;
          const control = spawnSync(path.join(PG_BIN[15], 'pg_controldata'), [pgdata], { encoding: 'utf8' }).stdout;
          return /^End-of-backup record required:\s+yes$/m.test(control);
        } finally {
          await unmountCrypt_();
        }
      } finally {
        await unmountHost();
      }
    };
    let risky = 0;
    const addRisky = async (p: FlushPoint): Promise<boolean> => {
      const add = await inBackupRecovery(p);
      if (add) risky++;
      return add;
    };
    const visited = await replayStates(rec, hostImg, states, async (st) => {
      const fail = (m: string) => failures.push(`state ${states.indexOf(st.point) + 1}/${states.length} (flush ${st.point.flush}): ${m}`);
      const unmountHost = await mountReplayed(hostSpec);
      try {
        // Boot: the fstab line mounts the crypt.
        const unmountCrypt_ = await mountReplayed(cryptSpec);
        try {
          const repair = cli('repair', '--yes', '--json');
          if (repair.code !== 0) return void fail(`repair exit ${repair.code}: ${repair.stdout}${repair.stderr}`);
          // Finishing the rollback starts the database it stopped: that must work too.
          const notUp = (JSON.stringify(repair.json ?? {}).match(/PostgreSQL did not come up again[^"]*/) ?? [])[0];
          if (notUp) fail(`repair: ${notUp}`);
          const doctor = cli('doctor', '--json');
          if (doctor.code !== 0) fail(`doctor after repair: ${problems(doctor).join(', ') || doctor.stderr}`);
          const left = leftovers(crypt, journal);
          if (left.length) fail(`left over after repair: ${left.join(', ')}`);
          // pg_wal is the link to active/'s own generation, and that generation is there.
          const own = path.join(walDir, `gen-${activeUuid(path.join(crypt, 'active'))}`);
          const link = readlinkSync(path.join(pgdata, 'pg_wal'));
          if (link !== own || !existsSync(own)) fail(`pg_wal → ${link}, not active/'s own generation ${own}${existsSync(own) ? '' : ' (missing)'}`);
          const generation = existsSync(marker) ? readFileSync(marker, 'utf8') : '(no marker)';
          if (!['A', 'B'].includes(generation)) fail(`active/ holds marker ${generation}`);
          if (generation === 'A') {
            const kept = (cli('list', '--json').json?.snapshots ?? []).filter((x: { origin: string }) => x.origin === 'pre-rollback');
            if (kept.length !== 1) fail(`rolled back, but ${kept.length} pre-rollback snapshots are listed`);
            else {
              const held = readFileSync(path.join(crypt, 'snapshots', kept[0].name, 'app/marker.txt'), 'utf8');
              if (held !== 'B') fail(`the pre-rollback snapshot holds ${held}, not the replaced state B`);
            }
          }
          const db = await checkDatabase(server, async () => {
            const [t] = await server.query<{ n: string; s: string }>('SELECT count(*) AS n, sum(length(v)) AS s FROM t');
            if (t?.n !== '5000' || t?.s !== String(5000 * 200)) return `table t: ${JSON.stringify(t)}`;
            const g = (await server.query<{ g: string }>('SELECT g FROM gen')).map((r) => r.g).join(',');
            return g === generation ? null : `the marker row says ${g}, the marker file ${generation}: active/ is not one whole state`;
          });
          if (db) fail(db);
        } finally {
          if (server.isRunning()) server.stop('immediate');
          await unmountCrypt_();
        }
      } finally {
        await unmountHost();
      }
    }, addRisky);
    console.log(`rollback with walDir (${risky} states inside the database's backup recovery added): ${states.length} durable host states (${rec.records.filter((r) => r.kind === 'flush').length} flushes), replayed ${visited.length}`);
    expect(failures).toEqual([]);
  }, 3_600_000);
});
