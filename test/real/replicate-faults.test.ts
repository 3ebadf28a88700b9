// A transfer to a second host stopped mid-way — the sender's btrfs send killed, the receiver's btrfs
// receive killed, the ssh link cut, the link stalled — and run again: the target never lists a half-received
// copy (the receiver removes it), and the resend completes. A receiver busy with another transfer: exit 4.
import { describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { appendFile, readFile, readdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { execa } from 'execa';
import { skipReason } from '../helpers/env.js';
import { sh } from '../helpers/host.js';
import { cliSuite } from '../helpers/suite.js';
import { cli, cliChild } from '../helpers/snap.js';
import { makeCryptFixture, reconfigure, type CryptFixture } from '../helpers/crypt-fixture.js';
import { remoteEntries, remoteSubvolume, sshTarget, startReceiver, type Receiver } from '../helpers/replica.js';
import type { Link } from '../helpers/remote-host.js';

const skip = skipReason('root', 'btrfs', 'loop', 'sshd');
const uuidOf = (p: string): string => /^\s*UUID:\s*(\S+)/m.exec(sh(['btrfs', 'subvolume', 'show', p]))![1]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (await ok()) return;
  throw new Error(`timed out waiting for ${what}`);
}

/** Pids of this host's processes whose parent is `ppid` and whose argv starts with `argv`. */
async function childrenRunning(ppid: number, argv: string[]): Promise<number[]> {
  const out: number[] = [];
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    const stat = await readFile(`/proc/${p}/stat`, 'utf8').catch(() => '');
    const cmd = await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === ppid && cmd.startsWith(`${argv.join('\0')}\0`)) out.push(Number(p));
  }
  return out;
}

function remoteReceiving(r: Receiver): number[] {
  return r.remote.processes().filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('btrfs\0receive\0');
    } catch {
      return false;
    }
  });
}

async function newSnapshot(fx: CryptFixture): Promise<string> {
  // Random data does not compress: the transfer takes as long as the rate limit says.
  await appendFile(path.join(fx.paths.active, 'data'), randomBytes(12 << 20));
  const s = await cli(fx.root, ['--json', 'snapshot']);
  expect(s.code, s.stderr).toBe(0);
  return s.json.snapshot.name as string;
}

/** What the receiver lists (the copies it holds complete), through the key itself. */
async function listed(r: Receiver): Promise<string[]> {
  const argv = r.remote.sshArgv(['list']);
  const l = await execa(argv[0]!, argv.slice(1), { reject: false });
  expect(l.exitCode, l.stderr).toBe(0);
  return JSON.parse(l.stdout).copies.map((c: { snapshot: { name: string } }) => c.snapshot.name);
}

describe.skipIf(skip)(`interrupted transfers ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('sender killed, receiver killed, link cut, link stalled: nothing half-received is listed and the resend completes', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 400 });
    // The receiver gives a silent sender up after 4 s (the stalled link), and waits 1 s for its lock.
    const r = await startReceiver(scratch, suite.bundle, { receiveArgs: ['--idle-timeout', '4', '--lock-wait', '1'] });
    const link: Link = await r.remote.link();
    // 1 MiB/s: a break made once 3 MiB crossed leaves ~9 s of the 12 MiB to go, room for a loaded machine
    // to be late at noticing the 3 MiB (at 2 MiB/s a late look found the copy already complete).
    const slow = sshTarget(r, { rateLimit: 1 << 20 }, link);
    const fast = sshTarget(r, {}, link);
    const configure = (t: typeof slow) => reconfigure(fx, { ...fx.config, replicate: { schedule: false, targets: [t] } });

    /** Starts a slow replicate, waits until a few MiB crossed the link, breaks it with `stop`, and checks the aftermath. */
    const interrupted = async (name: string, stop: (cli: number) => Promise<void> | void, args: string[] = []) => {
      await configure(slow);
      const before = link.bytes;
      const run = cliChild(suite.bundle, fx.root, ['--json', 'replicate', ...args]);
      await until('a transfer under way', () => link.bytes - before > 3 << 20 && remoteReceiving(r).length > 0);
      const pid = (await childrenRunning(process.pid, ['node', suite.bundle]))[0]!;
      await stop(pid);
      const res = await run;
      expect(res.code, res.stdout + res.stderr).toBe(1);
      expect(res.json.targets[0].ok).toBe(false);
      // Whatever the receiver was doing is over before the next run (a stalled one times out by itself).
      await until('the receiver to give up', () => remoteReceiving(r).length === 0);
      link.resume(); // a stalled link moves again for the resend (a no-op otherwise)
      expect(await listed(r)).not.toContain(name);
      // Run again: the half is removed (if it was still there) and the copy arrives whole.
      await configure(fast);
      const again = await cli(fx.root, ['--json', 'replicate']);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.json.targets[0].sent).toMatchObject([{ name }]);
      expect(await remoteSubvolume(r.remote, path.join(r.dir, name))).toEqual({ receivedUuid: uuidOf(path.join(fx.paths.snapshots, name)), readonly: true });
      expect(await listed(r)).toContain(name);
      return res;
    };

    // 1. The sender's btrfs send killed: the target keeps nothing of it.
    const s1 = await newSnapshot(fx);
    const a = await interrupted(s1, async (cliPid) => {
      const [send] = await childrenRunning(cliPid, ['btrfs', 'send']);
      process.kill(send!, 'SIGKILL');
    });
    expect(a.json.targets[0].error.message).toMatch(/btrfs send of .* failed \(killed\)|ended before its end/);

    // 2. The receiver's btrfs receive killed on the remote.
    const s2 = await newSnapshot(fx);
    const b = await interrupted(s2, () => {
      for (const p of remoteReceiving(r)) process.kill(p, 'SIGKILL');
    });
    expect(b.json.targets[0].error.message).toMatch(/btrfs receive of .* failed \(killed\)/);

    // 3. The ssh link cut.
    const s3 = await newSnapshot(fx);
    const c = await interrupted(s3, () => link.cut());
    expect(c.json.targets[0].error.message).toMatch(/ssh to .* failed/);

    // 4. The link stalled (nothing moves, nothing closes): the client gives up after --stall-timeout, the
    //    receiver after its idle timeout; neither waits forever.
    //    The link stays stalled until the client has given up: a resume on a timer could come first on a
    //    loaded machine and let the transfer finish. The late resume is only a net against a hung test.
    const s4 = await newSnapshot(fx);
    let net: NodeJS.Timeout | undefined;
    const d = await interrupted(
      s4,
      () => {
        link.stall();
        net = setTimeout(() => link.resume(), 90_000);
      },
      ['--stall-timeout', '4'],
    );
    clearTimeout(net);
    expect(d.json.targets[0].error.message).toMatch(/ssh to .* failed: Timeout, server .* not responding/);

    // Every copy is whole; nothing else is in the directory.
    expect(await remoteEntries(r.remote, r.dir)).toEqual([s1, s2, s3, s4].flatMap((n) => [n, `${n}.json`]).sort());

    // 5. Another transfer holds the receiver's lock: exit 4, nothing changed.
    const holder = spawn('nsenter', ['-t', String(r.remote.processes()[0]), '-m', '-p', 'flock', path.join(r.dir, '.lock'), 'sleep', '5'], { stdio: 'ignore' });
    await sleep(500);
    await newSnapshot(fx);
    const busy = await cli(fx.root, ['--json', 'replicate']);
    holder.kill('SIGKILL');
    expect(busy.code, busy.stdout).toBe(4);
    expect(busy.json.targets[0].error.message).toMatch(/the receiver on .* is busy/);
  });
});
