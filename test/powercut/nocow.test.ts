// Power cuts inside repair's nocow rewrite (PGDATA copied without the C attribute, rewritten by
// `repair --yes` with the database running). At each durable state the rewrite could leave: the next
// `repair` heals and says truly whether it finished or undid the rewrite, doctor is healthy, PGDATA is
// wholly the original or wholly the +C copy, no staging copy is left, PostgreSQL starts with every row.
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initCrypt, problems } from '../helpers/doctor.js';
import { PG_BIN } from '../helpers/env.js';
import { sh } from '../helpers/host.js';
import { buildCli } from '../helpers/init.js';
import { startTestServer } from '../helpers/pg.js';
import { Recorder, fstabLine, mountReplayed, powercutSkipReason, replayStates, statesBetween } from '../helpers/powercut.js';
import { makeScratch, type Scratch } from '../helpers/scratch.js';
import { checkDatabase, leftovers } from './checks.js';

const skip = powercutSkipReason('root', 'btrfs', 'loop', 'pg15');

describe.skipIf(skip)(`power cut inside repair's nocow rewrite ${skip ? `(skipped: ${skip})` : ''}`, () => {
  let buildScratch: Scratch;
  let cli: string;
  let scratch: Scratch | undefined;
  beforeAll(async () => {
    buildScratch = await makeScratch();
    cli = buildCli(buildScratch);
  });
  afterAll(async () => {
    await buildScratch?.cleanup();
  });
  afterEach(async () => {
    await scratch?.cleanup();
    scratch = undefined;
  });

  it('every replayed state heals to a whole PGDATA, a true report and no leftovers', async () => {
    scratch = await makeScratch();
    const socketDir = scratch.path('sock');
    const c = await initCrypt(scratch, cli, {
      postgres: { connection: { host: socketDir, port: 5432 }, bin: PG_BIN[15], service: { kind: 'pg_ctl' } },
    });
    const pgdata = path.join(c.crypt, 'active/postgres');
    const server = await startTestServer(scratch, { version: 15, pgdata, socketDir });
    await server.query('CREATE TABLE t (id int PRIMARY KEY, v text)');
    await server.query("INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(1, 5000) g");
    server.stop();
    // PGDATA the way a hand copy leaves it: the same files in a directory without C.
    renameSync(pgdata, `${pgdata}.old`);
    mkdirSync(pgdata);
    sh(['cp', '-a', '--reflink=never', '--', `${pgdata}.old/.`, `${pgdata}/`]);
    rmSync(`${pgdata}.old`, { recursive: true });
    const spec = await fstabLine(c.fstab, c.crypt);
    sh(['umount', c.crypt]);

    const recorder = new Recorder(scratch, c.image, spec);
    await recorder.start();
    server.start();
    expect(problems(c.cli('doctor', '--json'))).toEqual(['pgdata.nocow']);
    await recorder.mark('op-start');
    const repair = c.cli('repair', '--yes', '--json');
    expect(repair.code, repair.stdout + repair.stderr).toBe(0);
    await recorder.mark('op-end');
    server.stop();
    const rec = await recorder.stop();
    const states = statesBetween(rec.records, 'op-start', 'op-end');
    console.log(`nocow rewrite: ${states.length} durable states (${rec.records.filter((r) => r.kind === 'flush').length} flushes in the log)`);

    const hasC = (p: string) => /^\S*C/.test(sh(['lsattr', '-d', p]));
    const failures: string[] = [];
    const visited = await replayStates(rec, c.image, states, async (s) => {
      const where = `state ${s.n}/${s.of} (flush ${s.point.flush})`;
      const unmount = mountReplayed(spec);
      try {
        const before = { swapped: hasC(pgdata), staging: leftovers(c.crypt) };
        const healed = c.cli('repair', '--yes', '--json');
        const said = healed.stdout + healed.stderr;
        if (healed.code !== 0) return void failures.push(`${where}: repair exit ${healed.code}: ${said}`);
        if (/finished \(PGDATA/.test(said) && !before.swapped) failures.push(`${where}: repair said the rewrite finished, but PGDATA was the original`);
        if (/undone \(PGDATA/.test(said) && before.swapped) failures.push(`${where}: repair said the rewrite was undone, but PGDATA was the +C copy`);
        const doctor = c.cli('doctor', '--json');
        if (doctor.code !== 0) failures.push(`${where}: doctor: ${problems(doctor).join(', ')} (before: ${JSON.stringify(before)})`);
        const left = leftovers(c.crypt);
        if (left.length) failures.push(`${where}: left over after repair: ${left.join(', ')} (before: ${JSON.stringify(before)})`);
        if (!hasC(pgdata)) failures.push(`${where}: PGDATA still lacks C after repair`);
        const db = await checkDatabase(server, async () => {
          const rows = await server.query<{ n: string; s: string }>('SELECT count(*) AS n, sum(length(v)) AS s FROM t');
          return rows[0]!.n === '5000' && rows[0]!.s === String(5000 * 200) ? null : `rows ${JSON.stringify(rows[0])}`;
        });
        if (db) failures.push(`${where}: ${db}`);
      } finally {
        unmount();
      }
    });
    console.log(`nocow rewrite: replayed ${visited.length} of ${states.length} states`);
    expect(failures).toEqual([]);
    expect(readdirSync(path.dirname(c.image))).toContain(path.basename(c.image));
  }, 1_800_000);
});
