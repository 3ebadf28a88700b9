// The bad-answers matrix: every problem reported at file:line:col with its key path, what was expected
// and what was found — all of them at once, before anything happens.
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAnswersFile, locateAnswerError, parseAnswers } from '../../src/install/answers/load.js';
import { pgBinProblem } from '../../src/base/pg/bin.js';
import { AnswersError, ExitCode, UsageError, type AnswersIssue } from '../../src/base/errors.js';

/** The issues parseAnswers reports for `text` (it must throw an AnswersError). */
function issues(text: string): AnswersIssue[] {
  try {
    parseAnswers(text, 'answers.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(AnswersError);
    expect((e as AnswersError).exitCode).toBe(ExitCode.usage);
    return (e as AnswersError).issues;
  }
  throw new Error('expected the answers to be rejected');
}

/** The one-line messages, as the user sees them. */
function lines(text: string): string[] {
  return issues(text).map((i) => `${i.file}:${i.line}:${i.col}: ${i.path ? `${i.path}: ` : ''}${i.message}`);
}

describe('answers validation: accepted files', () => {
  it('a minimal file takes every default', () => {
    expect(parseAnswers('version: 1\n', 'a.yaml')).toMatchObject({ version: 1, method: 'auto' });
  });

  it('a full file is accepted as written', () => {
    const a = parseAnswers(
      [
        'version: 1',
        'crypt: { path: /srv/lychd, user: alice }',
        'method: loopback',
        'loopback: { image: /var/lib/lychd/crypt.img, size: 20G }',
        'filesystem: { label: lychd, mountOptions: [noatime, "compress=zstd:1"] }',
        'persist: { via: fstab, fstab: /etc/fstab, unitDir: /etc/systemd/system }',
        'install: { binDir: /usr/local/bin }',
        'postgres:',
        '  osUser: 999',
        '  connection: { host: /run/postgresql, port: 5433 }',
        '  service: { kind: systemd, unit: postgresql@15-main.service }',
        '',
      ].join('\n'),
      'a.yaml',
    );
    expect(a.loopback).toEqual({ image: '/var/lib/lychd/crypt.img', size: '20G' });
    expect(a.postgres?.service).toEqual({ kind: 'systemd', unit: 'postgresql@15-main.service', user: false });
    expect(a.postgres?.osUser).toBe(999);
  });

  it('quoted text that looks like a number or a boolean is text', () => {
    const a = parseAnswers('version: 1\nfilesystem: { label: "0755" }\ncrypt: { user: "0755" }\n', 'a.yaml');
    expect(a.filesystem?.label).toBe('0755');
    expect(a.crypt?.user).toBe('0755');
  });
});

describe('answers validation: the bad-answers matrix', () => {
  it('unknown top-level key', () => {
    expect(lines('version: 1\nmethd: loopback\n')).toEqual([
      'answers.yaml:2:1: methd: unknown key "methd": did you mean "method"?',
    ]);
    // Nothing close: no guess.
    expect(lines('version: 1\nfoo: 1\n')).toEqual(['answers.yaml:2:1: foo: unknown key "foo": remove it or check its spelling']);
  });

  it('did you mean: the nearest key of that very mapping, at any depth', () => {
    expect(lines('version: 1\npersist: { via: fstab, fstb: /etc/fstab }\n')).toEqual([
      'answers.yaml:2:24: persist.fstb: unknown key "fstb": did you mean "fstab"?',
    ]);
    expect(lines('version: 1\nretention: { keepLastt: 3 }\n')).toEqual([
      'answers.yaml:2:14: retention.keepLastt: unknown key "keepLastt": did you mean "keepLast"?',
    ]);
    // Of a discriminated union: the keys of the chosen kind (unit belongs to systemd).
    expect(lines('version: 1\npostgres:\n  service: { kind: systemd, unti: x }\n')).toContain(
      'answers.yaml:3:29: postgres.service.unti: unknown key "unti": did you mean "unit"?',
    );
    // Case and a swap of two letters count as near.
    expect(lines('version: 1\nfilesystem: { mountoptions: [noatime] }\n')[0]).toMatch(/did you mean "mountOptions"\?$/);
    expect(lines('version: 1\ncrypt: { paht: /srv/x }\n')[0]).toMatch(/did you mean "path"\?$/);
  });

  it('unknown nested keys, at any depth', () => {
    expect(lines('version: 1\nloopback:\n  image: /x.img\n  sise: 20G\n')).toEqual([
      'answers.yaml:4:3: loopback.sise: unknown key "sise": did you mean "size"?',
    ]);
    expect(lines('version: 1\npostgres:\n  connection:\n    hots: /run/postgresql\n')).toEqual([
      'answers.yaml:4:5: postgres.connection.hots: unknown key "hots": did you mean "host"?',
    ]);
    expect(lines('version: 1\npostgres:\n  service: { kind: pg_ctl, unit: x }\n')).toEqual([
      'answers.yaml:3:28: postgres.service.unit: unknown key "unit": remove it or check its spelling',
    ]);
  });

  it('wrong types: expected vs got', () => {
    expect(lines('version: 1\npostgres:\n  connection:\n    port: "5432"\n')).toEqual([
      'answers.yaml:4:11: postgres.connection.port: expected a port number from 1 to 65535, got "5432"',
    ]);
    expect(lines('version: 1\nfilesystem:\n  mountOptions: noatime\n')).toEqual([
      'answers.yaml:3:17: filesystem.mountOptions: expected a list, got "noatime"',
    ]);
    expect(lines('version: 1\ncrypt: [/srv/lychd]\n')).toEqual(['answers.yaml:2:8: crypt: expected a mapping, got a list']);
    expect(lines('version: 1\ncrypt:\n')).toEqual(['answers.yaml:2:7: crypt: expected a mapping, got an empty value (null)']);
    expect(lines('version: 1\nmethod: lvm\n')).toEqual([
      'answers.yaml:2:9: method: expected one of auto, native, partition, loopback, got "lvm"',
    ]);
    expect(lines('version: 1\npostgres:\n  service: { kind: docker }\n')).toEqual([
      'answers.yaml:3:20: postgres.service.kind: expected kind: pg_ctl, systemd, command, container or none, got "docker"',
    ]);
    expect(lines('version: 1\npostgres:\n  service: { kind: systemd }\n')).toEqual([
      'answers.yaml:3:12: postgres.service.unit: expected a string, got nothing (the key is missing)',
    ]);
  });

  it('bad sizes', () => {
    expect(lines('version: 1\nloopback:\n  size: twenty\n')).toEqual([
      'answers.yaml:3:9: loopback.size: expected a size like 20G, got "twenty"',
    ]);
    expect(lines('version: 1\nloopback: { size: -5 }\n')).toEqual([
      'answers.yaml:2:19: loopback.size: expected a size like 20G, got number -5',
    ]);
    expect(lines('version: 1\nloopback: { size: 64M }\n')).toEqual([
      'answers.yaml:2:19: loopback.size: expected at least 128M (mkfs.btrfs needs about 114M; a bare number counts bytes), got "64M"',
    ]);
    expect(lines('version: 1\nloopback: { size: true }\n')[0]).toBe('answers.yaml:2:19: loopback.size: expected a size like 20G, got true');
  });

  it('relative paths', () => {
    expect(lines('version: 1\ncrypt:\n  path: data/lychd\n')).toEqual([
      'answers.yaml:3:9: crypt.path: expected an absolute path (starting with /), got "data/lychd"',
    ]);
    expect(lines('version: 1\nloopback: { image: crypt.img }\npersist: { fstab: etc/fstab }\ninstall: { binDir: ./bin }\n')).toEqual([
      'answers.yaml:2:20: loopback.image: expected an absolute path (starting with /), got "crypt.img"',
      'answers.yaml:3:19: persist.fstab: expected an absolute path (starting with /), got "etc/fstab"',
      'answers.yaml:4:20: install.binDir: expected an absolute path (starting with /), got "./bin"',
    ]);
    expect(lines('version: 1\npostgres: { dir: ../escape }\n')).toEqual([
      'answers.yaml:2:18: postgres.dir: expected a relative path inside active/, got "../escape"',
    ]);
  });

  it('values pg_ctl hands to /bin/sh: quotes, $, backquotes and backslashes are refused, each character named', () => {
    expect(lines('version: 1\ncrypt:\n  path: "/srv/$(touch x)/lychd"\n')).toEqual([
      'answers.yaml:3:9: crypt.path: expected a path without characters /bin/sh interprets (pg_ctl starts PostgreSQL through it); it holds $, got "/srv/$(touch x)/lychd"',
    ]);
    expect(lines('version: 1\npostgres:\n  dir: "pg`id`"\n  bin: \'/opt/pg "15"/bin\'\n  connection: { host: "/run/a\\\\b" }\nregistry: { state: "/var/lib/it\'s" }\n')).toEqual([
      'answers.yaml:3:8: postgres.dir: expected a path without characters /bin/sh interprets (pg_ctl starts PostgreSQL through it); it holds ` (backquote), got "pg`id`"',
      'answers.yaml:4:8: postgres.bin: expected a path without characters /bin/sh interprets (pg_ctl starts PostgreSQL through it); it holds " (double quote), got "/opt/pg \\"15\\"/bin"',
      'answers.yaml:5:23: postgres.connection.host: expected a path without characters /bin/sh interprets (pg_ctl starts PostgreSQL through it); it holds \\ (backslash), got "/run/a\\\\b"',
      'answers.yaml:6:20: registry.state: expected a path without characters /bin/sh interprets (pg_ctl starts PostgreSQL through it); it holds \' (quote), got "/var/lib/it\'s"',
    ]);
    // Spaces and other characters pg_ctl quotes safely are fine.
    expect(parseAnswers('version: 1\ncrypt: { path: "/srv/my crypt;1&*" }\n', 'a.yaml').crypt?.path).toBe('/srv/my crypt;1&*');
  });

  it('wrong or missing version', () => {
    expect(lines('version: 2\n')).toEqual(['answers.yaml:1:10: version: expected version: 1, got number 2']);
    expect(lines('version: "1"\n')).toEqual(['answers.yaml:1:10: version: expected version: 1, got "1"']);
    expect(lines('crypt: { path: /srv/lychd }\n')).toEqual([
      'answers.yaml:1:1: version: expected version: 1, got nothing (the key is missing)',
    ]);
    expect(lines('')).toEqual(['answers.yaml:1:1: expected a mapping that starts with version: 1']);
    expect(lines('- version: 1\n')).toEqual(['answers.yaml:1:1: expected a mapping that starts with version: 1']);
  });

  it('duplicate keys, top-level and nested', () => {
    expect(lines('version: 1\nmethod: auto\nmethod: native\n')).toEqual([
      'answers.yaml:3:1: method: duplicate key: each key may appear once',
    ]);
    expect(lines('version: 1\ncrypt:\n  path: /a\n  path: /b\n')).toEqual([
      'answers.yaml:4:3: crypt.path: duplicate key: each key may appear once',
    ]);
  });

  it('YAML syntax errors: in plain words, on the line of the mistake, once each', () => {
    // The parser says "Nested mappings are not allowed in compact mappings" at line 3; the mistake is line 4.
    expect(lines('version: 1\ncrypt:\n  path: /a\n   user: bob\n')).toEqual([
      'answers.yaml:4:4: crypt.path: "user" is indented more than "path" on line 3 (3 spaces, not 2): keys of one mapping must start in the same column',
    ]);
    expect(lines('version: 1\ncrypt:\n  path: /a\n user: bob\n')).toEqual([
      'answers.yaml:4:2: "user" does not line up with the keys of its mapping (1 space; the line above has 2): keys of one mapping must start in the same column',
    ]);
    expect(lines('version: 1\ncrypt: { path: /a\n')).toEqual([
      'answers.yaml:2:8: crypt: this { is not closed: end it with } on the same line (or indent its continuation lines)',
    ]);
    expect(lines('version: 1\nfilesystem: { mountOptions: [noatime }\n')[0]).toMatch(/^answers.yaml:2:\d+: .*this \[ is not closed: end it with \]/);
    expect(lines('version: 1\ncrypt: { path: "/a }\n')).toEqual(['answers.yaml:2:16: crypt.path: this quoted text is not closed: add the closing quote']);
    expect(lines('version: 1\ncrypt:\n\tpath: /a\n')).toEqual(['answers.yaml:3:1: a tab indents this line: YAML indents with spaces only']);
    expect(lines('version: 1\nmethod:loopback\n')).toEqual(['answers.yaml:2:8: a space must follow the colon: write "method: loopback"']);
    expect(lines('version: 1\ncrypt:\n  path: /a: b\n')).toEqual(['answers.yaml:3:9: crypt.path: a value that contains ": " must be quoted: write path: "/a: b"']);
    expect(lines('version: 1\nfoo\nmethod: auto\n')).toEqual(['answers.yaml:2:1: "foo" is neither "key: value" nor a list item: add ": value", or remove the line']);
    expect(lines('version: 1\n---\nversion: 1\n')).toEqual([
      'answers.yaml:2:1: expected one YAML document: remove this "---" and what follows, or merge it into the first',
    ]);
  });

  it('a syntax error does not hide the other mistakes of the file', () => {
    expect(lines('version: 1\ncrypt:\n  path: /a\n   user: bob\nloopback:\n  size: 20G\n   image: /x\nmethd: native\n')).toEqual([
      'answers.yaml:4:4: crypt.path: "user" is indented more than "path" on line 3 (3 spaces, not 2): keys of one mapping must start in the same column',
      'answers.yaml:7:4: loopback.size: "image" is indented more than "size" on line 6 (3 spaces, not 2): keys of one mapping must start in the same column',
      'answers.yaml:8:1: methd: unknown key "methd": did you mean "method"?',
    ]);
  });

  it('YAML 1.2 traps: yes/no/on/off are strings, with a hint', () => {
    expect(lines('version: 1\npartition:\n  device: /dev/sdz\n  wipe: no\n')).toEqual([
      'answers.yaml:4:9: partition.wipe: expected true or false, got "no" (YAML 1.2 reads no as the string "no"; write true or false)',
    ]);
    expect(lines('version: 1\npartition: { device: /dev/sdz, wipe: yes }\n')[0]).toContain('write true or false');
    expect(lines('version: 1\npostgres: { enabled: off }\n')).toEqual([
      'answers.yaml:2:22: postgres.enabled: expected true or false, got "off" (YAML 1.2 reads off as the string "off"; write true or false)',
    ]);
  });

  it('YAML 1.2 traps: 0755 is a decimal number, with a hint, even where a number is allowed', () => {
    expect(lines('version: 1\nfilesystem:\n  label: 0755\n')).toEqual([
      'answers.yaml:3:10: filesystem.label: expected a label (text), got number 755 (YAML 1.2 reads 0755 as the decimal number 755, YAML 1.1 as octal 493; write 755 without the zero, or quote it ("0755") if you meant text)',
    ]);
    // osUser takes a uid: 0755 would silently become uid 755 — refuse the ambiguity.
    expect(lines('version: 1\npostgres:\n  osUser: 0755\n')).toEqual([
      'answers.yaml:3:11: postgres.osUser: ambiguous number 0755 (YAML 1.2 reads 0755 as the decimal number 755, YAML 1.1 as octal 493; write 755 without the zero, or quote it ("0755") if you meant text)',
    ]);
    expect(lines('version: 1\npostgres: { connection: { port: 05432 } }\n')[0]).toMatch(
      /^answers.yaml:2:33: postgres.connection.port: ambiguous number 05432 \(YAML 1.2 reads 05432 as the decimal number 5432, YAML 1.1 as octal 2842; write 5432 without the zero,/
    );
  });

  it('several errors at once: all reported, in file order', () => {
    const text = ['version: 2', 'foo: 1', 'loopback:', '  size: twenty', '  image: rel.img', 'crypt:', '  path: rel', 'partition: { device: /dev/sdz, wipe: no }', ''].join('\n');
    expect(lines(text)).toEqual([
      'answers.yaml:1:10: version: expected version: 1, got number 2',
      'answers.yaml:2:1: foo: unknown key "foo": remove it or check its spelling',
      'answers.yaml:4:9: loopback.size: expected a size like 20G, got "twenty"',
      'answers.yaml:5:10: loopback.image: expected an absolute path (starting with /), got "rel.img"',
      'answers.yaml:7:9: crypt.path: expected an absolute path (starting with /), got "rel"',
      'answers.yaml:8:38: partition.wipe: expected true or false, got "no" (YAML 1.2 reads no as the string "no"; write true or false)',
    ]);
  });

  it('the error message joins the issues and says nothing was changed', () => {
    try {
      parseAnswers('version: 1\nfoo: 1\nbar: 2\n', 'x.yaml');
      expect.unreachable();
    } catch (e) {
      // Each issue with a code frame: the line and a caret under the column.
      expect((e as AnswersError).message).toBe(
        [
          'x.yaml:2:1: foo: unknown key "foo": remove it or check its spelling',
          '  2 | foo: 1',
          '    | ^',
          'x.yaml:3:1: bar: unknown key "bar": remove it or check its spelling',
          '  3 | bar: 2',
          '    | ^',
        ].join('\n'),
      );
      expect((e as AnswersError).hint).toMatch(/nothing was changed/);
    }
  });

  it('a missing file is a usage error naming it', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-answers-'));
    try {
      await expect(loadAnswersFile(path.join(dir, 'nope.yaml'))).rejects.toThrow(UsageError);
      // One line, no raw ENOENT.
      const message = (p: string) => loadAnswersFile(p).then(() => '', (e: Error) => e.message);
      expect(await message(path.join(dir, 'nope.yaml'))).toBe(`answers file ${path.join(dir, 'nope.yaml')} does not exist; nothing was changed`);
      expect(await message(dir)).toBe(`answers file ${dir} is a directory, not a file; nothing was changed`);
      const file = path.join(dir, 'bad.yaml');
      writeFileSync(file, 'version: 1\nloopback: { size: twenty }\n');
      await expect(loadAnswersFile(file)).rejects.toThrow(
        `${file}:2:19: loopback.size: expected a size like 20G, got "twenty"\n  2 | loopback: { size: twenty }\n    |                   ^`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('answers checked against the host keep their file:line:col', () => {
  const text = ['version: 1', 'postgres:', '  osUser: nobody-here', '  bin: /nowhere/bin', ''].join('\n');

  it('a refusal naming a key becomes an issue at that key, with its code frame and its own hint', () => {
    const answers = parseAnswers(text, 'a.yaml');
    const located = locateAnswerError(new UsageError('postgres.osUser: no such user: nobody-here', { hint: 'Install PostgreSQL.' }), answers);
    expect(located).toBeInstanceOf(AnswersError);
    expect((located as AnswersError).issues).toEqual([{ file: 'a.yaml', line: 3, col: 11, path: 'postgres.osUser', message: 'no such user: nobody-here' }]);
    expect((located as AnswersError).message).toBe('a.yaml:3:11: postgres.osUser: no such user: nobody-here\n  3 |   osUser: nobody-here\n    |           ^');
    expect((located as AnswersError).hint).toBe('Install PostgreSQL.');
    expect((located as AnswersError).exitCode).toBe(ExitCode.usage);
  });

  it('a key the file leaves to its default points at the nearest key that is there', () => {
    const answers = parseAnswers(text, 'a.yaml');
    const located = locateAnswerError(new UsageError('postgres.dir: x'), answers) as AnswersError;
    expect(located.issues[0]).toMatchObject({ line: 2, col: 1, path: 'postgres.dir' });
  });

  it('anything else is left as it is', () => {
    const answers = parseAnswers(text, 'a.yaml');
    const other = new UsageError('method native needs the crypt path on Btrfs');
    expect(locateAnswerError(other, answers)).toBe(other);
    const notAKey = new UsageError('nosuch.key: x');
    expect(locateAnswerError(notAKey, answers)).toBe(notAKey);
    // Answers not read from a file (the interactive installer's) have no lines to point at.
    const mine = new UsageError('postgres.osUser: no such user: x');
    expect(locateAnswerError(mine, { ...answers })).toBe(mine);
  });

  it('connection.host: a socket directory must be absolute; a host name is fine', () => {
    expect(lines('version: 1\npostgres: { connection: { host: run/postgresql } }\n')).toEqual([
      'answers.yaml:2:33: postgres.connection.host: expected an absolute socket directory (starting with /) or a host name, got "run/postgresql"',
    ]);
    expect(lines('version: 1\npostgres: { connection: { host: ./sock } }\n')[0]).toMatch(/expected an absolute socket directory/);
    for (const host of ['/run/postgresql', 'localhost', 'db.example.org', '10.0.0.5']) {
      expect(parseAnswers(`version: 1\npostgres: { connection: { host: ${host} } }\n`, 'a.yaml').postgres?.connection?.host).toBe(host);
    }
  });

  it('postgres.bin: missing, not a directory, or without pg_ctl', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-pgbin-'));
    try {
      expect(await pgBinProblem(path.join(dir, 'nope'))).toBe(`${path.join(dir, 'nope')} does not exist`);
      writeFileSync(path.join(dir, 'file'), '');
      expect(await pgBinProblem(path.join(dir, 'file'))).toBe(`${path.join(dir, 'file')} is not a directory`);
      expect(await pgBinProblem(dir)).toBe(`${dir} has no pg_ctl (expected the directory of the PostgreSQL programs)`);
      writeFileSync(path.join(dir, 'pg_ctl'), '#!/bin/sh\n', { mode: 0o755 });
      expect(await pgBinProblem(dir)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('YAML syntax: one report per mistake', () => {
  it('an unclosed [ inside { … }: the [ only, not the { whose } it swallowed', () => {
    expect(lines('version: 1\nloopback: { size: [20G }\n')).toEqual([
      'answers.yaml:2:19: loopback.size: this [ is not closed: end it with ] on the same line (or indent its continuation lines)',
    ]);
  });
});
