// `run`'s option parsing and --check word splitting (pure), and commander routing COMMAND after `--`.
import { describe, expect, test } from 'vitest';
import { splitWords } from '../../src/runtime/run/words.js';
import { parseDuration, parseRunOptions } from '../../src/runtime/run/options.js';
import { UsageError } from '../../src/base/errors.js';
import { main } from '../../src/cli/program.js';
import { Writable } from 'node:stream';

describe('splitWords', () => {
  test('spaces, quotes and backslashes; no shell syntax', () => {
    expect(splitWords('curl -fsS http://localhost:8080/health')).toEqual(['curl', '-fsS', 'http://localhost:8080/health']);
    expect(splitWords(`test -f "/srv/my app/ok" 'a b' c\\ d ""`)).toEqual(['test', '-f', '/srv/my app/ok', 'a b', 'c d', '']);
    expect(splitWords('echo $HOME | cat')).toEqual(['echo', '$HOME', '|', 'cat']);
    expect(() => splitWords('echo "open')).toThrow(UsageError);
    expect(() => splitWords('   ')).toThrow(UsageError);
  });
});

describe('parseRunOptions', () => {
  test('defaults: label from the command, rollback, no timeout, 30s of health retries', () => {
    const o = parseRunOptions(['/usr/local/bin/migrate', '--up'], {});
    expect(o).toMatchObject({ command: ['/usr/local/bin/migrate', '--up'], label: 'migrate', checks: [], checkSql: null, timeoutMs: null, healthTimeoutMs: 30_000, onFailure: 'rollback' });
  });
  test('flags', () => {
    const o = parseRunOptions(['x'], { label: 'schema v2', check: ['true', 'test -f /x'], checkSql: 'select true', timeout: '5m', healthTimeout: '10', onFailure: 'keep' });
    expect(o).toMatchObject({ label: 'schema v2', checks: [['true'], ['test', '-f', '/x']], checkSql: 'select true', timeoutMs: 300_000, healthTimeoutMs: 10_000, onFailure: 'keep' });
  });
  test('bad input is a usage error', () => {
    expect(() => parseRunOptions([], {})).toThrow(UsageError);
    expect(() => parseRunOptions(['x'], { timeout: 'soon' })).toThrow(UsageError);
    expect(() => parseRunOptions(['x'], { checkSql: ' ' })).toThrow(UsageError);
    expect(() => parseDuration('--timeout', '0')).toThrow(UsageError);
    expect(parseDuration('--timeout', '90')).toBe(90_000);
  });
});

describe('cli routing', () => {
  test('everything after -- is COMMAND, its own options included; a missing COMMAND is exit 2', async () => {
    const chunks: string[] = [];
    const sink = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
    const io = { stdout: sink, stderr: sink, stdinIsTTY: false, env: { LYCHD_CRYPT_REGISTRY: '/nonexistent-registry' } };
    // No registry: the command gets as far as selecting the crypt, after its options parsed fine.
    const code = await main(['run', '--timeout', 'soon', '--', 'sh', '-c', 'exit 3', '--json'], io);
    expect(code).toBe(2);
    expect(chunks.join('')).toMatch(/--timeout expects a duration/);
    chunks.length = 0;
    expect(await main(['run'], io)).toBe(2);
  });
});
