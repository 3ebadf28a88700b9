// What fds 0–2 of root's process for a crypt's owner become: never root's terminal (a pseudo-terminal root
// relays instead), pipes and files as they are, /dev/null for any other stdin.
import { constants } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { sessionFds } from '../../src/base/privilege/owner-session.js';
import { planOwnerStdio } from '../../src/base/privilege/owner-stdio.js';

describe('planOwnerStdio', () => {
  test('at a terminal: all three on the pseudo-terminal, keys relayed, output to root fd 1', () => {
    expect(planOwnerStdio(['terminal', 'terminal', 'terminal'])).toEqual({ fds: ['pty', 'pty', 'pty'], output: 1, input: true });
  });

  test('stderr to a file stays that file: only the terminals get the pseudo-terminal', () => {
    expect(planOwnerStdio(['terminal', 'terminal', 'file'])).toEqual({ fds: ['pty', 'pty', 'keep'], output: 1, input: true });
  });

  test('stdout into a pipe (a pager): root reads no keys, stdin is /dev/null, stderr still relayed', () => {
    expect(planOwnerStdio(['terminal', 'pipe', 'terminal'])).toEqual({ fds: ['null', 'keep', 'pty'], output: 2, input: false });
  });

  test('stdin from a pipe or a file is passed; any other stdin becomes /dev/null', () => {
    expect(planOwnerStdio(['pipe', 'terminal', 'terminal'])).toEqual({ fds: ['keep', 'pty', 'pty'], output: 1, input: false });
    expect(planOwnerStdio(['file', 'terminal', 'terminal']).fds[0]).toBe('keep');
    expect(planOwnerStdio(['other', 'terminal', 'terminal']).fds[0]).toBe('null');
    expect(planOwnerStdio(['closed', 'terminal', 'terminal']).fds[0]).toBe('null');
  });

  test('no terminal: no pseudo-terminal, no relay; a closed stdout becomes /dev/null', () => {
    expect(planOwnerStdio(['other', 'pipe', 'file'])).toEqual({ fds: ['null', 'keep', 'keep'], output: null, input: false });
    expect(planOwnerStdio(['pipe', 'closed', 'other'])).toEqual({ fds: ['keep', 'null', 'keep'], output: null, input: false });
  });

  test('stdin alone at a terminal (output redirected): nothing of the terminal is handed on, no relay', () => {
    expect(planOwnerStdio(['terminal', 'file', 'file'])).toEqual({ fds: ['null', 'keep', 'keep'], output: null, input: false });
  });
});

describe('sessionFds', () => {
  test('the first pseudo-terminal fd opens the slave (so it becomes the controlling terminal), the others copy it', () => {
    const plan = planOwnerStdio(['terminal', 'terminal', 'terminal']);
    expect(sessionFds(plan, '/dev/pts/9')).toEqual([
      { kind: 'open', path: '/dev/pts/9', flags: constants.O_RDWR },
      { kind: 'copy', of: 0 },
      { kind: 'copy', of: 0 },
    ]);
  });

  test('kept and /dev/null fds; a pseudo-terminal only on stderr', () => {
    expect(sessionFds(planOwnerStdio(['terminal', 'pipe', 'terminal']), '/dev/pts/3')).toEqual([
      { kind: 'open', path: '/dev/null', flags: constants.O_RDONLY },
      { kind: 'keep' },
      { kind: 'open', path: '/dev/pts/3', flags: constants.O_RDWR },
    ]);
    expect(sessionFds(planOwnerStdio(['other', 'closed', 'file']), null)).toEqual([
      { kind: 'open', path: '/dev/null', flags: constants.O_RDONLY },
      { kind: 'open', path: '/dev/null', flags: constants.O_WRONLY },
      { kind: 'keep' },
    ]);
  });
});
