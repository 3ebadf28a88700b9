// A rootless crypt's off-host copies, with a real owner: the owner (no sudo) takes snapshots, asks root's
// service for a run (a request file root never reads), waits for its outcome, lists what was replicated
// and sees it in status; the sending itself is root's (btrfs send needs CAP_SYS_ADMIN): the owner's dry run
// and verify are refused, and root's run sends the owner's snapshots. The scheduled snapshot asks too.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { appendFile, chmod, lstat, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { cliAs } from '../helpers/as-user.js';
import { skipReason } from '../helpers/env.js';
import { makeUser, mountScratchFs, type TestUser } from '../helpers/host.js';
import { buildCli } from '../helpers/init.js';
import { makeScratch, type Scratch } from '../helpers/scratch.js';
import { makeCryptFixture, reconfigure, type CryptFixture } from '../helpers/crypt-fixture.js';
import { pathTarget } from '../helpers/replica.js';
import { requestPath } from '../../src/runtime/replicate/request-run.js';

const skip = skipReason('root', 'btrfs', 'loop');

describe.skipIf(skip)(`replication of a rootless crypt ${skip ? `(skipped: ${skip})` : ''}`, () => {
  let scratch: Scratch;
  let owner: TestUser;
  let bundle: string;
  let fx: CryptFixture;
  let dir: string;
  const asOwner = (args: string[]) => cliAs(owner, bundle, ['--crypt', fx.root, ...args]);
  const asRoot = (args: string[]) => cliAs(null, bundle, ['--crypt', fx.root, ...args]);
  const copies = async () => (await readdir(dir)).filter((n) => !n.startsWith('.') && !n.endsWith('.json')).sort();

  beforeAll(async () => {
    scratch = await makeScratch();
    owner = makeUser(scratch);
    fx = await makeCryptFixture(scratch, { owner, rootless: true, postgres: false, sizeMiB: 300, root: path.join(owner.home, '.local/share/lychd') });
    const disk = scratch.path('disk');
    await mountScratchFs(scratch, 'btrfs', disk, 300);
    dir = path.join(disk, 'lychd', owner.name);
    await reconfigure(fx, { ...fx.config, replicate: { schedule: 'after-snapshot', targets: [pathTarget(dir)] } });
    bundle = buildCli(scratch);
    await chmod(path.dirname(bundle), 0o755);
  });
  afterAll(async () => scratch?.cleanup());

  test('the owner asks and lists; root sends; the owner\'s scheduled snapshot asks too', async () => {
    await appendFile(path.join(fx.paths.active, 'data'), 'first\n');
    await chmod(path.join(fx.paths.active, 'data'), 0o644);
    const s1 = await asOwner(['--json', 'snapshot']);
    expect(s1.code, s1.stderr).toBe(0);
    const name1: string = s1.json.snapshot.name;

    // Sending is root's: the owner's dry run (root's key, root's power) is refused, nothing asked.
    const dry = await asOwner(['replicate', '--dry-run']);
    expect(dry.code).toBe(3);
    expect(dry.stderr).toMatch(/--dry-run and --verify are root's/);
    await expect(stat(requestPath(fx.paths))).rejects.toThrow();

    // The owner asks: a request file in their own state directory, theirs, 0600; nothing is sent by it.
    const ask = await asOwner(['--json', 'replicate']);
    expect(ask.code, ask.stderr).toBe(0);
    expect(ask.json).toMatchObject({ ok: true, runs: null });
    const req = await lstat(requestPath(fx.paths));
    expect([req.uid, req.mode & 0o777, req.isFile()]).toEqual([owner.uid, 0o600, true]);
    expect(await copies().catch(() => [])).toEqual([]);

    // Before any run the owner's list says so.
    const none = await asOwner(['replicate', '--list']);
    expect(none.code, none.stderr).toBe(0);

    // Root's service runs (what the .path unit starts): the owner's snapshot is sent.
    const run = await asRoot(['--json', 'replicate']);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.json.targets[0].sent).toMatchObject([{ name: name1, kind: 'full' }]);
    expect(await copies()).toEqual([name1]);
    expect(await readFile(path.join(dir, name1, 'data'), 'utf8')).toBe('first\n');

    // The owner lists what was replicated and sees the target in status (root's record, read-only to them).
    const list = await asOwner(['--json', 'replicate', '--list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.json.targets.disk).toMatchObject({ ok: true, newest: { name: name1 }, copies: 1 });
    const text = await asOwner(['replicate', '--list']);
    expect(text.stdout).toContain(name1);
    const status = await asOwner(['--json', 'status']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.stringify(status.json)).toContain(name1);

    // The owner asks and waits; root's service (here: started by hand once the request appears) ends the run.
    const s2 = await asOwner(['--json', 'snapshot']);
    const name2: string = s2.json.snapshot.name;
    const before = (await stat(requestPath(fx.paths))).mtimeMs;
    const waiting = asOwner(['--json', 'replicate', '--wait-run', '60']);
    for (let i = 0; i < 200 && (await stat(requestPath(fx.paths))).mtimeMs === before; i++) await new Promise((r) => setTimeout(r, 100));
    const run2 = await asRoot(['--json', 'replicate']);
    expect(run2.code, run2.stderr).toBe(0);
    expect(run2.json.targets[0].sent).toMatchObject([{ name: name2, kind: 'incremental', parent: name1 }]);
    const waited = await waiting;
    expect(waited.code, waited.stderr + waited.stdout).toBe(0);
    expect(waited.json.runs.disk).toMatchObject({ ok: true });

    // The owner's scheduled snapshot (replicate.schedule after-snapshot) asks root's service after it snapshots.
    const mtime = (await stat(requestPath(fx.paths))).mtimeMs;
    await new Promise((r) => setTimeout(r, 20));
    const sched = await asOwner(['--json', 'snapshot', '--scheduled']);
    expect(sched.code, sched.stderr + sched.stdout).toBe(0);
    expect(sched.json.replication).toEqual({ ok: true, summary: "asked root's replication service" });
    expect((await stat(requestPath(fx.paths))).mtimeMs).toBeGreaterThan(mtime);

    // Another user is refused outright.
    const other = makeUser(scratch, scratch.path('home-other'));
    const stranger = await cliAs(other, bundle, ['--crypt', fx.root, 'replicate']);
    expect(stranger.code).not.toBe(0);
  });
});
