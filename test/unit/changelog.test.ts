// CHANGELOG.md is the one changelog: its newest entry is package.json's version, and the Debian changelog
// made from it is what dpkg-parsechangelog accepts.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { debianDate, parseChangelog, renderDebianChangelog } from '../../packaging/changelog.js';
import { REPO, toolSkipReason } from '../helpers/env.js';

const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string; author: string };
const text = readFileSync(path.join(REPO, 'CHANGELOG.md'), 'utf8');

describe('CHANGELOG.md', () => {
  it("newest entry is package.json's version", () => {
    const [latest] = parseChangelog(text);
    expect(latest!.version).toBe(pkg.version);
    expect(latest!.changes.length).toBeGreaterThan(0);
  });

  it('parses entries with wrapped bullets', () => {
    const r = parseChangelog('# Changelog\n\n## 1.1.0 - 2026-12-01\n\n- one\n  more\n- two\n\n## 1.0.0 - 2026-01-02\n- first\n');
    expect(r).toEqual([
      { version: '1.1.0', date: '2026-12-01', changes: ['one more', 'two'] },
      { version: '1.0.0', date: '2026-01-02', changes: ['first'] },
    ]);
    expect(() => parseChangelog('# nothing\n')).toThrow(/no "## <version>/);
  });

  it('dates Debian entries in RFC 2822', () => {
    expect(debianDate('2026-11-29')).toBe('Sun, 29 Nov 2026 12:00:00 +0000');
  });

  it.skipIf(toolSkipReason('dpkg-parsechangelog'))('renders a changelog dpkg-parsechangelog reads', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-chl-'));
    try {
      const file = path.join(dir, 'changelog');
      writeFileSync(file, renderDebianChangelog(parseChangelog(text), 'lychd-crypt', pkg.author));
      const r = spawnSync('dpkg-parsechangelog', ['-l', file, '--all'], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(new RegExp(`^Version: ${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
      expect(r.stdout).toMatch(/^Source: lychd-crypt$/m);
      for (const line of readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('  '))) expect(line.length).toBeLessThanOrEqual(80);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
