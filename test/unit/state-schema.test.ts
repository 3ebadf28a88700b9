// The journal and snapshot metadata are checked against their schemas before anything acts on them:
// a missing field, a wrong type, an unknown operation, a name that climbs out of the crypt, a link, a FIFO
// or a huge file is an UnusableJournalError (exit 3) naming the file and the fix — never an internal error.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cryptPaths, type CryptPaths } from '../../src/base/crypt/paths.js';
import { checkJournal } from '../../src/care/check-journal.js';
import { parseJournal } from '../../src/base/crypt/journal-schema.js';
import { readJournal, UnusableJournalError } from '../../src/base/crypt/journal.js';
import { parseMeta } from '../../src/runtime/snapshots/meta-schema.js';
import { readMeta, UnusableMetaError } from '../../src/runtime/snapshots/meta.js';
import { exitCodeFor } from '../../src/base/errors.js';
import { buildMeta } from '../../src/runtime/ritual/metadata.js';

const rollback = { op: 'rollback', id: '20261123T205512Z-ab12', startedAt: '2026-11-23T20:55:12.000Z', target: 't', staging: '.staging-x', preRollbackName: 'p', phase: 'started', wasRunning: true, stagedUuid: null };

describe('the journal schema', () => {
  it('accepts what the tool writes', () => {
    expect(parseJournal(rollback)).toEqual({ entry: rollback });
    expect(parseJournal({ op: 'snapshot', id: 'a', startedAt: '2026-11-23T20:55:12Z', name: 'n', phase: 'started' })).toHaveProperty('entry');
    const run = { op: 'run', id: 'a', startedAt: '2026-11-23T20:55:12Z', snapshot: 's', command: ['true'], onFailure: 'keep', phase: 'running', pid: 12, pidStart: null, dbWasRunning: false };
    expect(parseJournal(run)).toHaveProperty('entry');
    expect(parseJournal({ op: 'nocow-rewrite', id: 'a', startedAt: '2026-11-23T20:55:12Z', staging: 'active/.lychd-nocow-x', phase: 'copying', pgdata: 'active/postgres' })).toHaveProperty('entry');
  });

  it('says what is wrong, in one line', () => {
    const { target: _t, ...noTarget } = rollback;
    expect(parseJournal(noTarget)).toEqual({ problem: 'target: expected string, got nothing' });
    expect(parseJournal({ ...rollback, wasRunning: 'yes' })).toEqual({ problem: 'wasRunning: expected boolean, got "yes"' });
    // Every operation the journal knows is listed (more join as commands are journaled).
    expect(parseJournal({ ...rollback, op: 'format-disk' })).toEqual({ problem: expect.stringMatching(/^op: expected one of rollback, snapshot, run, nocow-rewrite(, [a-z-]+)*, got "format-disk"$/) });
    expect(parseJournal({ ...rollback, staging: '../../etc' })).toEqual({ problem: 'staging: expected a plain name (no /, not . or ..), got "../../etc"' });
    expect(parseJournal({ ...rollback, extra: 1 })).toEqual({ problem: 'unknown key "extra"' });
    expect(parseJournal({ ...rollback, startedAt: 'yesterday', phase: '' })).toEqual({ problem: 'startedAt: expected a time such as 2026-11-23T20:55:12.000Z, got "yesterday", and 1 more problem' });
    expect(parseJournal([1])).toEqual({ problem: 'expected object, got a list' });
    expect(parseJournal({ op: 'nocow-rewrite', id: 'a', startedAt: '2026-11-23T20:55:12Z', staging: '/etc', phase: 'x' })).toEqual({ problem: 'staging: expected a path inside the crypt (relative, without ..), got "/etc"' });
  });
});

