// The second "host" of the off-host copy tests (test/helpers/remote-host.ts) does what issue 27's tests need:
// a full and an incremental `btrfs send` reach `btrfs receive` on it through ssh and a forced command (a
// stand-in for `lychd-crypt receive`), the copies carry the sender's UUID as their received UUID, the key is
// good for nothing else, the client reads nothing of root's own ssh files, and nothing of the remote
// outlives it.
import { afterEach, describe, expect, test } from 'vitest';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { appendFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { skipReason } from '../helpers/env.js';
import { makeScratch, type Scratch } from '../helpers/scratch.js';
import { mountScratchFs, sh } from '../helpers/host.js';
import { startRemoteHost, type Link, type RemoteHost, type RemoteHostOptions } from '../helpers/remote-host.js';

const skip = skipReason('root', 'btrfs', 'loop', 'sshd');
const STUB = path.join(import.meta.dirname, '../helpers/receive-stub.sh');
let scratch: Scratch | undefined;
afterEach(async () => {
  await scratch?.cleanup();
  scratch = undefined;
});

/** `btrfs send [-p PARENT] SNAP | ssh … receive NAME`: both exit codes, the bytes sent, the receiver's stderr. */
async function sendOver(remote: RemoteHost, snap: string, parent?: string) {
  const argv = remote.sshArgv(['receive', path.basename(snap)]);
  let bytes = 0;
  const send = execa('btrfs', ['send', '-q', ...(parent ? ['-p', parent] : []), snap], { reject: false, encoding: 'buffer', buffer: false });
  send.stdout.on('data', (b: Buffer) => (bytes += b.length));
  const r = await send.pipe(argv[0]!, argv.slice(1), { reject: false });
  return { send: r.pipedFrom[0]!.exitCode, receive: r.exitCode, stderr: r.stderr, bytes };
}

/** Received UUID of DIR/NAME on the remote, from `btrfs subvolume show` ('-' when none). */
async function receivedUuid(remote: RemoteHost, p: string): Promise<string> {
  const show = await remote.exec(['btrfs', 'subvolume', 'show', p], { check: true });
  return /Received UUID:\s*(\S+)/.exec(show.stdout)![1]!;
}

const uuidOf = (p: string): string => /^\s*UUID:\s*(\S+)/m.exec(sh(['btrfs', 'subvolume', 'show', p]))![1]!;

/** Runs `ssh … -- COMMAND` to the remote (through a link when given); never throws. */
function ssh(remote: RemoteHost, command: string[], opts: { via?: Link; input?: string } = {}) {
  const argv = remote.sshArgv(command, opts.via);
  return execa(argv[0]!, argv.slice(1), { reject: false, input: opts.input ?? '' });
}

/** A local Btrfs whose `active/` holds `bytes` of random data, and a read-only snapshot `s1` of it. */
async function localWithSnapshot(s: Scratch, bytes: number): Promise<{ local: string; active: string }> {
  const local = s.path('local');
  await mountScratchFs(s, 'btrfs', local, 300);
  const active = path.join(local, 'active');
  sh(['btrfs', 'subvolume', 'create', active]);
  await writeFile(path.join(active, 'big'), randomBytes(bytes));
  sh(['btrfs', 'subvolume', 'snapshot', '-r', active, path.join(local, 's1')]);
  return { local, active };
}

/** A remote host whose login takes the receiver stub for the client key, receiving into `target` on its Btrfs. */
async function remoteWithReceiver(s: Scratch, opts: RemoteHostOptions = {}): Promise<{ remote: RemoteHost; target: string }> {
  const remote = await startRemoteHost(s, opts);
  const target = path.join(remote.btrfs, 'target');
  await remote.exec(['sh', '-c', 'mkdir "$1" && chown "$2:" "$1"', 'sh', target, remote.login], { check: true });
  await remote.authorize(`${STUB} ${target}`);
  return { remote, target };
}

describe.skipIf(skip)(`a second host over ssh ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('full and incremental send through a forced command; the copies match by received UUID; nothing else is allowed', async () => {
    scratch = await makeScratch();
    const { local, active } = await localWithSnapshot(scratch, 16 << 20);
    await appendFile(path.join(active, 'big'), randomBytes(256 << 10));
    await writeFile(path.join(active, 'small'), 'changed after s1\n');
    sh(['btrfs', 'subvolume', 'snapshot', '-r', active, path.join(local, 's2')]);

    const { remote, target } = await remoteWithReceiver(scratch);

    // The remote's filesystem is its own: the sending side sees an empty directory, not a mount.
    expect(sh(['findmnt', '-rn', '-o', 'TARGET']).split('\n')).not.toContain(remote.btrfs);
    expect(readdirSync(remote.btrfs)).toEqual([]);
    expect((await remote.exec(['findmnt', '-rn', '-o', 'FSTYPE', remote.btrfs], { check: true })).stdout.trim()).toBe('btrfs');
    expect((await remote.exec(['hostname'], { check: true })).stdout.trim()).toBe(remote.name);
    // Its sshd listens on the test's own loopback address and port, nowhere else.
    const sshd = remote.processes()[0]!;
    const listening = sh(['ss', '-Htlnp']).split('\n').filter((l) => l.includes(`pid=${sshd},`));
    expect(listening.map((l) => l.split(/\s+/)[3])).toEqual([`${remote.address}:${remote.port}`]);

    const full = await sendOver(remote, path.join(local, 's1'));
    expect(full, full.stderr).toMatchObject({ send: 0, receive: 0 });
    const inc = await sendOver(remote, path.join(local, 's2'), path.join(local, 's1'));
    expect(inc, inc.stderr).toMatchObject({ send: 0, receive: 0 });
    expect(inc.bytes).toBeLessThan(full.bytes / 10);

    // Matched by received UUID (the sender's own UUID), not by name; read-only on arrival.
    expect(await receivedUuid(remote, path.join(target, 's1'))).toBe(uuidOf(path.join(local, 's1')));
    expect(await receivedUuid(remote, path.join(target, 's2'))).toBe(uuidOf(path.join(local, 's2')));
    expect((await remote.exec(['btrfs', 'property', 'get', path.join(target, 's2'), 'ro'], { check: true })).stdout.trim()).toBe('ro=true');
    expect((await remote.exec(['cmp', path.join(target, 's2/big'), path.join(local, 's2/big')])).code).toBe(2); // the sender's path is a mount the remote does not have
    const listed = await ssh(remote, ['list']);
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.stdout.split('\n')).toEqual([`s1 ${uuidOf(path.join(local, 's1'))}`, `s2 ${uuidOf(path.join(local, 's2'))}`]);

    // The key is good for the receiver's words only: any other command, a shell trick, an empty request,
    // a pseudo-terminal or a forwarded port gets nothing.
    for (const command of [['cat', '/etc/shadow'], ['receive', 's3;', 'id'], ['receive', '../s3'], ['btrfs', 'subvolume', 'delete', target], []]) {
      const r = await ssh(remote, command);
      expect(r.exitCode, `${command.join(' ')}: ${r.stdout}${r.stderr}`).toBe(3);
      expect(r.stderr).toMatch(/^receive: refused: /m);
    }
    const forward = await execa('ssh', [...remote.sshOptions(), '-p', String(remote.port), '-W', '127.0.0.1:22', `root@${remote.address}`], { reject: false, input: '' });
    expect(forward.exitCode).not.toBe(0);
    expect(forward.stderr).toMatch(/stdio forwarding failed/);
    expect(remote.log()).toMatch(/refused local port forward/);

    // The client reads nothing of root's ~/.ssh, /etc/ssh/ssh_config or the host's known_hosts.
    const trace = scratch.path('ssh.trace');
    const traced = await execa('strace', ['-f', '-qq', '-e', 'trace=%file', '-o', trace, ...remote.sshArgv(['list'])], { reject: false });
    expect(traced.exitCode, traced.stderr).toBe(0);
    const opened = readFileSync(trace, 'utf8');
    expect(opened).toContain(remote.knownHosts);
    expect(opened).not.toMatch(/"\/root\/\.ssh|"\/etc\/ssh\/ssh_config|"\/etc\/ssh\/ssh_known_hosts/);
    // A client that trusts another key for that address does not connect at all.
    sh(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', scratch.path('other')]);
    const other = readFileSync(scratch.path('other.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
    await writeFile(remote.knownHosts, `[${remote.address}]:${remote.port} ${other}\n`);
    const spoofed = await ssh(remote, ['list']);
    expect(spoofed.exitCode).toBe(255);
    expect(spoofed.stderr).toMatch(/HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
  });

  test('a transfer cut mid-way leaves a writable copy without a received UUID; stopping the remote leaves nothing', async () => {
    scratch = await makeScratch();
    const { local } = await localWithSnapshot(scratch, 64 << 20);
    const { remote, target } = await remoteWithReceiver(scratch, { sshdConfig: ['ClientAliveInterval 2', 'ClientAliveCountMax 2'] });
    const link = await remote.link();
    const argv = remote.sshArgv(['receive', 's1'], link);
    const send = execa('btrfs', ['send', '-q', path.join(local, 's1')], { reject: false, buffer: false });
    const transfer = send.pipe(argv[0]!, argv.slice(1), { reject: false });
    for (let i = 0; i < 200 && link.bytes < 8 << 20; i++) await new Promise((r) => setTimeout(r, 25));
    link.cut();
    const r = await transfer;
    expect(r.exitCode).not.toBe(0);

    // btrfs has no resume: what is left is a writable subvolume without a received UUID, to be removed.
    const show = (await remote.exec(['btrfs', 'subvolume', 'show', path.join(target, 's1')], { check: true })).stdout;
    expect(await receivedUuid(remote, path.join(target, 's1'))).toBe('-');
    expect(/Flags:\s*(.*)/.exec(show)![1]!.trim()).toBe('-');

    const pids = remote.processes();
    expect(pids.length).toBeGreaterThan(0);
    expect(sh(['losetup', '-j', remote.image]).trim()).not.toBe('');
    await remote.stop();
    expect(pids.filter((p) => existsSync(`/proc/${p}`))).toEqual([]);
    expect(sh(['losetup', '-j', remote.image]).trim()).toBe('');
    const again = await ssh(remote, ['list']);
    expect(again.exitCode).toBe(255); // nothing listens there any more
  });

  test('a throw-away receiving user exists on the remote only; the kernel refuses its btrfs receive', async () => {
    scratch = await makeScratch();
    const { local } = await localWithSnapshot(scratch, 1 << 20);
    const { remote } = await remoteWithReceiver(scratch, { login: 'user' });
    expect(sh(['sh', '-c', `getent passwd ${remote.login} || true`])).toBe('');
    expect((await remote.exec(['getent', 'passwd', remote.login], { check: true })).stdout).toMatch(new RegExp(`^${remote.login}:.*:/home/${remote.login}:/bin/sh`));
    // Receiving needs root on the target (the UUID tree search, chown): that is why the design logs in as
    // root, with a forced command.
    const r = await sendOver(remote, path.join(local, 's1'));
    expect(r.receive).toBe(1);
    expect(r.stderr).toMatch(/Operation not permitted/);
  });

  test('a stalled link: the client gives up by itself (ServerAlive) and says so', async () => {
    scratch = await makeScratch();
    const { remote } = await remoteWithReceiver(scratch);
    const link = await remote.link();
    const before = await ssh(remote, ['list'], { via: link });
    expect(before.exitCode, before.stderr).toBe(0);
    // A receive waiting for its stream (stdin stays open, nothing comes) when the network starts dropping
    // everything silently.
    const argv = remote.sshArgv(['receive', 's1'], link, ['-o', 'ServerAliveInterval=1', '-o', 'ServerAliveCountMax=2']);
    const pending = execa(argv[0]!, argv.slice(1), { reject: false, stdin: 'pipe' });
    const receiving = () => remote.processes().some((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('btrfs\0receive'));
    for (let i = 0; i < 400 && !receiving(); i++) await new Promise((r) => setTimeout(r, 25));
    expect(receiving()).toBe(true);
    link.stall();
    const r = await pending;
    expect(r.exitCode).toBe(255);
    expect(r.stderr).toMatch(/Timeout, server .* not responding/);
  });
});
