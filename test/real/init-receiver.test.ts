// `init --receiver` on a second host (test/helpers/remote-host.ts: its own mount namespace, Btrfs and sshd;
// its /root is its own): the directory made a 0700 root subvolume, the sending host's key installed in
// root's authorized_keys with the forced command (other lines kept byte for byte), a re-run changing
// nothing, --print and --dry-run changing nothing, a planted link on the way not followed; then the sending host replicates through that key alone,
// and the same key re-installed --pull-only can no longer push. Bad input is refused before anything.
import { describe, expect, test } from 'vitest';
import { appendFile, chmod, mkdir, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { cliSuite } from '../helpers/suite.js';
import { makeCryptFixture, reconfigure } from '../helpers/crypt-fixture.js';
import { cli } from '../helpers/snap.js';
import { startRemoteHost } from '../helpers/remote-host.js';
import { remoteSubvolume, sshTarget } from '../helpers/replica.js';

const skip = skipReason('root', 'btrfs', 'loop', 'sshd');

describe.skipIf(skip)(`init --receiver ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('makes the directory, authorizes the key; the sender replicates through it; --pull-only stops pushes', async () => {
    const scratch = await suite.scratch();
    const remote = await startRemoteHost(scratch, { sizeMiB: 300 });
    // lychd-crypt as installed on the target (no code cache: the remote shares this host's /var).
    const bin = scratch.path('target-bin', 'lychd-crypt');
    await mkdir(path.dirname(bin), { recursive: true });
    await writeFile(bin, `#!/bin/sh\nLYCHD_CRYPT_COMPILE_CACHE=0 exec ${process.execPath} ${suite.bundle} "$@"\n`);
    await chmod(bin, 0o755);
    const dir = path.join(remote.btrfs, 'lychd', 'fx');
    const there = (args: string[]) => remote.exec([bin, ...args]);
    const init = (...extra: string[]) => there(['init', '--receiver', dir, '--authorize', remote.clientPublicKey, '--bin', bin, ...extra]);
    const keys = async () => (await remote.exec(['cat', '/root/.ssh/authorized_keys'])).stdout;

    // Bad input: exit 2, nothing made.
    for (const [args, msg] of [
      [['init', '--receiver', '/srv/x y', '--authorize', remote.clientPublicKey], /--receiver must be an absolute path of letters/],
      [['init', '--receiver', dir, '--authorize', `command="/bin/sh" ${remote.clientPublicKey}`], /--authorize: a public key is one line/],
      [['init', '--receiver', dir, '--authorize', `restrict ${remote.clientPublicKey}`], /--authorize: expected a public key line/],
      [['init', '--receiver', dir], /--receiver needs --authorize/],
      [['init', '--receiver', dir, '--authorize', remote.clientPublicKey, '--pull', '--pull-only'], /exclude each other/],
      [['init', '--pull'], /--pull goes with --receiver DIR/],
    ] as const) {
      const r = await there([...args]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
    const line = `command="${bin} receive --dir ${dir}",restrict ${remote.clientPublicKey.trim()}`;
    const printed = await init('--print');
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout.trim()).toBe(line);
    const dry = await init('--dry-run');
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would change/);
    expect((await remote.exec(['test', '-e', dir])).code).not.toBe(0);
    expect((await remote.exec(['test', '-e', '/root/.ssh/authorized_keys'])).code).not.toBe(0);

    // An admin's own key is there already: kept byte for byte.
    const own = `# the admin's\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminAdminAdminAdminAdminAdminAdminAdminA admin@box  \n`;
    await remote.exec(['sh', '-c', 'umask 077; mkdir -p /root/.ssh; cat > /root/.ssh/authorized_keys'], { input: own, check: true });
    const made = await init('--yes');
    expect(made.code, made.stderr + made.stdout).toBe(0);
    expect(made.stdout).toMatch(/receives the copies sent with this key \(push\)/);
    expect((await remote.exec(['stat', '-c', '%U %a', dir, '/root/.ssh', '/root/.ssh/authorized_keys'])).stdout.split('\n').filter(Boolean)).toEqual(['root 700', 'root 700', 'root 600']);
    expect((await remote.exec(['btrfs', 'subvolume', 'show', dir])).code).toBe(0);
    expect(await keys()).toBe(`${own}${line}\n`);
    const again = await init('--yes');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^nothing to do/);

    // The sending host replicates through that key alone.
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    await reconfigure(fx, { ...fx.config, replicate: { schedule: false, targets: [sshTarget({ remote, dir })] } });
    await appendFile(path.join(fx.paths.active, 'data'), randomBytes(1 << 20));
    const s1 = await cli(fx.root, ['--json', 'snapshot']);
    const rep = await cli(fx.root, ['--json', 'replicate']);
    expect(rep.code, rep.stderr + rep.stdout).toBe(0);
    expect(rep.json.targets[0].sent).toMatchObject([{ name: s1.json.snapshot.name, kind: 'full' }]);
    expect(await remoteSubvolume(remote, path.join(dir, s1.json.snapshot.name))).toMatchObject({ readonly: true });

    // The same key, now --pull-only: its one line replaced; a push is refused by the receiver (exit 3).
    const pullOnly = await init('--pull-only', '--yes');
    expect(pullOnly.code, pullOnly.stderr).toBe(0);
    expect(await keys()).toBe(`${own}${line.replace(`--dir ${dir}"`, `--dir ${dir} --pull-only"`)}\n`);
    await cli(fx.root, ['--json', 'snapshot']);
    const refused = await cli(fx.root, ['--json', 'replicate']);
    expect(refused.code, refused.stdout).toBe(3);

    // A link in a directory others may write (planted there by a user) is not followed on the way to DIR.
    await remote.exec(['sh', '-c', 'mkdir -m 1777 "$1/open" && ln -s /etc "$1/open/lychd"', 'sh', remote.btrfs], { check: true });
    const planted = await there(['init', '--receiver', path.join(remote.btrfs, 'open', 'lychd', 'fx'), '--authorize', remote.clientPublicKey, '--bin', bin, '--yes']);
    expect(planted.code, planted.stderr).toBe(3);
    expect(planted.stderr).toMatch(/is a symbolic link in a directory another user can write; it is not followed/);
    expect((await remote.exec(['test', '-e', '/etc/fx'])).code).not.toBe(0);

    // A directory that is not on Btrfs is refused.
    const plain = await there(['init', '--receiver', scratch.path('plain', 'x'), '--authorize', remote.clientPublicKey, '--bin', bin, '--yes']);
    expect(plain.code).toBe(3);
    expect(plain.stderr).toMatch(/is not on Btrfs/);
  });
});
