// A preallocated image on a host filled to the brim stays writable: doctor first warns that the sparse
// image's host cannot back what the image may still claim (and names `resize --preallocate`), then
// `resize --preallocate` allocates the holes online, the host is filled completely, and PostgreSQL writes
// 200 MB into the crypt and checkpoints without an error; the crypt stays read-write, the server the same.
// (The sparse case on a full host — forced read-only — is test/real/readonly-crypt.test.ts.)
import { describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { mountScratchFs, sh } from '../helpers/host.js';
import { cli, cryptWithServer } from '../helpers/snap.js';
import { scratchSuite } from '../helpers/suite.js';
import { entryFile } from '../../src/base/registry/store.js';

const scratches = scratchSuite();
const skip = skipReason('root', 'btrfs', 'loop', 'pg15');
const MiB = 2 ** 20;
const CONF = ['min_wal_size = 32MB', 'max_wal_size = 64MB'];

/** Fills `dir`'s filesystem until it has no byte left. */
function fillHost(dir: string, name: string, count?: number): void {
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${path.join(dir, name)}`, 'bs=1M', ...(count ? [`count=${count}`] : []), 'conv=fsync'], { stdio: 'ignore' });
  } catch {
    /* ENOSPC: the point */
  }
}

describe.skipIf(skip)(`preallocated image ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('doctor warns about the sparse image; after resize --preallocate a full host cannot stop the crypt', async () => {
    const scratch = await scratches.scratch();
    const host = scratch.path('host');
    await mountScratchFs(scratch, 'ext4', host, 1000);
    const { fx, server } = await cryptWithServer(scratch, 15, { conf: CONF, fixture: { sizeMiB: 512, image: path.join(host, 'crypt.img') } });
    const pid = Number((await readFile(path.join(server.pgdata, 'postmaster.pid'), 'utf8')).split('\n')[0]);

    // The host keeps ~100 MiB: less than the sparse image may still claim.
    const avail = () => Number(sh(['df', '--output=avail', '-B1', host]).split('\n')[1]);
    fillHost(host, 'filler', Math.floor((avail() - 100 * MiB) / MiB));
    const doctor = await cli(fx.root, ['--json', 'doctor']);
    const warn = doctor.json.checks.find((c: { id: string }) => c.id === 'space.host');
    expect(warn.status, warn.finding).not.toBe('ok');
    expect(warn.finding).toMatch(/cannot fill up before its host is full/);
    expect(JSON.stringify(warn)).toMatch(/lychd-crypt.* resize --preallocate/);
    // Preallocating now would take the host below its margin: refused, nothing changed.
    const refused = await cli(fx.root, ['--json', 'resize', '--preallocate']);
    expect(refused.code, refused.stderr).toBe(3);
    await rm(path.join(host, 'filler'));

    const r = await cli(fx.root, ['--json', 'resize', '--preallocate']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json.steps[0]).toMatchObject({ kind: 'resize-image', commands: [['fallocate', '-l', String(512 * MiB), fx.config.loopback!.image]] });
    const st = await stat(fx.config.loopback!.image);
    expect(st.blocks * 512).toBeGreaterThanOrEqual(512 * MiB);
    expect(JSON.parse(await readFile(entryFile(fx.config.registry.dir, fx.config.crypt.name), 'utf8')).config.loopback.preallocate).toBe(true);

    // The host to the brim; the crypt writes on.
    fillHost(host, 'brim');
    expect(avail()).toBeLessThan(MiB);
    await server.query("create table big as select g as id, repeat(md5(g::text), 30) as pad from generate_series(1, 200000) g");
    await server.query('checkpoint');
    sh(['sync', '-f', fx.root]);
    expect(sh(['findmnt', '-n', '-o', 'OPTIONS', '--mountpoint', fx.root])).toMatch(/^rw,/);
    expect((await server.query('select count(*)::int as n from big'))[0]!.n).toBe(200000);
    expect(Number((await readFile(path.join(server.pgdata, 'postmaster.pid'), 'utf8')).split('\n')[0])).toBe(pid);
    const after = await cli(fx.root, ['--json', 'doctor']);
    expect(after.json.checks.find((c: { id: string }) => c.id === 'mount.writable').status).toBe('ok');
  });
});
