// The commands' stdout and stderr (src/base/output/stdio.ts): text to a pipe, a file or /dev/null goes straight to
// the descriptor, without Node's stream stack; a terminal gets Node's stream; a descriptor that would block
// hands the rest to Node's stream, in order. Each case is a child process of its own (its fd 1 is the thing
// under test), running stdio.ts bundled as CommonJS.
import { spawn, spawnSync } from 'node:child_process';
import type { Readable } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/env.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-stdio-'));
const lib = path.join(dir, 'stdio.cjs');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(async () => {
  await build({ entryPoints: [path.join(REPO, 'src/base/output/stdio.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: lib, logLevel: 'silent' });
});

/** A script for `node -e`: `body` runs with out (fd 1) and err (fd 2) from stdio.ts, then reports on fd 3. */
const script = (body: string) => `const s = require(${JSON.stringify(lib)}); const out = s.output(1), err = s.output(2);
${body}
require('node:fs').writeSync(3, JSON.stringify({ outTTY: out.isTTY, errTTY: err.isTTY, stdinTTY: s.stdinIsTTY(), streams: process.moduleLoadList.filter((m) => /^NativeModule (net|stream|tty)$/.test(m)) }));`;
const report = (r: { output: (string | null)[] }) => JSON.parse(r.output[3]!) as { outTTY: boolean; errTTY: boolean; stdinTTY: boolean; streams: string[] };

describe('stdout and stderr of a command', () => {
  it('to pipes: the text, in order, and none of Node stream modules loaded', () => {
    const r = spawnSync(process.execPath, ['-e', script(`out.write('one\\n'); err.write('warn\\n'); out.write('två ✓\\n');`)], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    expect(r.status, r.stderr).toBe(0);
    expect([r.stdout, r.stderr]).toEqual(['one\ntvå ✓\n', 'warn\n']);
    expect(report(r)).toEqual({ outTTY: false, errTTY: false, stdinTTY: false, streams: [] });
  });

  it('to a file and to /dev/null: not terminals; the file gets the text', () => {
    const file = path.join(dir, 'out.txt');
    const r = spawnSync('sh', ['-c', `exec "$0" -e "$1" >"$2" 2>/dev/null </dev/null`, process.execPath, script(`out.write('to a file\\n'); err.write('gone\\n');`), file], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('to a file\n');
    expect(report(r)).toEqual({ outTTY: false, errTTY: false, stdinTTY: false, streams: [] });
  });

  it('on a terminal: Node stream, which knows it is one', () => {
    // script(1) gives the child a pseudo-terminal for stdin, stdout and stderr; fd 3 stays our pipe.
    const r = spawnSync('script', ['-qec', `"${process.execPath}" -e '${script(`out.write('on a tty\\n');`).replaceAll("'", `'\\''`)}'`, '/dev/null'], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('on a tty');
    expect(report(r)).toMatchObject({ outTTY: true, errTTY: true, stdinTTY: true });
  });

  it('a pipe someone made non-blocking and a slow reader: every byte arrives, in order', async () => {
    // Touching process.stdout makes libuv set O_NONBLOCK on fd 1; the writes below then meet EAGAIN once
    // the pipe is full, because the parent does not read for a while.
    const lines = 20_000;
    const body = `process.stdout; let n = 0; for (let i = 0; i < ${lines}; i++) out.write(\`line \${i} ${'x'.repeat(60)}\\n\`);`;
    const child = spawn(process.execPath, ['-e', script(body)], { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const exited = new Promise((r) => child.on('exit', r));
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += String(c)));
    (child.stdio[3] as Readable).resume();
    child.stdout!.pause();
    await new Promise((r) => setTimeout(r, 300));
    const chunks: Buffer[] = [];
    const ended = new Promise((r) => child.stdout!.on('end', r));
    child.stdout!.on('data', (c: Buffer) => chunks.push(c));
    child.stdout!.resume();
    expect(await exited, stderr).toBe(0);
    await ended;
    const got = Buffer.concat(chunks).toString('utf8').split('\n').slice(0, -1);
    expect(got).toHaveLength(lines);
    expect(got.every((l, i) => l.startsWith(`line ${i} `))).toBe(true);
  });
});
