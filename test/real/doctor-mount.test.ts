// repair mounts an unmounted crypt from its mount record (config.json is on the unmounted filesystem):
// Method B persisted by a systemd unit that was also deleted, and Method A (by UUID) with a stale fstab line.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectHealed, hashFiles, initCrypt, problems } from '../helpers/doctor.js';
import { skipReason } from '../helpers/env.js';
import { makeLoopDevice, makeUser, sh } from '../helpers/host.js';
import { runCli, writeAnswers } from '../helpers/init.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';

const skip = skipReason('root', 'btrfs', 'loop');

describe.skipIf(skip)(`repair mounts an unmounted crypt ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  let scratch: Scratch;

  it('Method B via systemd: unmounted and its unit deleted', async () => {
    scratch = await suite.scratch();
    const c = await initCrypt(scratch, suite.bundle, { via: 'systemd' });
    writeFileSync(path.join(c.crypt, 'active/file'), 'precious');
    const unit = path.join(c.unitDir, c.unitName);
    const good = readFileSync(unit, 'utf8');
    sh(['umount', c.crypt]);
    rmSync(unit);
    const doctor = c.cli('doctor', '--json');
    expect(doctor.json.checks.find((k: { id: string }) => k.id === 'layout').status).toBe('cannot-check');
    expectHealed(c, scratch.dir, ['mount.mounted', 'persist.unit']);
    expect(readFileSync(unit, 'utf8')).toBe(good);
    expect(readFileSync(path.join(c.crypt, 'active/file'), 'utf8')).toBe('precious');
  });

  it('Method A (UUID=): unmounted with a stale fstab line', async () => {
    scratch = await suite.scratch();
    const dev = makeLoopDevice(scratch, 300);
    const user = makeUser(scratch);
    const crypt = scratch.path('crypt');
    const answers = writeAnswers(scratch, { crypt: { path: crypt, user: user.name }, method: 'partition', partition: { device: dev }, persist: { via: 'fstab' } });
    const init = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(init.code, init.stderr).toBe(0);
    writeFileSync(path.join(crypt, 'active/file'), 'precious');
    const data = hashFiles(path.join(crypt, 'active'));
    const fstab = scratch.path('etc/fstab');
    const line = readFileSync(fstab, 'utf8');
    expect(line).toMatch(/^UUID=/);
    sh(['umount', crypt]);
    writeFileSync(fstab, `${line.replace('noatime', 'relatime')}`);
    const c = { crypt, cli: (...a: string[]) => runCli(suite.bundle, ['--crypt', crypt, ...a]) } as Parameters<typeof expectHealed>[0];
    expect(problems(c.cli('doctor', '--json')).sort()).toEqual(['mount.mounted', 'persist.fstab']);
    expectHealed(c, scratch.dir, ['mount.mounted', 'persist.fstab']);
    expect(readFileSync(fstab, 'utf8')).toBe(line);
    expect(existsSync(`${fstab}.lychd-crypt.bak`)).toBe(true);
    expect(hashFiles(path.join(crypt, 'active'))).toEqual(data);
  });
});
