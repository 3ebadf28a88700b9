// Root's `init` in a tree its crypt's owner controls (SPEC section 8), tried as that owner would: the
// migration of "existing data" racing a swap of the owner's directories, and symbolic links on the way to
// a rootless crypt's state directory. Root must write nothing outside the crypt, through no link.
import { beforeAll, describe, expect, it } from 'vitest';
import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { cliAs, runAs, startAs } from '../helpers/as-user.js';
import { skipReason } from '../helpers/env.js';
import { makeUser, mountScratchFs, sh, type TestUser } from '../helpers/host.js';
import { fstypeAt, writeAnswers } from '../helpers/init.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';

const skip = skipReason('root', 'btrfs', 'loop');
const NO_STACK = /^\s+at /m;

/** Every entry below `dir` with its owner (and a file's content): what "nothing changed there" compares. */
function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      const rel = path.relative(dir, p);
      if (st.isDirectory()) {
        out.push(`${rel}/ ${st.uid} ${(st.mode & 0o7777).toString(8)}`);
        walk(p);
      } else out.push(`${rel} ${st.uid} ${st.isFile() ? readFileSync(p, 'utf8') : '(special)'}`);
    }
  };
  walk(dir);
  return out;
}

/** A directory only root may enter, holding `files` (relative path → content): where the owner would like root to write. */
async function vault(scratch: Scratch, name: string, files: Record<string, string>): Promise<string> {
  const dir = scratch.path(name);
  await mkdir(dir, { mode: 0o700 });
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await writeFile(path.join(dir, rel), content);
  }
  return dir;
}

