// A crypt under a kernel "temporary fsid" (Linux 6.7+): a byte copy of its image is mounted elsewhere first,
// so the crypt, mounted second, gets a random fsid and keeps its UUID only as its metadata UUID. Before,
// list and snapshot refused "not mounted (another Btrfs filesystem …) — run repair" while repair did nothing
// and doctor found nothing (issue 29, finding 3). Now the crypt from its registered image works, doctor's
// mount.identity names the copy and the fix, and repair gives the crypt its UUID back once the copy is gone;
// a copy mounted *at* the crypt path is refused and named.
import { describe, expect, test } from 'vitest';
import { mkdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { skipReason } from '../helpers/env.js';
import { sh } from '../helpers/host.js';
import { cliSuite } from '../helpers/suite.js';
import { initCrypt, problems } from '../helpers/doctor.js';
import { runCli } from '../helpers/init.js';

const skip = skipReason('root', 'btrfs', 'loop');

/** The fsid the kernel gives the filesystem mounted at `where`, and whether it is a temporary one. */
function fsidAt(where: string): { fsid: string; temp: boolean } {
  const dev = sh(['findmnt', '-n', '-o', 'SOURCE', '--mountpoint', where]).trim().split('\n').pop()!;
  const name = dev.replace('/dev/', '');
  const fsid = sh(['sh', '-c', `basename "$(dirname "$(dirname "$(ls -d /sys/fs/btrfs/*/devices/${name})")")"`]).trim();
  return { fsid, temp: sh(['cat', `/sys/fs/btrfs/${fsid}/temp_fsid`]).trim() === '1' };
}

describe.skipIf(skip)(`a crypt under a temporary fsid ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('a byte copy mounted elsewhere first: the crypt works, doctor names the copy, repair restores the UUID once it is gone', async () => {
    const scratch = await suite.scratch();
    const c = await initCrypt(scratch, suite.bundle);
    const cli = (...args: string[]) => runCli(suite.bundle, ['--crypt', c.crypt, ...args]);
    const uuid = sh(['blkid', '-s', 'UUID', '-o', 'value', c.image]).trim();
    expect(cli('snapshot', '--label', 'before').code).toBe(0);

    // A byte copy of the image (a backup, a clone), mounted elsewhere while the crypt is not.
    sh(['umount', c.crypt]);
    const copyImage = scratch.path('copy.img');
    sh(['cp', '--sparse=always', c.image, copyImage]);
    const copyAt = scratch.path('copy');
    mkdirSync(copyAt);
    sh(['mount', '-o', 'loop', copyImage, copyAt]);
    scratch.defer(() => {
      try {
        sh(['umount', copyAt]);
      } catch {
        /* already unmounted */
      }
    });
    expect(fsidAt(copyAt)).toEqual({ fsid: uuid, temp: false });

    // repair mounts the crypt from its image: the kernel gives it a temporary fsid.
    const mounted = cli('repair', '--yes', '--json');
    expect(fsidAt(c.crypt).temp, mounted.stderr).toBe(true);
    expect(fsidAt(c.crypt).fsid).not.toBe(uuid);

    // The runtime works on it (it comes from the registered image) …
    const list = cli('list', '--json');
    expect(list.code, list.stderr).toBe(0);
    expect(list.json.snapshots.map((s: { label: string }) => s.label)).toContain('before');
    expect(cli('snapshot', '--label', 'under-temp-fsid').code).toBe(0);

    // … and doctor (and repair) say what is wrong and how to fix it: no loop.
    const doctor = cli('doctor', '--json');
    expect(doctor.code).toBe(1);
    expect(problems(doctor)).toEqual(['mount.identity']);
    const finding = doctor.json.checks.find((x: { id: string }) => x.id === 'mount.identity');
    expect(finding.finding).toMatch(new RegExp(`temporary fsid .*holds its UUID ${uuid} \\(/dev/loop\\d+ \\(${copyImage}\\) is mounted at ${copyAt}\\)`));
    expect(finding.fix.manual).toContain(`umount ${copyAt}`);
    const stuck = cli('repair', '--yes', '--json');
    expect(stuck.code).toBe(1);
    expect(JSON.stringify(stuck.json)).toContain(`umount ${copyAt}`);

    // Once the copy is gone, repair remounts the crypt under its own UUID and doctor is healthy.
    sh(['umount', copyAt]);
    expect(problems(cli('doctor', '--json'))).toEqual(['mount.identity']);
    const healed = cli('repair', '--yes', '--json');
    expect(healed.code, healed.stdout + healed.stderr).toBe(0);
    expect(fsidAt(c.crypt)).toEqual({ fsid: uuid, temp: false });
    const after = cli('doctor', '--json');
    expect(problems(after), after.stdout).toEqual([]);
    expect(cli('list', '--json').json.snapshots.map((s: { label: string }) => s.label)).toEqual(expect.arrayContaining(['before', 'under-temp-fsid']));
  }, 180_000);

  test('a byte copy mounted at the crypt path while the crypt is mounted elsewhere: refused and named', async () => {
    const scratch = await suite.scratch();
    const c = await initCrypt(scratch, suite.bundle);
    const cli = (...args: string[]) => runCli(suite.bundle, ['--crypt', c.crypt, ...args]);
    sh(['umount', c.crypt]);
    const elsewhere = scratch.path('elsewhere');
    mkdirSync(elsewhere);
    sh(['mount', '-o', 'loop', c.image, elsewhere]); // the crypt itself, under its UUID, somewhere else
    scratch.defer(() => {
      try {
        sh(['umount', elsewhere]);
      } catch {
        /* already unmounted */
      }
    });
    const copyImage = scratch.path('copy.img');
    sh(['cp', '--sparse=always', c.image, copyImage]);
    sh(['mount', '-o', 'loop', copyImage, c.crypt]); // the copy at the crypt path: a temporary fsid
    expect(fsidAt(c.crypt).temp).toBe(true);

    const list = cli('list');
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(/is not mounted \(a byte copy of its filesystem is mounted there from \/dev\/loop\d+, under the temporary fsid/);
    expect(list.stderr).toMatch(/Run `\S*lychd-crypt .*doctor`: it names what is mounted there/);
    const doctor = cli('doctor', '--json');
    expect(doctor.code).toBe(1);
    expect(problems(doctor)).toEqual(expect.arrayContaining(['mount.loop', 'mount.identity']));
    const finding = doctor.json.checks.find((x: { id: string }) => x.id === 'mount.identity');
    expect(finding.finding).toContain(`is mounted at ${elsewhere}`);
    expect(finding.fix.manual).toContain(`umount ${c.crypt}`);
    // Nothing on the copy is judged (or repaired) as if it were the crypt.
    expect(doctor.json.checks.find((x: { id: string }) => x.id === 'layout').status).toBe('cannot-check');
    expect(await readFile(c.fstab, 'utf8')).toContain(c.crypt);
  }, 180_000);
});
