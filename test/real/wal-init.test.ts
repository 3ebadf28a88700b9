// init with postgres.walDir (docs/wal.md), for real: refused before anything changes (exit 2, at the key) when
// walDir is on a loop device (a scratch ext4 on a loop image, the kind of flush path the outside WAL leaves) or
// below a directory others may write; accepted on the host's own filesystem: the root (root's 0755) and
// active/'s generation (the postgres user's, 0700, named by active/'s UUID) made, the initdb command said;
// a second run changes nothing; an existing cluster's WAL is moved out only while its server is stopped.
import { existsSync, lstatSync, mkdirSync, chmodSync, readdirSync, readlinkSync } from 'node:fs';
import { startTestServer } from '../helpers/pg.js';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { ids } from '../helpers/host.js';
import { owner, runCli, writeAnswers } from '../helpers/init.js';
import { cliSuite } from '../helpers/suite.js';
import { userHost } from '../helpers/scenes.js';
import { activeUuid } from '../helpers/wal.js';

const skip = skipReason('root', 'btrfs', 'loop');

describe.skipIf(skip)(`init with an outside WAL ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  it('refusals change nothing; accepted: root and generation made, the initdb command said; re-run no-op', async () => {
    const scratch = await suite.scratch();
    const { host, user, crypt } = await userHost(scratch, 'ext4', 512);
    const answers = (walDir: string) =>
      writeAnswers(scratch, { crypt: { path: crypt, user: user.name }, method: 'loopback', loopback: { image: path.join(host, 'crypt.img'), size: '256M' }, persist: { via: 'none' }, postgres: { walDir } });

    const onLoop = runCli(suite.bundle, ['init', '--answers', answers(path.join(host, 'wal')), '--yes']);
    expect(onLoop.code, onLoop.stderr).toBe(2);
    expect(onLoop.stderr).toMatch(/postgres\.walDir: .* is on a loop device \(\/dev\/loop\d+\)/);
    const open = scratch.path('open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const writable = runCli(suite.bundle, ['init', '--answers', answers(path.join(open, 'wal')), '--yes']);
    expect(writable.code, writable.stderr).toBe(2);
    expect(writable.stderr).toMatch(/open is writable by others/);
    expect(existsSync(path.join(host, 'crypt.img'))).toBe(false);
    expect(existsSync(path.join(open, 'wal'))).toBe(false);

    const walDir = scratch.path('wal/alice');
    const first = runCli(suite.bundle, ['init', '--answers', answers(walDir), '--yes', '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json.config.postgres.walDir).toBe(walDir);
    const gen = `gen-${activeUuid(path.join(crypt, 'active'))}`;
    expect(readdirSync(walDir)).toEqual([gen]);
    expect(owner(walDir)).toEqual({ uid: 0, gid: 0, mode: 0o755 });
    expect(owner(path.join(walDir, gen))).toEqual({ ...ids('postgres'), mode: 0o700 });
    expect(JSON.stringify(first.json)).toContain(`initdb -D ${path.join(crypt, 'active/postgres')} --waldir ${path.join(walDir, gen)}`);

    const second = runCli(suite.bundle, ['init', '--answers', answers(walDir), '--yes', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.json.changed).toBe(0);

    // An existing cluster made without --waldir: refused while its server runs (exit 3, nothing moved); once
    // stopped, init moves its WAL into the generation and leaves the link; the server starts with its rows.
    const pgdata = path.join(crypt, 'active/postgres');
    const server = await startTestServer(scratch, { pgdata, socketDir: scratch.path('sock'), port: 5432 });
    await server.query('create table m (v text)');
    await server.query("insert into m values ('kept')");
    const running = runCli(suite.bundle, ['init', '--answers', answers(walDir), '--yes']);
    expect(running.code, running.stderr).toBe(3);
    expect(running.stderr).toMatch(/PostgreSQL is running on it; nothing was changed/);
    expect(lstatSync(path.join(pgdata, 'pg_wal')).isDirectory()).toBe(true);
    server.stop();
    // Killed between setting pg_wal aside and linking it: the next init finishes the move.
    const killed = runCli(suite.bundle, ['init', '--answers', answers(walDir), '--yes'], { LYCHD_CRYPT_FAULT: 'wal:aside' });
    expect(killed.code, killed.stderr).not.toBe(0);
    expect(existsSync(path.join(pgdata, 'pg_wal'))).toBe(false);
    expect(readdirSync(pgdata)).toContain('pg_wal.lychd-moved');
    const moved = runCli(suite.bundle, ['init', '--answers', answers(walDir), '--yes', '--json']);
    expect(moved.code, moved.stderr).toBe(0);
    expect(readlinkSync(path.join(pgdata, 'pg_wal'))).toBe(path.join(walDir, gen));
    expect(lstatSync(path.join(pgdata, 'pg_wal')).uid).toBe(ids('postgres').uid);
    expect(readdirSync(pgdata)).not.toContain('pg_wal.lychd-moved');
    expect(readdirSync(path.join(walDir, gen)).some((f) => /^[0-9A-F]{24}$/.test(f))).toBe(true);
    server.start();
    expect((await server.query('select v from m')).map((r) => r.v)).toEqual(['kept']);
    const again = runCli(suite.bundle, ['init', '--answers', answers(walDir), '--yes', '--json']);
    expect(again.code, again.stderr).toBe(0); // nothing left to move: the running server is no obstacle
    expect(again.json.changed).toBe(0);
  }, 180_000);
});