describe.skipIf(skip)(`trust: root's init in the owner's tree ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  let scratch: Scratch;
  let bundle: string;
  beforeAll(async () => {
    bundle = suite.bundle;
    await chmod(path.dirname(bundle), 0o755); // other users run it too
  });

  /** A rootless crypt of `user` (PostgreSQL its own) at ~/.local/share/lychd on a loopback image, made by root's init. */
  const rootlessCrypt = async (user: TestUser, name = 'answers.yaml') => {
    const answers = writeAnswers(
      scratch,
      {
        crypt: { path: path.join(user.home, '.local/share/lychd'), user: user.name, profile: 'rootless' },
        method: 'loopback',
        loopback: { image: scratch.path(`${user.name}.img`), size: '256M' },
        persist: { via: 'none' },
        postgres: { osUser: user.name },
      },
      name,
    );
    const r = await cliAs(null, bundle, ['init', '--answers', answers, '--yes']);
    return { answers, code: r.code, stderr: r.stderr };
  };
  const asUser = async (user: TestUser, script: string) => {
    const r = await runAs(user, ['sh', '-c', script]);
    expect(r.code, r.stderr).toBe(0);
  };

  it('3: the migration racing a swap of the owner\'s directories writes nothing outside the crypt', { timeout: 600_000 }, async () => {
    scratch = await suite.scratch();
    const alice = makeUser(scratch);
    const { answers, code, stderr } = await rootlessCrypt(alice);
    expect(code, stderr).toBe(0);
    const share = path.join(alice.home, '.local/share');
    const crypt = path.join(share, 'lychd');
    const image = scratch.path(`${alice.name}.img`);
    const mountsOfImage = () =>
      sh(['losetup', '-j', image, '-O', 'NAME', '-n'])
        .split('\n')
        .filter(Boolean)
        .flatMap((dev) => sh(['findmnt', '-rn', '-o', 'TARGET', '--source', dev.trim()]).split('\n').filter(Boolean))
        .sort((a, b) => b.length - a.length);
    // Where the old migration wrote: its temporary mount point, beside the crypt, became a link into this
    // root-only directory on a Btrfs filesystem, whose active/ is a subvolume, as the crypt's would be.
    const fsOfVault = scratch.path('vault-fs');
    await mountScratchFs(scratch, 'btrfs', fsOfVault);
    const target = await vault(scratch, 'vault-fs/vault', {});
    sh(['btrfs', 'subvolume', 'create', path.join(target, 'active')]);
    await chmod(path.join(target, 'active'), 0o700);
    await writeFile(path.join(target, 'active/keep'), 'root');
    const before = tree(target);
    // alice's decoy for ~/.local/share: "existing data", and the temporary mount point as a link to the vault.
    const decoy = path.join(alice.home, 'decoy');
    await asUser(alice, `mkdir -p ${decoy}/lychd && echo planted > ${decoy}/lychd/planted && ln -s ${target} ${decoy}/.lychd.lychd-crypt-migrate`);
    const stop = scratch.path('stop');

    for (const delay of [0, 5, 10, 18, 30, 'loop', 'loop', 'loop'] as const) {
      // alice makes the crypt look unmounted (the mount moves with ~/.local/share) and plants data at its path.
      await asUser(alice, `mv ${share} ${share}.moved && mkdir -p ${crypt} && echo planted > ${crypt}/planted`);
      // As soon as root mounts the image anywhere new (the migration's temporary mount), alice waits `delay` ms
      // and swaps ~/.local/share for the decoy; the loop variant flips the two all along.
      const swap = `
import os, sys, time
share, decoy, image, stop, delay = ${JSON.stringify(share)}, ${JSON.stringify(decoy)}, ${JSON.stringify(image)}, ${JSON.stringify(stop)}, ${JSON.stringify(delay)}
tmp = share + '.swapped'
def mounts():
    devs = set()
    for d in os.listdir('/sys/block'):
        try:
            with open('/sys/block/%s/loop/backing_file' % d) as f:
                if f.read().strip() == image: devs.add('/dev/' + d)
        except OSError:
            pass
    with open('/proc/self/mountinfo') as f:
        return {l.split(' - ')[0].split()[4] for l in f if l.split(' - ')[1].split()[1] in devs}
end = time.time() + 300
if delay == 'loop':
    n = 0
    while time.time() < end and not os.path.exists(stop):
        os.rename(share, tmp); os.symlink(decoy, share); time.sleep(0.001); os.unlink(share); os.rename(tmp, share); time.sleep(0.001)
        n += 1
    print(n)
    sys.exit(0)
seen = mounts()
while time.time() < end and not os.path.exists(stop):
    if mounts() - seen:
        time.sleep(delay / 1000)
        os.rename(share, tmp); os.symlink(decoy, share)
        print('swapped')
        break
    time.sleep(0.0002)
`;
      await rm(stop, { force: true });
      const swapper = startAs(alice, swap);
      const r = await cliAs(null, bundle, ['init', '--answers', answers, '--yes']);
      await writeFile(stop, '');
      const out = await swapper.done;
      expect(swapper.err(), `swapper (delay ${delay})`).toBe('');
      expect(out.trim(), `delay ${delay}: ${r.stderr}`).not.toBe('');
      // Done as asked (0), refused at a link (3) or at detection (2: the path led elsewhere), or failed
      // cleanly (1): never a stack trace.
      expect([0, 1, 2, 3], `delay ${delay}: exit ${r.code}: ${r.stderr}`).toContain(r.code);
      expect(r.stderr).not.toMatch(NO_STACK);
      // Nothing landed in the vault: no directory made, no file of alice's copied there.
      expect(tree(target), `delay ${delay}: ${r.stderr}`).toEqual(before);
      if (r.code === 0) {
        // Done: the crypt is mounted at its path with alice's data in active/, copied as alice.
        expect(fstypeAt(crypt)).toBe('btrfs');
        expect(lstatSync(path.join(crypt, 'active/planted')).uid).toBe(alice.uid);
      }

      // Back to a mounted crypt for the next round.
      for (const m of mountsOfImage()) sh(['umount', m]);
      for (const n of await readdir(path.dirname(share))) if (n.startsWith('share')) await rm(path.join(path.dirname(share), n), { recursive: true, force: true });
      await asUser(alice, `mkdir -p ${crypt}`);
      sh(['mount', '-o', 'loop,noatime,compress=zstd:1,user_subvol_rm_allowed', image, crypt]);
    }
    expect(existsSync(path.join(target, 'active/planted'))).toBe(false);
  });

  it('4: links on the way to a rootless crypt\'s state directory: root creates, truncates, follows nothing (exit 3)', { timeout: 300_000 }, async () => {
    scratch = await suite.scratch();
    const alice = makeUser(scratch);
    const { answers, code, stderr } = await rootlessCrypt(alice);
    expect(code, stderr).toBe(0);
    const name = alice.name;
    // A link at each level: the state directory itself, its parent, ~/.local/state.
    for (const [link, below] of [
      [`.local/state/lychd-crypt/${name}`, ''],
      ['.local/state/lychd-crypt', name],
      ['.local/state', `lychd-crypt/${name}`],
    ] as const) {
      const target = await vault(scratch, `vault-${link.split('/').length}`, { [path.join(below, 'lock')]: 'precious', [path.join(below, 'journal.json')]: '{"kept":true}' });
      const before = tree(target);
      const at = path.join(alice.home, link);
      await asUser(alice, `mv ${at} ${at}.real && ln -s ${target} ${at}`);
      // init, as root: refused at the link.
      const init = await cliAs(null, bundle, ['init', '--answers', answers, '--yes']);
      expect(tree(target), `${link}: ${init.stderr}`).toEqual(before);
      expect(init.code, `${link}: ${init.stderr}`).toBe(3);
      expect(init.stderr).toMatch(/symbolic link/);
      expect(init.stderr).not.toMatch(NO_STACK);
      // A runtime command, as root: it runs as alice, who may follow her own link and can do nothing there.
      const snap = await cliAs(null, bundle, ['--crypt', name, 'snapshot', '--mode', 'cold']);
      expect(snap.code, `${link}: ${snap.stderr}`).not.toBe(0);
      expect(snap.stderr).not.toMatch(NO_STACK);
      expect(tree(target), link).toEqual(before);
      await asUser(alice, `rm ${at} && mv ${at}.real ${at}`);
    }
    // A first init, with ~/.local/state already a link: refused before anything is made there.
    const bob = makeUser(scratch);
    const target = await vault(scratch, 'vault-bob', {});
    await asUser(bob, `mkdir -p ${bob.home}/.local && ln -s ${target} ${bob.home}/.local/state`);
    const first = await rootlessCrypt(bob, 'bob.yaml');
    expect(first.code, first.stderr).toBe(3);
    expect(first.stderr).toMatch(/symbolic link/);
    expect(first.stderr).not.toMatch(NO_STACK);
    expect(tree(target)).toEqual([]);
    expect(existsSync(scratch.path(`${bob.name}.img`))).toBe(false);
  });
});
