// init with replicate: targets on the sending host: for an ssh:// target without identity: the key is made
// in the registry (root's 0700 directory, the key 0600), the notes say what to run on the target and here;
// a re-run keeps the key as it is (the target has it authorized) and changes nothing.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { mountScratchFs } from '../helpers/host.js';
import { buildCli, runCli, writeAnswers } from '../helpers/init.js';
import { makeScratch, type Scratch } from '../helpers/scratch.js';

const skip = skipReason('root', 'btrfs', 'loop');

describe.skipIf(skip)(`init with replicate: targets ${skip ? `(skipped: ${skip})` : ''}`, () => {
  let scratch: Scratch;
  let cli: string;
  beforeAll(async () => {
    scratch = await makeScratch();
    cli = buildCli(scratch);
  });
  afterAll(async () => scratch?.cleanup());

  it('makes the ssh target\'s key once and says what to run on both hosts', async () => {
    const host = scratch.path('host');
    await mountScratchFs(scratch, 'ext4', host, 512);
    const crypt = path.join(host, 'crypt');
    const answers = writeAnswers(scratch, {
      crypt: { path: crypt, user: 'root' },
      method: 'loopback',
      loopback: { image: path.join(host, 'crypt.img'), size: '256M' },
      persist: { via: 'none' },
      postgres: { enabled: false },
      replicate: {
        schedule: false,
        targets: [
          { name: 'offsite', url: 'ssh://root@backup.example:2222/srv/lychd/web1' },
          { name: 'bucket', url: `file://${scratch.path('bucket')}` },
        ],
      },
    });
    const first = runCli(cli, ['init', '--answers', answers, '--yes']);
    expect(first.code, first.stderr + first.stdout).toBe(0);
    // The registry entry is <crypt name>.json.
    const name = readdirSync(scratch.path('registry')).find((f) => f.endsWith('.json'))!.replace(/\.json$/, '');
    const key = path.join(scratch.path('registry'), 'replicate', name, 'offsite.key');
    expect(statSync(path.dirname(key)).mode & 0o777).toBe(0o700);
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(`${key}.pub`, 'utf8')).toMatch(new RegExp(`^ssh-ed25519 \\S+ lychd-crypt:${name}:offsite\\n$`));
    expect(existsSync(path.join(path.dirname(key), 'bucket.key'))).toBe(false);
    const text = first.stdout + first.stderr;
    // The target's command is that host's (no path or registry of this one); this host's is pasteable here.
    expect(text).toContain(`as root on backup.example:  lychd-crypt init --receiver /srv/lychd/web1 --authorize '<the line of ${key}.pub>' --yes`);
    expect(text).toMatch(/here: {2}sudo \S*lychd-crypt (--registry \S+ )?--crypt \S+ replicate --target offsite --trust-host/);

    const before = readFileSync(key);
    const again = runCli(cli, ['init', '--answers', answers, '--yes', '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.json.changed).toBe(0);
    expect(readFileSync(key)).toEqual(before);
  });
});