describe('readJournal', () => {
  let dir: string;
  let paths: CryptPaths;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'lychd-journal-'));
    paths = cryptPaths('/nonexistent/crypt', dir);
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  const unusable = async (): Promise<UnusableJournalError> => {
    const e = await readJournal(paths).then(() => null, (x: unknown) => x);
    expect(e).toBeInstanceOf(UnusableJournalError);
    expect(exitCodeFor(e)).toBe(3);
    expect((e as Error).message).toContain(paths.journal);
    expect((e as UnusableJournalError).hint).toMatch(/lychd-crypt repair/);
    return e as UnusableJournalError;
  };

  it('none is undefined; a valid one is the entry', async () => {
    expect(await readJournal(paths)).toBeUndefined();
    await writeFile(paths.journal, JSON.stringify(rollback));
    expect(await readJournal(paths)).toEqual(rollback);
  });

  it('missing fields, wrong types, an unknown op, not JSON, too large, a link, a FIFO: each named', async () => {
    const cases: [string | (() => Promise<void>), RegExp][] = [
      [JSON.stringify({ op: 'rollback', phase: 'started' }), /is not a journal entry this version can act on \(id: expected string, got nothing, and 5 more problems\)/],
      [JSON.stringify({ ...rollback, target: 7 }), /target: expected string, got number 7/],
      [JSON.stringify({ ...rollback, op: 'mkfs' }), /op: expected one of rollback, snapshot, run, nocow-rewrite(, [a-z-]+)*, got "mkfs"/],
      ['{"op": "rollback", ', /is not JSON/],
      [JSON.stringify({ ...rollback, pad: 'x'.repeat(200_000) }), /is 196 KiB, more than the 64 KiB it can be/],
      [async () => symlink('/etc/shadow', paths.journal), /is a symbolic link/],
      [async () => void execFileSync('mkfifo', [paths.journal]), /is a FIFO/],
    ];
    for (const [content, why] of cases) {
      await rm(paths.journal, { force: true });
      if (typeof content === 'string') await writeFile(paths.journal, content);
      else await content();
      const e = await unusable();
      expect(e.message).toMatch(why);
      expect(e.message).not.toMatch(/undefined|Cannot read/);
    }
  });

  it('doctor: a finding that shows the journal, and the set-aside step repair takes (with consent)', async () => {
    await writeFile(paths.journal, JSON.stringify({ op: 'rollback', phase: 'started' }));
    const e = await unusable();
    const c = checkJournal(e);
    expect(c.status).toBe('problem');
    expect(c.finding).toContain(paths.journal);
    expect(c.finding).toContain('it reads: {"op":"rollback","phase":"started"}');
    expect(c.finding).not.toMatch(/undefined/);
    expect(c.steps).toEqual([{ kind: 'set-aside', path: paths.journal, why: 'the unusable journal' }]);
  });
});

describe('snapshot metadata', () => {
  const good = buildMeta({ name: '20261123T205512Z', label: null, createdAt: new Date('2026-11-23T20:55:12Z'), mode: 'none', hasDatabase: false, startLsn: null, stop: null, btrfs: { uuid: 'u', generation: 7 } });

  it('what the Ritual writes passes; a later version\'s extra key is kept', () => {
    expect(parseMeta(good)).toEqual({ meta: good });
    expect(parseMeta({ ...good, future: { x: 1 } })).toEqual({ meta: { ...good, future: { x: 1 } } });
  });

  it('a wrong type or a missing field is one line', () => {
    expect(parseMeta({ ...good, label: 5 })).toEqual({ problem: 'label: expected string, got number 5' });
    const { createdAt: _c, ...noTime } = good;
    expect(parseMeta(noTime)).toEqual({ problem: 'createdAt: expected string, got nothing' });
    expect(parseMeta({ ...good, origin: { kind: 'pre-rollback' } })).toEqual({ problem: 'origin.rollbackTo: expected string, got nothing, and 1 more problem' });
  });

  it('readMeta: invalid, foreign-named, a link: an UnusableMetaError naming the file', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'lychd-meta-'));
    try {
      const paths = cryptPaths(dir, dir);
      await mkdir(paths.snapshots);
      const file = path.join(paths.snapshots, `${good.name}.json`);
      for (const [write, why] of [
        [() => writeFile(file, JSON.stringify({ ...good, timings: 'fast' })), /is not valid snapshot metadata \(timings: expected record, got "fast"\)/],
        [() => writeFile(file, JSON.stringify({ ...good, name: 'other' })), /names another snapshot, "other"/],
        [() => symlink('/etc/passwd', file), /is a symbolic link/],
      ] as const) {
        await rm(file, { force: true });
        await write();
        const e = await readMeta(paths, good.name).then(() => null, (x: unknown) => x);
        expect(e).toBeInstanceOf(UnusableMetaError);
        expect((e as Error).message).toContain(file);
        expect((e as Error).message).toMatch(why);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
