// Reading snapshots/: only entries of the name grammar count; anything else the crypt's owner can put there
// (hostile names, names that are not UTF-8, links, metadata naming another snapshot) is foreign — kept out
// of every list and shown only escaped. A plain temporary directory stands in for snapshots/ (names only).
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cryptPaths } from '../../src/base/crypt/paths.js';
import { describeForeign } from '../../src/runtime/snapshots/foreign.js';
import { readSnapshotDir } from '../../src/runtime/snapshots/meta.js';
import { takenNames } from '../../src/runtime/snapshots/taken.js';
import { hasControlChars } from '../../src/base/output/text.js';

const meta = (name: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ format: 1, name, label: null, createdAt: '2026-01-01T00:00:00.000Z', mode: 'none', origin: { kind: 'snapshot' }, postgres: null, btrfs: null, timings: {}, toolVersion: 't', ...extra });

describe('snapshots/ as the catalog reads it', () => {
  let root: string;
  let dir: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'lychd-snapdir-'));
    dir = path.join(root, 'snapshots');
    mkdirSync(dir);
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** A snapshot: its directory and its metadata (which may name another). */
  const plant = (name: string | Buffer, metaName: string = String(name)) => {
    const d = typeof name === 'string' ? path.join(dir, name) : Buffer.concat([Buffer.from(`${dir}/`), name]);
    mkdirSync(d);
    writeFileSync(typeof name === 'string' ? `${d}.json` : Buffer.concat([d as Buffer, Buffer.from('.json')]), meta(metaName));
  };

  it('keeps snapshots of the grammar and sets everything else apart, escaped', async () => {
    plant('20260101T000000Z-good');
    const hostile = ['$(touch${IFS}pwned)', '`id`', 'a;b', '*', 'x\ny', '\u001b]0;owned\u0007', '\u001b[8mhidden', 'a\u202eexe.txt', 'a\u0085b', 'latest'];
    for (const n of hostile) plant(n);
    plant(Buffer.from([0x32, 0xff, 0xfe, 0x1b, 0x5b, 0x33, 0x31, 0x6d])); // not UTF-8, with a colour code
    plant('20260101T000000Z-liar', '$(touch pwned)\u001b[2J'); // metadata naming another
    symlinkSync('/etc', path.join(dir, '20260101T000000Z-link'));
    writeFileSync(path.join(dir, '20260101T000000Z-file'), 'x');
    mkdirSync(path.join(dir, '20260101T000000Z-dir.json'));
    writeFileSync(path.join(dir, '.20260101T000000Z-good.json.0123abcd.tmp'), '{'); // ours: a metadata write in progress

    const paths = cryptPaths(root, path.join(root, 'state'));
    const read = await readSnapshotDir(paths);
    expect(read.complete.map((m) => m.name)).toEqual(['20260101T000000Z-good']);
    expect(read.incomplete).toEqual([]);
    expect(read.orphanMeta).toEqual([]);
    expect(read.unreadableMeta).toEqual([]);
    const lines = read.foreign.map(describeForeign);
    // Every hostile directory and its .json: 2 each; the non-UTF-8 pair; the liar (once); link, file, dir.json.
    expect(lines).toHaveLength(hostile.length * 2 + 2 + 1 + 3);
    for (const l of lines) expect(hasControlChars(l), l).toBe(false);
    expect(lines).toContain('\\x1b]0;owned\\x07');
    expect(lines).toContain('a\\u202eexe.txt');
    expect(lines).toContain('2\\xff\\xfe\\x1b[31m');
    expect(lines).toContain('20260101T000000Z-liar (its metadata names "$(touch pwned)\\x1b[2J")');
    expect(lines).toContain('20260101T000000Z-link (a symbolic link)');
    expect(lines).toContain('20260101T000000Z-file (a file)');
    expect(lines).toContain('20260101T000000Z-dir.json (a directory)');
    // A new name never collides with a snapshot; foreign names cannot collide with one the tool makes.
    expect([...(await takenNames(dir))].sort()).toEqual(['20260101T000000Z-dir', '20260101T000000Z-file', '20260101T000000Z-good', '20260101T000000Z-liar', '20260101T000000Z-link']);
  });
});
