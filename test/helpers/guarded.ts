// A crypt with a running PostgreSQL 15 for the crash tests of `run`: the "before" state is the marker file
// `v1` and the rows [A]; each guarded change writes its own marker and row. `crashRun` kills a run at a
// fault point (LYCHD_CRYPT_FAULT), `heal` lets the next command finish what it left, and `expectBefore`
// checks the crypt is back at the before state with the failed state kept where the change had run.
import { expect } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { PG_BIN } from './env.js';
import { sh } from './host.js';
import { cliChild, cryptWithServer, type CliRun } from './snap.js';
import type { CliSuite } from './suite.js';

/** The before state: the marker file `v1` and the rows [A], psql for a change to write its own row. */
export async function markedCrypt(suite: CliSuite) {
  const scratch = await suite.scratch();
  const { fx, server } = await cryptWithServer(scratch, 15);
  const conn = fx.config.postgres!.connection;
  const marker = path.join(fx.paths.active, 'app', 'marker.txt');
  await mkdir(path.dirname(marker));
  await server.query('create table t (v text)');
  await server.query("insert into t values ('A')");
  await writeFile(marker, 'v1');
  const psql = `${path.join(PG_BIN[15], 'psql')} -X -q -h ${conn.host} -p ${conn.port} -U postgres -d postgres`;
  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => cliChild(suite.bundle, fx.root, args, env);
  const rows = async () => (await server.query<{ v: string }>('select v from t order by v')).map((r) => r.v);
  return { scratch, fx, server, marker, psql, cli, rows };
}

export async function guardedCrypt(suite: CliSuite) {
  const { scratch, fx, server, marker, psql, cli, rows } = await markedCrypt(suite);

  /** A change that passes COMMAND (exit 0) and fails its check, so the run goes through every phase. */
  const change = (tag: string) => ['run', '--health-timeout', '1s', '--check', 'false', '--', 'sh', '-c', `echo ${tag} > ${marker} && ${psql} -c "insert into t values ('${tag}')"`];

  /** Runs `args` with the fault point set; it must die by SIGKILL there. */
  async function crash(args: string[], point: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
    const r = await cli(args, { LYCHD_CRYPT_FAULT: point, ...env });
    expect(r.signal, `${point}: exit ${r.code}: ${r.stdout}${r.stderr}`).toBe('SIGKILL');
  }

  /** The next mutating command heals; while an orphaned COMMAND still runs it is busy (exit 4): wait. */
  async function heal(args: string[], what: string): Promise<CliRun> {
    for (let i = 0; ; i++) {
      const r = await cli(args);
      if (r.code !== 4 || i > 100) {
        expect(r.code, `${what} healed by ${args.join(' ')}: ${r.stdout}${r.stderr}`).toBe(0);
        return r;
      }
      await sleep(200);
    }
  }

  /** Pre-rollback snapshots holding the marker `tag`: where a failed (or interrupted) change was kept. */
  const keptWith = (tag: string): string[] =>
    readdirSync(fx.paths.snapshots).filter((n) => /-pre-rollback(-\d+)?$/.test(n) && existsSync(path.join(fx.paths.snapshots, n, 'app/marker.txt')) && readFileSync(path.join(fx.paths.snapshots, n, 'app/marker.txt'), 'utf8') === `${tag}\n`);

  /** The before state, whole: files and rows agree, the server is up out of recovery, nothing is left. */
  async function expectBefore(what: string, tag: string, kept: boolean): Promise<void> {
    expect(await readFile(marker, 'utf8'), what).toBe('v1');
    expect(await rows(), what).toEqual(['A']);
    expect(server.isRunning(), what).toBe(true);
    expect((await server.query<{ r: boolean }>('select pg_is_in_recovery() as r'))[0]!.r, what).toBe(false);
    await expect(readFile(fx.paths.journal, 'utf8'), what).rejects.toThrow();
    expect((await readdir(fx.root)).filter((n) => n.startsWith('.staging')), what).toEqual([]);
    expect(sh(['btrfs', 'subvolume', 'list', '-o', fx.root]), what).not.toMatch(/\.staging/);
    // Where COMMAND had run, its result is kept (once) as a read-only snapshot to inspect.
    expect(keptWith(tag), what).toHaveLength(kept ? 1 : 0);
  }

  return { scratch, fx, server, marker, psql, cli, rows, change, crash, heal, expectBefore, keptWith };
}
