// The space reserve on a small real crypt (256 MiB): snapshots are taken until the reserve refuses one
// (exit 3, with the numbers) — PostgreSQL, idle or under pgbench, never crashes because of a lychd-crypt
// command; doctor's space.reserve turns BAD at the same point; verify and rollback refuse there too.
import { describe, expect, test } from 'vitest';
import { spawn, execFileSync } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import { sh } from '../helpers/host.js';
import path from 'node:path';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { cli, cryptWithServer } from '../helpers/snap.js';
import type { TestServer } from '../helpers/pg.js';

const scratches = scratchSuite();
let scratch: Scratch | undefined;

const skip = skipReason('root', 'btrfs', 'loop', 'pg15', 'pgbench');
// Small WAL so a fresh cluster fits a 256 MiB crypt with room for a few snapshots.
const CONF = ['min_wal_size = 32MB', 'max_wal_size = 64MB', 'restart_after_crash = on'];

function postmasterPid(server: TestServer): Promise<number> {
  return readFile(path.join(server.pgdata, 'postmaster.pid'), 'utf8').then((t) => Number(t.split('\n')[0]));
}

/** The server's log, where a PANIC or a crash-restart would show. */
async function serverLog(scratchDir: string): Promise<string> {
  return readFile(path.join(scratchDir, 'pg15-5432.log'), 'utf8').catch(() => '');
}

async function snapshotsUntilRefused(root: string, max: number): Promise<{ taken: number; refusal: { code: number; stderr: string; json: any } }> {
  for (let taken = 0; taken < max; taken++) {
    const r = await cli(root, ['--json', 'snapshot']);
    if (r.code === 0) continue;
    return { taken, refusal: r };
  }
  throw new Error(`${max} snapshots were all taken: the crypt never got full`);
}

describe.skipIf(skip)(`space reserve on a 256 MiB crypt ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('idle database: snapshots until the reserve refuses; PostgreSQL keeps running; doctor agrees', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15, { conf: CONF, fixture: { sizeMiB: 256 } });
    await server.query('create table t as select g as id, repeat(md5(g::text), 20) as pad from generate_series(1, 20000) g');
    const pid = await postmasterPid(server);

    const { taken, refusal } = await snapshotsUntilRefused(fx.root, 40);
    if (process.env.SPACE_DEBUG) console.info(`taken ${taken}: ${refusal.stderr}`);
    expect(refusal.code, refusal.stderr).toBe(3);
    expect(refusal.stderr).toMatch(/not enough free space for a snapshot: it writes about .*MiB.* must stay free after it .*usable now: .*Nothing was changed/s);
    expect(refusal.stderr).not.toMatch(/\n\s+at /);
    expect(refusal.json.error.hint).toMatch(/prune/);
    expect(taken).toBeGreaterThan(0);

    // The database never noticed.
    expect(await postmasterPid(server)).toBe(pid);
    expect((await server.query('select count(*)::int as n from t'))[0]!.n).toBe(20000);
    await server.query('insert into t values (-1, $1)', ['still writable']);
    expect(await serverLog(scratch.dir)).not.toMatch(/PANIC|terminated by signal|server process .* was terminated/);

    const doctor = await cli(fx.root, ['--json', 'doctor']);
    const reserve = doctor.json.checks.find((c: { id: string }) => c.id === 'space.reserve');
    expect(reserve.status, reserve.finding).toBe('problem');
    expect(doctor.code).toBe(1);

    const name = (await cli(fx.root, ['--json', 'list'])).json.snapshots[0].name as string;
    const verify = await cli(fx.root, ['verify', name]);
    expect(verify.code, verify.stderr).toBe(3);
    expect(verify.stderr).toMatch(/not enough free space for a verify clone/);
    const rollback = await cli(fx.root, ['rollback', name, '--yes']);
    expect(rollback.code, rollback.stderr).toBe(3);
    expect(await postmasterPid(server)).toBe(pid);

    // Deleting snapshots makes room again, and doctor says so.
    const names = (await cli(fx.root, ['--json', 'list'])).json.snapshots.map((s: { name: string }) => s.name) as string[];
    expect((await cli(fx.root, ['delete', ...names, '--yes'])).code).toBe(0);
    execFileSync('btrfs', ['filesystem', 'sync', fx.root]);
    const healed = await cli(fx.root, ['--json', 'doctor']);
    expect(healed.json.checks.find((c: { id: string }) => c.id === 'space.reserve').status).toBe('ok');
    expect((await cli(fx.root, ['snapshot'])).code).toBe(0);
  });

  test('under pgbench: every snapshot either succeeds or is refused; PostgreSQL never crashes', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15, { conf: CONF, fixture: { sizeMiB: 256 } });
    const conn = ['-h', server.socketDir, '-p', String(server.port), '-U', 'postgres'];
    execFileSync(path.join(PG_BIN[15], 'pgbench'), ['-i', '-s', '2', '-q', ...conn, 'postgres'], { stdio: 'ignore' });
    const pid = await postmasterPid(server);
    let out = '';
    const bench = spawn(path.join(PG_BIN[15], 'pgbench'), ['-c', '2', '-j', '1', '-T', '600', '--no-vacuum', ...conn, 'postgres']);
    bench.stdout.on('data', (d) => (out += String(d)));
    bench.stderr.on('data', (d) => (out += String(d)));
    const benchDone = new Promise<number>((resolve) => bench.on('close', (code) => resolve(code ?? -1)));
    try {
      const { taken, refusal } = await snapshotsUntilRefused(fx.root, 60);
      if (process.env.SPACE_DEBUG) console.info(`taken ${taken}: ${refusal.stderr}`);
    expect(refusal.code, refusal.stderr).toBe(3);
      expect(refusal.stderr).toMatch(/not enough free space for a snapshot/);
      expect(taken).toBeGreaterThan(0);
      expect(await postmasterPid(server)).toBe(pid);
    } finally {
      bench.kill('SIGINT');
    }
    await benchDone;
    expect(out).not.toMatch(/PANIC|terminating connection because of crash|server closed the connection unexpectedly/);
    expect(await serverLog(scratch.dir)).not.toMatch(/PANIC|was terminated by signal/);
    expect(await postmasterPid(server)).toBe(pid);
  });

  test('loopback: a host with less room than the sparse image may still take caps the usable space', async () => {
    scratch = await scratches.scratch();
    const host = scratch.path('host');
    await mkdir(host);
    sh(['mount', '-t', 'tmpfs', '-o', 'size=220M', 'tmpfs', host]);
    scratch.defer(() => void sh(['umount', '-l', host]));
    const { fx, server } = await cryptWithServer(scratch, 15, { conf: CONF, fixture: { sizeMiB: 512, image: path.join(host, 'crypt.img') } });
    const pid = await postmasterPid(server);
    // Leave the host about 60 MiB: the crypt itself still has hundreds free.
    const free = Number(sh(['df', '-B1', '--output=avail', host]).split('\n')[1]);
    sh(['fallocate', '-l', String(free - 60 * 2 ** 20), path.join(host, 'ballast')]);
    const r = await cli(fx.root, ['--json', 'snapshot']);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/free on the image's host filesystem/);
    expect(r.json.error.hint).toMatch(/filesystem holding the crypt image/);
    const doctor = await cli(fx.root, ['--json', 'doctor']);
    expect(doctor.json.checks.find((c: { id: string }) => c.id === 'space.reserve').status).toBe('problem');
    expect(await postmasterPid(server)).toBe(pid);
    await server.query('select 1');
  });
});

