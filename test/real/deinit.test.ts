// `lychd-crypt deinit` (issue 24, SPEC section 11): undo init for one crypt and bring it back. Loopback +
// fstab: the dry run shows each step and changes nothing; without consent it refuses (exit 3); with --yes
// the crypt is unmounted (its loop device detached), its fstab line, mount record, state and registry entry
// gone, the image and its data kept; init with the same answers brings it back with its snapshot. With
// --delete-data the image goes too. A deinit killed at a step is finished by repair or by the next command
// (a reader is refused meanwhile, naming the fix). A running database is stopped only with consent.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { mountScratchFs, sh } from '../helpers/host.js';
import { fstypeAt, runCli } from '../helpers/init.js';
import { cliSuite } from '../helpers/suite.js';
import type { Scratch } from '../helpers/scratch.js';
import { cliChild, cryptWithServer } from '../helpers/snap.js';
import { readRegistry } from '../../src/base/registry/store.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

interface Made {
  crypt: string;
  image: string;
  fstab: string;
  answers: string;
  state: string;
  registry: string;
}

async function loopbackCrypt(scratch: Scratch, bundle: string, via: 'fstab' | 'systemd' = 'fstab'): Promise<Made> {
  const host = scratch.path('host');
  await mountScratchFs(scratch, 'ext4', host, 512);
  const m = {
    crypt: path.join(host, 'crypt'),
    image: path.join(host, 'img/crypt.img'),
    fstab: scratch.path('etc/fstab'),
    answers: scratch.path('answers.yaml'),
    state: scratch.path('state'),
    registry: scratch.path('registry'),
  };
  writeFileSync(
    m.answers,
    stringify({
      version: 1,
      crypt: { path: m.crypt },
      method: 'loopback',
      loopback: { image: m.image, size: '256M' },
      persist: { via, fstab: m.fstab, unitDir: scratch.path('etc/systemd/system') },
      install: { binDir: scratch.path('bin') },
      registry: { dir: m.registry, state: m.state },
      postgres: { enabled: false },
    }),
  );
  const r = runCli(bundle, ['init', '--answers', m.answers, '--yes']);
  expect(r.code, r.stderr).toBe(0);
  return m;
}

const loopDevicesOf = (image: string) => sh(['losetup', '-j', image, '-n', '-O', 'NAME']).trim();

