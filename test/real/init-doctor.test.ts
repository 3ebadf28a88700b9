// Integration: every crypt init makes is one doctor calls healthy (exit 0), for each method and persistence.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { makeLoopDevice, makeUser, mountScratchFs } from '../helpers/host.js';
import { runCli, writeAnswers } from '../helpers/init.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';

const skip = skipReason('root', 'btrfs', 'loop');

type Case = { name: string; hostFs: 'ext4' | 'btrfs'; answers: (host: string, scratch: Scratch) => Record<string, unknown> };

const cases: Case[] = [
  { name: 'loopback via fstab', hostFs: 'ext4', answers: (h) => ({ loopback: { image: path.join(h, 'c.img'), size: '256M' }, persist: { via: 'fstab' } }) },
  { name: 'loopback via systemd', hostFs: 'ext4', answers: (h) => ({ loopback: { image: path.join(h, 'c.img'), size: '256M' }, persist: { via: 'systemd' } }) },
  { name: 'native', hostFs: 'btrfs', answers: () => ({ method: 'native' }) },
  { name: 'partition via fstab', hostFs: 'ext4', answers: (_h, s) => ({ method: 'partition', partition: { device: makeLoopDevice(s, 300) }, persist: { via: 'fstab' } }) },
];

describe.skipIf(skip)(`init, then doctor ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  let scratch: Scratch;

  for (const c of cases) {
    it(`${c.name}: doctor says healthy`, async () => {
      scratch = await suite.scratch();
      const host = scratch.path('host');
      await mountScratchFs(scratch, c.hostFs, host, 512);
      const user = makeUser(scratch);
      const crypt = path.join(host, 'crypt');
      const answers = writeAnswers(scratch, { crypt: { path: crypt, user: user.name }, ...c.answers(host, scratch) });
      const init = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
      expect(init.code, init.stderr).toBe(0);
      const doctor = runCli(suite.bundle, ['doctor', '--crypt', crypt, '--json']);
      const problems = JSON.stringify(doctor.json?.checks?.filter?.((k: { status: string }) => k.status !== 'ok') ?? doctor.stdout, null, 1);
      expect(doctor.code, `${problems}\n${doctor.stderr}`).toBe(0);
    });
  }
});
