// Expected failures are classified from errno, a command's stderr or a SQLSTATE, and the CLI prints them
// as a message with a hint and an exit code, never a stack trace.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CommandError, CryptError, RefusedError } from '../../src/base/errors.js';
import { classifyError, environmentKind, EnvironmentError } from '../../src/base/expected-errors.js';
import { main } from '../../src/cli/program.js';

const errno = (code: string, message: string, p?: string) => Object.assign(new Error(message), { code, path: p });

describe('environmentKind', () => {
  it('reads Node errno codes anywhere in the cause chain', () => {
    expect(environmentKind(errno('ENOSPC', 'ENOSPC: no space left on device, write'))).toBe('no-space');
    expect(environmentKind(new CryptError('snapshot failed', { cause: errno('EROFS', 'EROFS: read-only file system, open') }))).toBe('read-only');
    expect(environmentKind(errno('EACCES', 'EACCES: permission denied'))).toBe('permission');
    expect(environmentKind(errno('EIO', 'EIO: i/o error, read'))).toBe('io-error');
  });
  it('reads a failed command\'s stderr', () => {
    expect(environmentKind(new CommandError(['btrfs', 'subvolume', 'snapshot'], 1, "ERROR: cannot snapshot 'active': No space left on device"))).toBe('no-space');
    expect(environmentKind(new CommandError(['cp'], 1, 'cp: cannot create regular file: Read-only file system'))).toBe('read-only');
  });
  it('reads PostgreSQL SQLSTATEs and connection losses', () => {
    expect(environmentKind(Object.assign(new Error('the database system is in recovery mode'), { code: '57P03' }))).toBe('server-recovering');
    expect(environmentKind(new Error('Connection terminated unexpectedly'))).toBe('server-crashed');
    expect(environmentKind(Object.assign(new Error('could not extend file'), { code: '53100' }))).toBe('no-space');
    // "permission denied for function" is a privilege problem the preflight explains, not a filesystem one.
    expect(environmentKind(Object.assign(new Error('permission denied for function pg_backup_start'), { code: '42501' }))).toBeUndefined();
    expect(environmentKind(new Error('something else'))).toBeUndefined();
  });
});

describe('classifyError', () => {
  it('replaces Node\'s wording with what happened and where, and adds a hint', () => {
    const e = classifyError(errno('ENOSPC', 'ENOSPC: no space left on device, write', '/c/.lychd-crypt/journal.json')) as EnvironmentError;
    expect(e).toBeInstanceOf(EnvironmentError);
    expect(e.kind).toBe('no-space');
    expect(e.message).toBe('no space left on the device (/c/.lychd-crypt/journal.json)');
    expect(e.hint).toMatch(/prune/);
    expect(e.exitCode).toBe(1);
  });
  it('keeps the step\'s own message and hint', () => {
    const e = classifyError(new CryptError('snapshot failed: x', { hint: 'Run repair.', cause: errno('ENOSPC', 'ENOSPC: x') })) as EnvironmentError;
    expect(e.message).toBe('snapshot failed: x');
    expect(e.hint).toMatch(/^Run repair\.\n/);
  });
  it('leaves refusals and unrelated errors alone', () => {
    const r = new RefusedError('refused', { cause: errno('ENOSPC', 'x') });
    expect(classifyError(r)).toBe(r);
    const u = new Error('boom');
    expect(classifyError(u)).toBe(u);
  });
});

describe('the CLI error report', () => {
  const sink = () => {
    const chunks: string[] = [];
    return { stream: new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) }), text: () => chunks.join('') };
  };
  it('prints no stack trace for an expected error, and a --json envelope with kind and hint', async () => {
    const out = sink();
    const err = sink();
    // A crypt path whose parent is a file: opening it fails with a plain Node error (ENOTDIR), unexpected.
    const code = await main(['--json', '--crypt', '/proc/self/status/x', 'list'], { stdout: out.stream, stderr: err.stream, stdinIsTTY: false, env: {} });
    expect(code).not.toBe(0);
    expect(err.text()).not.toMatch(/\n\s+at /);
    expect(JSON.parse(out.text()).ok).toBe(false);
  });
  it('LYCHD_DEBUG=1 shows the stack trace', async () => {
    const out = sink();
    const err = sink();
    await main(['--crypt', '/proc/self/status/x', 'list'], { stdout: out.stream, stderr: err.stream, stdinIsTTY: false, env: { LYCHD_DEBUG: '1' } });
    expect(err.text()).toMatch(/\n\s+at /);
  });
});

describe('verify: could not run here, or the snapshot is bad', async () => {
  const { couldNotRun } = await import('../../src/runtime/verify/could-not-run.js');
  it('a full crypt seen in the clone server\'s log: could not run here', () => {
    expect(couldNotRun(new Error('the clone did not start (pg_ctl exit 1):\nPANIC: could not write to file "pg_wal/xlogtemp.1": No space left on device'))?.kind).toBe('no-space');
  });
  it('our own mkdtemp on a read-only or forbidden directory: could not run here', () => {
    expect(couldNotRun(errno('EROFS', 'EROFS: read-only file system, mkdtemp'))?.kind).toBe('read-only');
    expect(couldNotRun(errno('EACCES', 'EACCES: permission denied, mkdtemp'))?.kind).toBe('permission');
  });
  it('an I/O error reading the snapshot, or the server refusing its files: the snapshot\'s fault', () => {
    expect(couldNotRun(new Error('could not read block 0 in file "base/5/1259": Input/output error'))).toBeNull();
    expect(couldNotRun(new Error('FATAL: data directory "/x" has invalid permissions'))).toBeNull();
    expect(couldNotRun(new Error('could not open file "global/pg_control": Permission denied'))).toBeNull();
  });
});
