// Finding COMMAND on PATH as execvp would (run and hooks start it through posix_spawn, which does not look).
import { chmodSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveCommand } from '../../src/base/command-path.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-unit-path-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('resolveCommand', () => {
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  mkdirSync(a);
  mkdirSync(b);
  writeFileSync(path.join(a, 'tool'), 'not executable');
  writeFileSync(path.join(b, 'tool'), '#!/bin/sh\n');
  chmodSync(path.join(b, 'tool'), 0o755);
  mkdirSync(path.join(a, 'dir'));
  chmodSync(path.join(a, 'dir'), 0o755);

  it('takes the first executable file on PATH, skipping what is not executable or not a file', () => {
    expect(resolveCommand('tool', { PATH: `${a}:${b}` })).toBe(path.join(b, 'tool'));
    expect(resolveCommand('dir', { PATH: a })).toBeNull();
  });
  it('uses a name with a slash as it is, and says null when nothing is found', () => {
    expect(resolveCommand('./x/y', { PATH: a })).toBe('./x/y');
    expect(resolveCommand('no-such-tool', { PATH: `${a}:${b}` })).toBeNull();
  });
});
