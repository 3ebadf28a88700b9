// What the restricted receiver accepts from SSH_ORIGINAL_COMMAND (pure): a few plain words of a fixed
// grammar, within what the key's mode allows; shell words, paths and anything unexpected are refused.
import { describe, expect, test } from 'vitest';
import { parseRequest, requestWords } from '../../src/runtime/replicate/receiver/request.js';
import { sshArgv } from '../../src/base/ssh.js';

const N = '20261207T120000Z-pre-upgrade';
const U = 'e55b60e4-2cf7-0f49-b62a-5836eb6c5793';
const P = '6fd567ac-0000-4000-8000-000000000001';

describe('receiver requests', () => {
  test('the grammar, per mode', () => {
    expect(parseRequest('list', 'push')).toEqual({ verb: 'list' });
    expect(parseRequest(`receive ${N} ${U}`, 'push')).toEqual({ verb: 'receive', name: N, origin: U, parent: null });
    expect(parseRequest(`receive ${N} ${U} ${P}`, 'push')).toEqual({ verb: 'receive', name: N, origin: U, parent: P });
    expect(parseRequest(`delete ${N} ${U}`, 'push')).toEqual({ verb: 'delete', name: N, origin: U });
    expect(parseRequest(`send ${N} ${U}`, 'pull')).toEqual({ verb: 'send', name: N, origin: U, parent: null });
    expect(parseRequest(`send ${N} ${U}`, 'pull-only')).toMatchObject({ verb: 'send' });
    for (const r of [{ verb: 'list' as const }, { verb: 'receive' as const, name: N, origin: U, parent: P }, { verb: 'delete' as const, name: N, origin: U }]) {
      expect(parseRequest(requestWords(r).join(' '), 'pull')).toEqual(r);
    }
  });

  test('refused (exit 3): other commands, shell words, verbs outside the mode, odd spacing, control characters', () => {
    for (const [text, mode] of [
      ['cat /etc/shadow', 'push'],
      ['sh -c id', 'push'],
      ['list; id', 'push'],
      ['list && id', 'push'],
      ['$(id)', 'push'],
      [`send ${N} ${U}`, 'push'],
      [`receive ${N} ${U}`, 'pull-only'],
      [`delete ${N} ${U}`, 'pull-only'],
      ['list  ', 'push'],
      [' list', 'push'],
      ['list\tx', 'push'],
      ['list\nid', 'push'],
      ['', 'push'],
      [undefined, 'push'],
      ['x'.repeat(600), 'push'],
      ['a b c d e', 'push'],
    ] as const) {
      expect(parseRequest(text, mode), JSON.stringify(text)).toHaveProperty('refused');
    }
    expect(parseRequest('cat /etc/shadow', 'push')).toEqual({ refused: expect.stringMatching(/this key may ask: list, receive, delete/) });
  });

  test('malformed words of an allowed verb (exit 2)', () => {
    expect(parseRequest('list x', 'push')).toEqual({ malformed: 'list takes 0 words after it, got 1' });
    expect(parseRequest(`receive ../x ${U}`, 'push')).toHaveProperty('refused'); // "/" is not a word character at all
    expect(parseRequest(`receive x ${U}`, 'push')).toEqual({ malformed: 'not a snapshot name: x' });
    expect(parseRequest(`receive ${N} nope`, 'push')).toEqual({ malformed: 'not a UUID: nope' });
    expect(parseRequest(`delete ${N}`, 'push')).toEqual({ malformed: 'delete takes 2 words after it, got 1' });
  });

  test('the client argv reads no file of root\'s own and takes only plain words', () => {
    const argv = sshArgv({ user: 'root', host: '[::1]', port: 2222 }, { identity: '/etc/lychd-crypt/replicate/c/t.key', knownHosts: '/etc/lychd-crypt/replicate/c/t.known_hosts' }, ['list'], { aliveSeconds: 20 });
    expect(argv.slice(0, 3)).toEqual(['ssh', '-F', 'none']);
    expect(argv).toEqual(expect.arrayContaining(['IdentityFile=/etc/lychd-crypt/replicate/c/t.key', 'IdentitiesOnly=yes', 'IdentityAgent=none', 'GlobalKnownHostsFile=/dev/null', 'StrictHostKeyChecking=yes', 'BatchMode=yes', 'ServerAliveInterval=5', 'ServerAliveCountMax=4']));
    expect(argv.slice(-4)).toEqual(['2222', 'root@::1', '--', 'list']);
    expect(() => sshArgv({ user: 'root', host: 'h', port: null }, { identity: '/k', knownHosts: '/h' }, ['list;id'])).toThrow(/not a plain request word/);
  });
});
