// The one reader for files in directories someone else can write (src/base/sys/read-file.ts): a symbolic link,
// a FIFO, a directory, a file too large or of another owner is named, never followed, waited on or read.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { chown, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { closeDir, openDir } from '../../src/base/sys/fd.js';
import { readFileSafely, readTextSafely, UnsafeFileError } from '../../src/base/sys/read-file.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'lychd-read-'));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const refusal = async (p: Promise<unknown>): Promise<UnsafeFileError> => {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(UnsafeFileError);
  return e as UnsafeFileError;
};

describe('readFileSafely', () => {
  it('reads a regular file whole, its head or its tail; a missing one is undefined', async () => {
    const f = path.join(dir, 'f');
    await writeFile(f, 'one\ntwo\nthree\n');
    expect(await readTextSafely(f, { maxBytes: 100 })).toBe('one\ntwo\nthree\n');
    expect(await readTextSafely(f, { maxBytes: 6, part: 'tail' })).toBe('three\n');
    expect(await readTextSafely(f, { maxBytes: 3, part: 'head' })).toBe('one');
    expect(await readTextSafely(path.join(dir, 'none'), { maxBytes: 100 })).toBeUndefined();
    expect(await readTextSafely(path.join(dir, 'none/deeper'), { maxBytes: 100 })).toBeUndefined();
  });

  it('a symbolic link is named, not followed (even to a readable file)', async () => {
    await writeFile(path.join(dir, 'secret'), 'root only');
    await symlink(path.join(dir, 'secret'), path.join(dir, 'log'));
    const e = await refusal(readFileSafely(path.join(dir, 'log'), { maxBytes: 100, part: 'tail' }));
    expect(e.why).toBe('is a symbolic link');
    expect(e.message).not.toContain('root only');
  });

  it('a FIFO returns at once, named (no writer needed, nothing waited for)', async () => {
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    const e = await refusal(readFileSafely(path.join(dir, 'fifo'), { maxBytes: 100 }));
    expect(e.why).toBe('is a FIFO (named pipe), not a regular file');
  });

  it('a directory, a file over the limit, another owner\'s file: refused with what was found', async () => {
    await mkdir(path.join(dir, 'd'));
    expect((await refusal(readFileSafely(path.join(dir, 'd'), { maxBytes: 100 }))).why).toBe('is a directory, not a regular file');
    await writeFile(path.join(dir, 'big'), Buffer.alloc(3 * 2 ** 20));
    expect((await refusal(readFileSafely(path.join(dir, 'big'), { maxBytes: 2 ** 20 }))).why).toBe('is 3.0 MiB, more than the 1.0 MiB it can be');
    // A tail read takes the end of a large file (a server log grows).
    expect((await readFileSafely(path.join(dir, 'big'), { maxBytes: 10, part: 'tail' }))?.length).toBe(10);
    await writeFile(path.join(dir, 'theirs'), 'x');
    await chown(path.join(dir, 'theirs'), 65534, 65534);
    expect((await refusal(readFileSafely(path.join(dir, 'theirs'), { maxBytes: 100, owners: [0] }))).why).toBe('belongs to uid 65534, not 0');
    expect(await readTextSafely(path.join(dir, 'theirs'), { maxBytes: 100, owners: [65534] })).toBe('x');
  });

  it('relative to an open directory: through its fd, shown by its path', async () => {
    await mkdir(path.join(dir, 'logs'));
    await writeFile(path.join(dir, 'logs', 'pg.log'), 'tail line\n');
    await symlink('/etc/hostname', path.join(dir, 'logs', 'link.log'));
    const d = await openDir(path.join(dir, 'logs'));
    try {
      expect(await readTextSafely({ dir: d, name: 'pg.log' }, { maxBytes: 100 })).toBe('tail line\n');
      const e = await refusal(readFileSafely({ dir: d, name: 'link.log' }, { maxBytes: 100 }));
      expect(e.file).toBe(path.join(dir, 'logs', 'link.log'));
      await expect(readFileSafely({ dir: d, name: '../x' }, { maxBytes: 100 })).rejects.toThrow(/one name/);
    } finally {
      await closeDir(d);
    }
  });
});
