// The rootless profile end to end (LychD's own): root builds the crypt once; then its owner — a plain
// user, no sudo anywhere — snapshots under load, lists, rolls back and undoes, prunes, verifies, runs
// doctor, and recovers a SIGKILLed rollback with its next command. PostgreSQL runs as the owner
// (pg_ctl here; a real systemd user unit is covered by the systemd tests). Root running a runtime
// command on this crypt acts as the owner.
import { beforeAll, describe, expect, it } from 'vitest';
import { chmod, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { cliAs } from '../helpers/as-user.js';
import { installRuntime } from '../../src/install/steps/install-runtime.js';
import { skipReason } from '../helpers/env.js';
import { makeUser, type TestUser } from '../helpers/host.js';
import { buildCli } from '../helpers/init.js';
import { fileScratch } from '../helpers/suite.js';
import { cryptWithServer, type CryptWithServer } from '../helpers/snap.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

describe.skipIf(skip)(`rootless crypt run by its owner ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const shared = fileScratch();
  let owner: TestUser;
  let bundle: string;
  let c: CryptWithServer;
  const asOwner = (args: string[], env: Record<string, string> = {}) => cliAs(owner, bundle, args, env);

  beforeAll(async () => {
    owner = makeUser(shared.scratch);
    c = await cryptWithServer(shared.scratch, 15, {
      fixture: { owner, rootless: true, root: path.join(owner.home, '.local/share/lychd'), socketDir: shared.scratch.path('sock-owner') },
    });
    bundle = buildCli(shared.scratch);
    await chmod(path.dirname(bundle), 0o755);
    // doctor checks the installed runtime command: install this build where the config says, as init does.
    await installRuntime({ kind: 'install-runtime', source: bundle, target: path.join(c.fx.config.install.binDir, 'lychd-crypt'), mode: 0o755 });
    await c.server.query('create table marker (v text)');
    await c.server.query("insert into marker values ('A')");
  });

  it('snapshot under load, list, rollback and undo, prune, verify, doctor — all as the owner', async () => {
    // A writer keeps committing while the owner takes the snapshot.
    await c.server.query('create table load (id serial, t text)');
    let writing = true;
    const writer = (async () => {
      const client = await c.server.connect();
      try {
        while (writing) await client.query("insert into load (t) select repeat('x', 200) from generate_series(1, 50)");
      } finally {
        await client.end();
      }
    })();
    const snap = await asOwner(['--json', 'snapshot', '--label', 'before-b']);
    writing = false;
    await writer;
    expect(snap.code, snap.stderr).toBe(0);
    expect(snap.json.snapshot.mode).toBe('bracket');
    const name: string = snap.json.snapshot.name;
    // Made by the owner, not by root.
    expect((await stat(path.join(c.fx.paths.snapshots, name))).uid).toBe(owner.uid);

    await c.server.query("insert into marker values ('B')");
    const list = await asOwner(['--json', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.json.snapshots.map((s: { name: string }) => s.name)).toContain(name);

    const back = await asOwner(['--json', 'rollback', name, '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect((await c.server.query<{ v: string }>('select v from marker order by v')).map((r) => r.v)).toEqual(['A']);
    const undo = await asOwner(['--json', 'rollback', back.json.preRollback, '--yes']);
    expect(undo.code, undo.stderr).toBe(0);
    expect((await c.server.query<{ v: string }>('select v from marker order by v')).map((r) => r.v)).toEqual(['A', 'B']);

    const verify = await asOwner(['--json', 'verify', name]);
    expect(verify.code, `${verify.stdout}\n${verify.stderr}`).toBe(0);

    // Prune deletes read-only snapshots the owner made (ro cleared first, user_subvol_rm_allowed).
    const before = await readdir(c.fx.paths.snapshots);
    const prune = await asOwner(['--json', 'prune', '--keep', '1']);
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.json.deleted.length).toBeGreaterThan(0);
    const after = await readdir(c.fx.paths.snapshots);
    expect(after.length).toBeLessThan(before.length);
    for (const gone of prune.json.deleted as string[]) expect(after).not.toContain(gone);

    const doctor = await asOwner(['doctor']);
    expect(doctor.stdout).not.toMatch(/\[BAD\]/);
    expect(doctor.code, doctor.stdout + doctor.stderr).toBe(0);
    // Nothing the owner's commands left behind belongs to root.
    for (const f of await readdir(c.fx.paths.state)) expect((await stat(path.join(c.fx.paths.state, f))).uid).toBe(owner.uid);
  });

  it('a rollback SIGKILLed after the swap is finished by the owner\'s next command', async () => {
    const snap = await asOwner(['--json', 'snapshot', '--label', 'k']);
    expect(snap.code, snap.stderr).toBe(0);
    await c.server.query("insert into marker values ('C')");
    const killed = await asOwner(['rollback', snap.json.snapshot.name, '--yes'], { LYCHD_CRYPT_FAULT: 'rollback:swapped' });
    expect(killed.code).not.toBe(0);
    const next = await asOwner(['--json', 'snapshot', '--label', 'after-crash']);
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toMatch(/recovered: finished the interrupted rollback/);
    const client = new pg.Client({ host: c.server.socketDir, port: c.server.port, user: 'postgres', database: 'postgres' });
    await client.connect();
    try {
      expect((await client.query('select v from marker order by v')).rows.map((r) => r.v)).toEqual(['A', 'B']);
      expect((await client.query('select pg_is_in_recovery() as r')).rows[0].r).toBe(false);
    } finally {
      await client.end();
    }
  });

  it('root running a runtime command on it acts as the owner', async () => {
    const snap = await cliAs(null, bundle, ['--json', 'snapshot', '--label', 'by-root']);
    expect(snap.code, snap.stderr).toBe(0);
    const st = await stat(path.join(c.fx.paths.snapshots, snap.json.snapshot.name));
    expect(st.uid).toBe(owner.uid);
    const meta = (await readdir(c.fx.paths.snapshots)).filter((f) => f.startsWith(snap.json.snapshot.name));
    for (const f of meta) expect((await stat(path.join(c.fx.paths.snapshots, f))).uid).toBe(owner.uid);
  });
});
