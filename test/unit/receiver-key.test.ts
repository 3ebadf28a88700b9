// init --receiver (pure): the public key parsed (never options of its own), the forced command's paths
// shell-safe, the line rendered, authorized_keys rewritten with only this key's line replaced, and the steps.
import { describe, expect, test } from 'vitest';
import { forcedCommandPathProblem, parsePublicKey, renderAuthorizedKey, withKeyLine } from '../../src/install/render/authorized-key.js';
import { receiverSteps } from '../../src/install/plan/receiver.js';

const BLOB = 'AAAAC3NzaC1lZDI1NTE5AAAAIDmAIf7dy8ax8gU1J7p1Q2fZ0i0c6W8YgS2vJ3qk2Q7Z';
const KEY = `ssh-ed25519 ${BLOB} lychd-crypt:web1@host1`;

describe('public key', () => {
  test('one key line: type, data, comment', () => {
    expect(parsePublicKey(`  ${KEY}\n`)).toEqual({ type: 'ssh-ed25519', blob: BLOB, comment: 'lychd-crypt:web1@host1' });
    expect(parsePublicKey(`ssh-ed25519 ${BLOB}`)).toEqual({ type: 'ssh-ed25519', blob: BLOB, comment: '' });
  });
  test('options, other text, quotes, newlines, bad data: refused', () => {
    for (const bad of [`command="sh" ${KEY}`, `restrict ${KEY}`, `${KEY}\nssh-ed25519 ${BLOB}`, `ssh-ed25519 ${BLOB} a"b`, 'ssh-ed25519 not-base64!', 'ssh-dss AAAA', '']) {
      expect(parsePublicKey(bad), bad).toHaveProperty('problem');
    }
  });
});

describe('forced command', () => {
  test('paths a shell reads literally only', () => {
    expect(forcedCommandPathProblem('/srv/lychd/web1')).toBeNull();
    expect(forcedCommandPathProblem('/usr/bin/lychd-crypt')).toBeNull();
    for (const bad of ['srv/x', '/', '/srv/x y', '/srv/$(id)', '/srv/x;id', '/srv/`id`', '/srv/../etc', '/srv/"x', "/srv/'x", '/srv/x\n']) {
      expect(forcedCommandPathProblem(bad), bad).not.toBeNull();
    }
  });
  test('the line, per mode', () => {
    const key = parsePublicKey(KEY) as Exclude<ReturnType<typeof parsePublicKey>, { problem: string }>;
    expect(renderAuthorizedKey({ bin: '/usr/bin/lychd-crypt', dir: '/srv/lychd/web1', mode: 'push', key })).toBe(`command="/usr/bin/lychd-crypt receive --dir /srv/lychd/web1",restrict ${KEY}`);
    expect(renderAuthorizedKey({ bin: '/usr/bin/lychd-crypt', dir: '/srv/lychd/web1', mode: 'pull-only', key })).toContain('--dir /srv/lychd/web1 --pull-only",restrict ');
    expect(() => renderAuthorizedKey({ bin: '/usr/bin/lychd-crypt', dir: '/srv/x y', mode: 'push', key })).toThrow(/directory/);
  });
});

describe('authorized_keys', () => {
  const line = `command="/b receive --dir /d",restrict ${KEY}`;
  test('appended; the same key data replaced; other lines kept as they are', () => {
    expect(withKeyLine('', line, BLOB)).toBe(`${line}\n`);
    const others = '# mine\nssh-rsa AAAAB3other admin@x\n\n  ssh-ed25519 AAAAspaced  odd  \n';
    expect(withKeyLine(others, line, BLOB)).toBe(`${others}${line}\n`);
    const old = `ssh-rsa AAAAB3other admin@x\ncommand="/b receive --dir /old" ssh-ed25519 ${BLOB} old\nno-pty ssh-ed25519 ${BLOB} dup\nlast`;
    expect(withKeyLine(old, line, BLOB)).toBe(`ssh-rsa AAAAB3other admin@x\n${line}\nlast\n`);
    expect(withKeyLine(`${line}\n`, line, BLOB)).toBe(`${line}\n`);
  });
  test('the steps: the directory, then root\'s authorized_keys from its home', () => {
    const key = parsePublicKey(KEY) as Exclude<ReturnType<typeof parsePublicKey>, { problem: string }>;
    expect(receiverSteps({ dir: '/srv/lychd/web1', bin: '/usr/bin/lychd-crypt', mode: 'pull', key, rootHome: '/root' })).toEqual([
      { kind: 'receiver-dir', path: '/srv/lychd/web1' },
      { kind: 'authorized-key', file: '/root/.ssh/authorized_keys', line: `command="/usr/bin/lychd-crypt receive --dir /srv/lychd/web1 --pull",restrict ${KEY}`, blob: BLOB },
    ]);
  });
});

describe('the sending side: keys in the registry', async () => {
  const { replicateKeySteps } = await import('../../src/install/plan/replicate-keys.js');
  const config = (targets: unknown[]) => ({ crypt: { name: 'web1' }, registry: { dir: '/etc/lychd-crypt' }, replicate: { schedule: false, targets } }) as never;
  const ssh = (name: string, identity: string | null = null) => ({ name, url: { kind: 'ssh', user: 'root', host: 'backup', port: 22, path: '/srv/lychd/web1' }, identity, knownHosts: null });
  test('one key per ssh target without identity:, in a 0700 directory; notes name the commands for both hosts', () => {
    const notes: string[] = [];
    const steps = replicateKeySteps(config([ssh('offsite'), ssh('mine', '/root/k'), { name: 'usb', url: { kind: 'path', path: '/mnt/u' }, identity: null }]), notes);
    expect(steps).toEqual([
      { kind: 'create-dir', path: '/etc/lychd-crypt/replicate', mode: 0o755, owner: { uid: 0, gid: 0 } },
      { kind: 'create-dir', path: '/etc/lychd-crypt/replicate/web1', mode: 0o700, owner: { uid: 0, gid: 0 } },
      { kind: 'replicate-key', path: '/etc/lychd-crypt/replicate/web1/offsite.key', comment: 'lychd-crypt:web1:offsite' },
    ]);
    expect(notes).toHaveLength(2);
    expect(notes[0]).toContain("as root on backup:  lychd-crypt init --receiver /srv/lychd/web1 --authorize '<the line of /etc/lychd-crypt/replicate/web1/offsite.key.pub>' --yes");
    expect(notes[1]).toContain('/root/k.pub');
    expect(replicateKeySteps(config([]), [])).toEqual([]);
  });
});
