// dieBySignal ends the process by the signal when nothing else keeps Node's event loop alive and the command
// never returns (verify interrupted while its clone server runs; a full run once saw that verify exit 0).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/env.js';

describe('dieBySignal', () => {
  let dir: string;
  let entry: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-die-'));
    const r = spawnSync('node', [path.join(REPO, 'scripts/build.mjs'), path.join(REPO, 'test/fixtures/die-by-signal-entry.ts'), dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    entry = path.join(dir, 'lychd-crypt.js');
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the process is killed by the signal it re-raises', () => {
    for (let i = 0; i < 5; i++) {
      const r = spawnSync('node', [entry], { encoding: 'utf8', timeout: 20_000 });
      expect({ status: r.status, signal: r.signal }).toEqual({ status: null, signal: 'SIGTERM' });
    }
  });
});
