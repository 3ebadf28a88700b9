// The code cache as a crypt's owner has it (LychD runs rootless): a real user whose home is theirs alone
// gets ~/.cache/lychd-crypt/compile, written by the first run of a command and used, not rewritten, by the
// next; root, given that directory, neither reads nor writes it. And on a full disk the command runs as if
// there were no cache, and leaves no half-written file.
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { makeUser, sh, trustedHomes } from '../helpers/host.js';
import { cliAs } from '../helpers/as-user.js';
import { cliSuite } from '../helpers/suite.js';

const skip = skipReason('root');

describe.skipIf(skip)(`the code cache of a user ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test("a user's own cache in ~/.cache: written once, then used; root does not touch it", async () => {
    const scratch = await suite.scratch();
    // The home must be on a path no one else can write (not /tmp) and the user can enter.
    const user = makeUser(scratch, trustedHomes(scratch));
    const dir = path.join(user.home, '.cache/lychd-crypt/compile');
    const files = () => readdirSync(dir).filter((f) => f.endsWith('.v8cache'));

    const first = await cliAs(user, suite.bundle, ['--help']); // the default: the XDG cache in the home
    expect(first.code, first.stderr).toBe(0);
    // If not written, say what the path looked like (owner and mode of each directory up to /).
    const chain = (d: string): string[] => (d === '/' ? [] : [...chain(path.dirname(d)), `${d} ${statSync(d).uid} ${(statSync(d).mode & 0o7777).toString(8)}`]);
    expect(existsSync(dir), `no cache directory for uid ${user.uid}; the home's path:\n${chain(user.home).join('\n')}`).toBe(true);
    expect(files()).toHaveLength(1);
    const file = path.join(dir, files()[0]!);
    const st = statSync(file);
    expect([st.uid, st.mode & 0o777]).toEqual([user.uid, 0o600]);
    expect(statSync(dir).uid).toBe(user.uid);

    // Used: not written again (a new write would be a new file renamed over it).
    const second = await cliAs(user, suite.bundle, ['--help']);
    expect(second.code, second.stderr).toBe(0);
    expect(statSync(file).ino).toBe(st.ino);

    // Root pointed at the user's directory: the user could have put anything there, so it is not used.
    const asRoot = await cliAs(null, suite.bundle, ['--help'], { LYCHD_CRYPT_COMPILE_CACHE: dir });
    expect(asRoot.code, asRoot.stderr).toBe(0);
    expect(files()).toHaveLength(1);
    expect(statSync(file).ino).toBe(st.ino);
  });

  test('a full disk: the command runs; no cache and no half-written file is left', async () => {
    const scratch = await suite.scratch();
    const dir = path.join(trustedHomes(scratch), 'cache');
    mkdirSync(dir);
    sh(['mount', '-t', 'tmpfs', '-o', 'size=2m,mode=0700', 'lychd-cache-full', dir]);
    scratch.defer(() => void sh(['umount', dir]));
    // Filled up: not one more block.
    spawnSync('dd', ['if=/dev/zero', `of=${path.join(dir, 'filler')}`, 'bs=4k'], { stdio: 'ignore' });
    const r = await cliAs(null, suite.bundle, ['--help'], { LYCHD_CRYPT_COMPILE_CACHE: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('snapshot');
    expect(r.stderr).toBe('');
    expect(readdirSync(dir)).toEqual(['filler']);

    // The same directory with room: the cache is written there (so the run above did try, and was refused
    // by the disk, not by the directory's path).
    rmSync(path.join(dir, 'filler'));
    const roomy = await cliAs(null, suite.bundle, ['--help'], { LYCHD_CRYPT_COMPILE_CACHE: dir });
    expect(roomy.code, roomy.stderr).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.v8cache'))).toHaveLength(1);
  });
});
