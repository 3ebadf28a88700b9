// Refusals through the real CLI (exit codes of the SPEC, nothing created), and the image on a Btrfs host
// getting nodatacow before it is sized.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { makeUser } from '../helpers/host.js';
import { attrs, fstypeAt, runCli, writeAnswers } from '../helpers/init.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';
import { hostFs } from '../helpers/scenes.js';

const skip = skipReason('root', 'btrfs', 'loop');

describe.skipIf(skip)(`init refusals ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  let scratch: Scratch;

  it('an image larger than the free space of its filesystem: exit 2, nothing created', async () => {
    scratch = await suite.scratch();
    const host = await hostFs(scratch, 'ext4', 300);
    const answers = writeAnswers(scratch, { crypt: { path: path.join(host, 'crypt') }, loopback: { image: path.join(host, 'i/crypt.img'), size: '2G' } });
    const r = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(r.code).toBe(2);
    expect(r.json.error.message).toMatch(/loopback.size: 2G does not fit/);
    expect(readdirSync(host)).toEqual(['lost+found']);
  });

  it('method partition without a device: exit 2 (a missing required answer, no terminal)', async () => {
    scratch = await suite.scratch();
    const answers = writeAnswers(scratch, { crypt: { path: scratch.path('crypt') }, method: 'partition' });
    const r = runCli(suite.bundle, ['init', '--answers', answers, '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/partition.device/);
    expect(existsSync(scratch.path('crypt'))).toBe(false);
  });

  it('a bad answers file: exit 2 with file:line:col, nothing created', async () => {
    scratch = await suite.scratch();
    const file = scratch.path('bad.yaml');
    writeFileSync(file, `version: 1\ncrypt: { path: ${scratch.path('crypt')} }\nloopback:\n  size: twenty\n`);
    const r = runCli(suite.bundle, ['init', '--answers', file, '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:4:9: loopback.size: expected a size like 20G, got "twenty"`);
    expect(existsSync(scratch.path('crypt'))).toBe(false);
  });

  it('a re-run converges under the crypt lock: busy (exit 4) while another operation holds it', async () => {
    scratch = await suite.scratch();
    const host = await hostFs(scratch, 'btrfs', 300);
    const crypt = path.join(host, 'crypt');
    const answers = writeAnswers(scratch, { crypt: { path: crypt } });
    expect(runCli(suite.bundle, ['init', '--answers', answers, '--yes']).code).toBe(0);
    // flock(1) passes the locked fd to its child: kill the whole process group to release it.
    const holder = spawn('flock', [scratch.path('state/root/lock'), 'sleep', '30'], { stdio: 'ignore', detached: true });
    const release = () => {
      try {
        process.kill(-holder.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    scratch.defer(release);
    await new Promise((r) => setTimeout(r, 300));
    const busy = runCli(suite.bundle, ['init', '--answers', answers, '--yes']);
    expect(busy.code, busy.stderr).toBe(4);
    release();
    await new Promise((r) => setTimeout(r, 300));
    expect(runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']).json.changed).toBe(0);
  });

  it('without root: --dry-run previews the plan, applying it is refused (exit 2), nothing created', async () => {
    scratch = await suite.scratch();
    const user = makeUser(scratch);
    const crypt = path.join(user.home, '.local/share/lychd');
    const answers = writeAnswers(scratch, { loopback: { image: scratch.path('img/crypt.img'), size: '256M' } });
    chmodSync(answers, 0o644);
    chmodSync(path.dirname(suite.bundle), 0o755);
    const asUser = (args: string[]) =>
      spawnSync('setpriv', [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', '--', process.execPath, suite.bundle, ...args], {
        encoding: 'utf8',
        cwd: '/',
        env: { PATH: process.env.PATH!, HOME: user.home },
      });
    const dry = asUser(['init', '--answers', answers, '--dry-run']);
    expect(dry.status, dry.stderr).toBe(0);
    expect(dry.stdout).toContain(`Plan: crypt at ${crypt} for ${user.name}`);
    expect(dry.stdout).toContain('note: applying this plan needs root');
    const run = asUser(['init', '--answers', answers, '--yes']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/must run as root/);
    expect(existsSync(path.join(user.home, '.local'))).toBe(false);
    expect(existsSync(scratch.path('img'))).toBe(false);
  });

  it('a loopback image on a Btrfs host is nodatacow (chattr +C before truncate)', async () => {
    scratch = await suite.scratch();
    const host = await hostFs(scratch, 'btrfs', 700);
    const crypt = path.join(host, 'crypt');
    const image = path.join(host, 'img/crypt.img');
    const answers = writeAnswers(scratch, { crypt: { path: crypt }, method: 'loopback', loopback: { image, size: '256M' } });
    const r = runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(attrs(image)).toContain('C');
    expect(fstypeAt(crypt)).toBe('btrfs');
  });
});