describe.skipIf(skip)(`deinit ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  it('loopback + fstab: dry run, consent, removal with the data kept; init with the same answers brings it back', { timeout: 180_000 }, async () => {
    const scratch = await suite.scratch();
    const m = await loopbackCrypt(scratch, suite.bundle);
    writeFileSync(path.join(m.crypt, 'active/data.txt'), 'kept\n');
    const snap = runCli(suite.bundle, ['--json', 'snapshot', '--label', 'before-deinit']);
    expect(snap.code, snap.stderr).toBe(0);
    const fstabBefore = readFileSync(m.fstab, 'utf8');
    expect(fstabBefore).toContain(m.crypt);

    const dry = runCli(suite.bundle, ['deinit', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^\d+\. unmount .*: would change\n {5}\$ umount /m);
    expect(dry.stdout).toMatch(/remove our line for .* from .*fstab: would change/);
    expect(dry.stdout).toMatch(/unregister the crypt "root"/);
    expect(dry.stdout).toContain(`kept: the image ${m.image} and everything in it (snapshots included) stay`);
    expect(fstypeAt(m.crypt)).toBe('btrfs');

    const refused = runCli(suite.bundle, ['deinit']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/it needs consent, and nothing was changed/);
    expect(refused.stderr).toMatch(/lychd-crypt --registry \S+ deinit --yes/);
    expect(fstypeAt(m.crypt)).toBe('btrfs');

    const done = runCli(suite.bundle, ['--json', 'deinit', '--yes']);
    expect(done.code, done.stderr).toBe(0);
    expect(fstypeAt(m.crypt)).not.toBe('btrfs');
    expect(loopDevicesOf(m.image)).toBe('');
    expect(readFileSync(m.fstab, 'utf8')).not.toContain(m.crypt);
    expect(existsSync(path.join(m.crypt, '.lychd-crypt-mount.json'))).toBe(false);
    expect(existsSync(path.join(m.state, 'root'))).toBe(false);
    expect(await readRegistry(m.registry)).toEqual([]);
    expect(existsSync(m.image)).toBe(true);
    expect(runCli(suite.bundle, ['list']).code).toBe(2);
    // Nothing left to do: a second deinit finds no crypt.
    expect(runCli(suite.bundle, ['deinit', '--yes']).code).toBe(2);

    // The same answers bring it back, with its data and its snapshot.
    const back = runCli(suite.bundle, ['--json', 'init', '--answers', m.answers, '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect(readFileSync(path.join(m.crypt, 'active/data.txt'), 'utf8')).toBe('kept\n');
    expect(readFileSync(m.fstab, 'utf8')).toBe(fstabBefore);
    const list = runCli(suite.bundle, ['--json', 'list']);
    expect(list.json.snapshots.map((s: { name: string }) => s.name)).toEqual([snap.json.snapshot.name]);
    expect(existsSync(path.join(m.state, 'released/root.json'))).toBe(false);
    expect(runCli(suite.bundle, ['--json', 'init', '--answers', m.answers, '--yes']).json.changed).toBe(0);
  });

  it('--delete-data: the image goes too; init with the same answers makes a new, empty crypt', { timeout: 180_000 }, async () => {
    const scratch = await suite.scratch();
    const m = await loopbackCrypt(scratch, suite.bundle);
    writeFileSync(path.join(m.crypt, 'active/data.txt'), 'gone\n');
    const dry = runCli(suite.bundle, ['deinit', '--delete-data', '--dry-run']);
    expect(dry.stdout).toContain(`DELETE the image ${m.image}`);
    const refused = runCli(suite.bundle, ['deinit', '--delete-data']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`DELETES the image ${m.image}`);
    const done = runCli(suite.bundle, ['deinit', '--delete-data', '--yes']);
    expect(done.code, done.stderr).toBe(0);
    expect(existsSync(m.image)).toBe(false);
    expect(existsSync(path.join(m.state, 'released/root.json'))).toBe(false);
    const back = runCli(suite.bundle, ['init', '--answers', m.answers, '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect(existsSync(path.join(m.crypt, 'active/data.txt'))).toBe(false);
  });

  it.each(['deinit-after-unmount', 'deinit-after-remove-state'])('killed at %s: readers are refused; repair finishes it, init brings the crypt back', { timeout: 180_000 }, async (fault) => {
    const scratch = await suite.scratch();
    const m = await loopbackCrypt(scratch, suite.bundle);
    const killed = await cliChild(suite.bundle, m.crypt, ['deinit', '--yes'], { LYCHD_CRYPT_FAULT: fault });
    expect(killed.signal).toBe('SIGKILL');
    const reader = runCli(suite.bundle, ['list']);
    expect(reader.code).toBe(3);
    expect(reader.stderr).toMatch(/is being removed: its deinit was interrupted/);
    expect(reader.stderr).toMatch(/Finish it: `lychd-crypt --registry \S+ deinit --crypt root --yes`/);
    const repair = runCli(suite.bundle, ['repair', '--yes']);
    expect(repair.code, repair.stderr).toBe(0);
    expect(repair.stdout).toMatch(/finished the interrupted deinit of the crypt "root"/);
    expect(await readRegistry(m.registry)).toEqual([]);
    expect(readFileSync(m.fstab, 'utf8')).not.toContain(m.crypt);
    expect(fstypeAt(m.crypt)).not.toBe('btrfs');
    const back = runCli(suite.bundle, ['init', '--answers', m.answers, '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect(fstypeAt(m.crypt)).toBe('btrfs');
  });

  it('killed after the unmount: the next mutating command finishes the deinit and says so', { timeout: 180_000 }, async () => {
    const scratch = await suite.scratch();
    const m = await loopbackCrypt(scratch, suite.bundle);
    const killed = await cliChild(suite.bundle, m.crypt, ['deinit', '--yes'], { LYCHD_CRYPT_FAULT: 'deinit-after-remove-fstab-line' });
    expect(killed.signal).toBe('SIGKILL');
    const snap = runCli(suite.bundle, ['snapshot']);
    expect(snap.code).toBe(1);
    expect(snap.stderr).toMatch(/finished the interrupted deinit of the crypt "root" .*: it is no longer registered; .*`snapshot` did nothing/);
    expect(await readRegistry(m.registry)).toEqual([]);
    expect(existsSync(m.image)).toBe(true);
  });

  it('killed at a step, then init with the same answers: it finishes the deinit first and brings the crypt back', { timeout: 180_000 }, async () => {
    const scratch = await suite.scratch();
    const m = await loopbackCrypt(scratch, suite.bundle);
    writeFileSync(path.join(m.crypt, 'active/data.txt'), 'kept\n');
    const killed = await cliChild(suite.bundle, m.crypt, ['deinit', '--yes'], { LYCHD_CRYPT_FAULT: 'deinit-after-unmount' });
    expect(killed.signal).toBe('SIGKILL');
    const back = runCli(suite.bundle, ['init', '--answers', m.answers, '--yes']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).toMatch(/finished the interrupted deinit of the crypt "root"/);
    expect(readFileSync(path.join(m.crypt, 'active/data.txt'), 'utf8')).toBe('kept\n');
    expect((await readRegistry(m.registry)).map((e) => [e.name, e.deinit])).toEqual([['root', undefined]]);
  });

  it('rootless: the owner\'s state directory is removed as the owner; a user who is not root is told the root command', { timeout: 180_000 }, async () => {
    const scratch = await suite.scratch();
    const { makeUser } = await import('../helpers/host.js');
    const { cliAs } = await import('../helpers/as-user.js');
    const owner = makeUser(scratch);
    const answers = scratch.path('answers.yaml');
    writeFileSync(
      answers,
      stringify({
        version: 1,
        crypt: { path: path.join(owner.home, '.local/share/lychd'), user: owner.name },
        method: 'loopback',
        loopback: { image: scratch.path('img/owner.img'), size: '256M' },
        persist: { via: 'fstab', fstab: scratch.path('etc/fstab'), unitDir: scratch.path('etc/systemd/system') },
        install: { binDir: scratch.path('bin') },
        registry: { dir: scratch.path('registry'), state: scratch.path('state') },
        postgres: { osUser: owner.name },
      }),
    );
    const made = runCli(suite.bundle, ['--json', 'init', '--answers', answers, '--yes']);
    expect(made.code, made.stderr).toBe(0);
    expect(made.json.config.profile).toBe('rootless');
    const stateDir = path.join(owner.home, '.local/state/lychd-crypt', owner.name);
    expect(existsSync(stateDir)).toBe(true);
    const { chmod } = await import('node:fs/promises');
    await chmod(path.dirname(suite.bundle), 0o755);
    const asOwner = await cliAs(owner, suite.bundle, ['deinit', '--yes']);
    expect(asOwner.code).toBe(3);
    // The installed command by its full path (its directory is not on PATH), the registry and the crypt as options.
    expect(asOwner.stderr).toContain(`Run: sudo ${scratch.path('bin/lychd-crypt')} --registry ${scratch.path('registry')} --crypt ${owner.name} deinit --yes`);
    const done = runCli(suite.bundle, ['deinit', '--yes']);
    expect(done.code, done.stderr).toBe(0);
    expect(existsSync(stateDir)).toBe(false);
    expect(runCli(suite.bundle, ['init', '--answers', answers, '--yes']).code).toBe(0);
    expect(existsSync(stateDir)).toBe(true);
  });

  it('a database running from the crypt: stopped with consent, then the crypt is removed', { timeout: 180_000 }, async () => {
    const scratch = await suite.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    const refused = await cliChild(suite.bundle, fx.root, ['deinit']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toMatch(/stops its database/);
    expect(server.isRunning()).toBe(true);
    const done = await cliChild(suite.bundle, fx.root, ['--json', 'deinit', '--yes']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.json.steps.map((s: { kind: string; status: string }) => `${s.kind}:${s.status}`)).toEqual(expect.arrayContaining(['stop-database:done', 'unmount:done', 'unregister:done']));
    expect(server.isRunning()).toBe(false);
    expect(fstypeAt(fx.root)).not.toBe('btrfs');
  });
});
