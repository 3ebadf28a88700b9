// Disaster recovery: a crypt's snapshots replicated to a target of each kind (another host over ssh, a
// second Btrfs disk, a file:// directory), then a fresh crypt (its own new cluster running, as after init
// on a new host) restored from there: the snapshot (and the chain it needs) received, made active/ through
// the rollback, PostgreSQL up through its crash recovery with exactly the marker rows of that snapshot, and
// pg_amcheck clean. A restored crypt replicates on incrementally into the same target.
import { describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { mountScratchFs } from '../helpers/host.js';
import { cliSuite } from '../helpers/suite.js';
import { cli, cryptWithServer, type CryptWithServer } from '../helpers/snap.js';
import { reconfigure } from '../helpers/crypt-fixture.js';
import { fileTarget, pathTarget, sshTarget, startReceiver } from '../helpers/replica.js';
import type { TargetConfig } from '../../src/model/replicate.js';
import type { Scratch } from '../helpers/scratch.js';

const skip = skipReason('root', 'btrfs', 'loop', 'sshd', 'pg15');

/** The source crypt: a running cluster with amcheck, marker 1 before s1, marker 2 before s2, marker 3 after both; replicated. */
async function source(scratch: Scratch, target: TargetConfig): Promise<{ a: CryptWithServer; s1: string; s2: string }> {
  const a = await cryptWithServer(scratch, 15);
  const conn = ['-h', a.server.socketDir, '-p', String(a.server.port), '-U', 'postgres'];
  execFileSync(path.join(PG_BIN[15], 'pgbench'), ['-i', '-s', '1', '-q', ...conn, 'postgres'], { stdio: 'ignore' });
  await a.server.query('create extension amcheck');
  await a.server.query('create table marker (id int primary key, note text)');
  await reconfigure(a.fx, { ...a.fx.config, replicate: { schedule: false, targets: [target] } });
  const snap = async (id: number) => {
    await a.server.query('insert into marker values ($1, $2)', [id, `before snapshot ${id}`]);
    const r = await cli(a.fx.root, ['--json', 'snapshot', '--label', `marker ${id}`]);
    expect(r.code, r.stderr).toBe(0);
    return r.json.snapshot.name as string;
  };
  const s1 = await snap(1);
  const s2 = await snap(2);
  await a.server.query("insert into marker values (3, 'after every snapshot')");
  const rep = await cli(a.fx.root, ['--json', 'replicate']);
  expect(rep.code, rep.stderr + rep.stdout).toBe(0);
  expect(rep.json.targets[0].sent.map((s: { name: string }) => s.name)).toEqual([s1, s2]);
  a.server.stop('immediate'); // the host is lost
  return { a, s1, s2 };
}

/** A fresh host's crypt (its own scratch and registry): init made it, its new, empty cluster runs. */
async function fresh(suite: ReturnType<typeof cliSuite>, target: TargetConfig): Promise<CryptWithServer> {
  const scratch = await suite.scratch();
  const b = await cryptWithServer(scratch, 15);
  await reconfigure(b.fx, { ...b.fx.config, replicate: { schedule: false, targets: [target] } });
  return b;
}

async function checkRestored(b: CryptWithServer, markers: number[]): Promise<void> {
  const rows = await b.server.query<{ id: number }>('select id from marker order by id');
  expect(rows.map((r) => r.id)).toEqual(markers);
  expect((await b.server.query<{ r: boolean }>('select pg_is_in_recovery() as r'))[0]!.r).toBe(false);
  const amcheck = execFileSync(path.join(PG_BIN[15], 'pg_amcheck'), ['-h', b.server.socketDir, '-p', String(b.server.port), '-U', 'postgres', '--heapallindexed', 'postgres'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  expect(amcheck).not.toMatch(/error|corrupt/i);
}

describe.skipIf(skip)(`restore on a fresh crypt ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('from another host over ssh: an older snapshot by name', async () => {
    const scratch = await suite.scratch();
    const r = await startReceiver(scratch, suite.bundle, { receiveArgs: ['--pull'] });
    const { s1 } = await source(scratch, sshTarget(r));
    const b = await fresh(suite, sshTarget(r));
    const dry = await cli(b.fx.root, ['--json', 'restore', '--from', 'offsite', s1, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json).toMatchObject({ snapshot: s1, receive: [{ name: s1, parent: null }] });
    expect(dry.json.steps.join('\n')).toMatch(/rollback: renameat2\(RENAME_EXCHANGE\)/);
    const no = await cli(b.fx.root, ['restore', '--from', 'offsite', s1]);
    expect(no.code).toBe(3); // consent is needed: active/ is replaced
    expect(no.stderr).toMatch(/needs consent/);
    const res = await cli(b.fx.root, ['--json', 'restore', '--from', 'offsite', s1, '--yes']);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(res.json).toMatchObject({ snapshot: s1, received: [{ name: s1, kind: 'full' }], rollback: { target: s1, databaseRestarted: true } });
    await checkRestored(b, [1]);
    // The restored snapshot keeps its origin, so the new host sends incrementally into the same target.
    const s = await cli(b.fx.root, ['--json', 'snapshot']);
    expect(s.code, s.stderr).toBe(0);
    const rep = await cli(b.fx.root, ['--json', 'replicate']);
    expect(rep.code, rep.stderr + rep.stdout).toBe(0);
    // (The state the restore replaced, kept as a pre-rollback snapshot, is a snapshot of this crypt too.)
    expect(rep.json.targets[0].plan.common.name).toBe(s1);
    expect(rep.json.targets[0].sent.map((x: { kind: string }) => x.kind)).toEqual(['incremental', 'incremental']);
    expect(rep.json.targets[0].sent.at(-1).name).toBe(s.json.snapshot.name);
  });

  test('from a second Btrfs disk: the latest', async () => {
    const scratch = await suite.scratch();
    const disk = scratch.path('disk');
    await mountScratchFs(scratch, 'btrfs', disk, 600);
    const { s2 } = await source(scratch, pathTarget(path.join(disk, 'lychd')));
    const b = await fresh(suite, pathTarget(path.join(disk, 'lychd')));
    const res = await cli(b.fx.root, ['--json', 'restore', '--from', 'disk', '--yes']);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(res.json).toMatchObject({ snapshot: s2, received: [{ name: s2, kind: 'full' }] });
    await checkRestored(b, [1, 2]);
    // Restoring what the crypt already holds receives nothing.
    const again = await cli(b.fx.root, ['--json', 'restore', '--from', 'disk', s2, '--dry-run']);
    expect(again.json.receive).toEqual([]);
  });

  test('from file://: the chain, full then incremental, by its URL', async () => {
    const scratch = await suite.scratch();
    const dir = scratch.path('bucket', 'fx');
    const { s1, s2 } = await source(scratch, fileTarget(dir));
    const b = await fresh(suite, fileTarget(scratch.path('elsewhere')));
    const res = await cli(b.fx.root, ['--json', 'restore', '--from', `file://${dir}`, '--yes']);
    expect(res.code, res.stderr + res.stdout).toBe(0);
    expect(res.json).toMatchObject({ snapshot: s2, received: [{ name: s1, kind: 'full' }, { name: s2, kind: 'incremental' }] });
    await checkRestored(b, [1, 2]);
    const list = await cli(b.fx.root, ['--json', 'list']);
    expect(list.json.snapshots.map((x: { name: string }) => x.name)).toEqual(expect.arrayContaining([s1, s2]));
  });
});
