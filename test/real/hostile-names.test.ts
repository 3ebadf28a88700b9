// Names are data (issue 22, findings 1 and 5): the owner of a rootless crypt plants names made of shell
// words, globs, escape sequences, bidi overrides and bytes that are not UTF-8 — as snapshot directories
// with matching metadata, as metadata `name` and `label` fields, as files and subvolumes in active/ — and
// root runs every command that prints them, in text, with forced colour and in --json, then completes
// `rollback <TAB>` in real bash, zsh and fish. Nothing is evaluated, no output holds a raw control byte
// (ESC only in the tool's own colours), and completion offers only real snapshots.
import { spawn } from 'node:child_process';
import { chmod, chown, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installRuntime } from '../../src/install/steps/install-runtime.js';
import { runAs } from '../helpers/as-user.js';
import { complete, type Shell } from '../helpers/complete.js';
import { skipReason, toolSkipReason } from '../helpers/env.js';
import { makeUser, sh, type TestUser } from '../helpers/host.js';
import { buildCli } from '../helpers/init.js';
import { makeScratch, type Scratch } from '../helpers/scratch.js';
import { cryptWithServer, type CryptWithServer } from '../helpers/snap.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

/** Planted names, as bytes: each would run a command, match files, forge a line or rewrite a terminal if used raw. */
const HOSTILE: Buffer[] = [
  '$(touch${IFS}pwned)',
  '`touch pwned2`',
  ';touch pwned3;',
  '*',
  '[a-z]*?',
  'a\nb',
  'tab\there\rcr',
  '\u001b]0;owned\u0007', // OSC: the terminal's title, ended by BEL
  '\u001b[8mhidden\u001b[0m', // CSI: invisible text
  '\u001b[31mred\u001b[2J\u001b[H', // colour, clear screen, cursor home
  '\u202eexe.txt', // right-to-left override
  '\u2066iso\u2069\u200f',
  '\u0085nel\u009b31m', // C1 controls (NEL, CSI) as UTF-8
  '\u007fdel\u0001soh',
  'latest',
  '--json',
  '20260101T000000Z-ok\u001b[31m',
].map((s) => Buffer.from(s));
// Bytes that are not UTF-8, one of them the one-byte C1 CSI (0x9b): a terminal in an 8-bit mode obeys it.
HOSTILE.push(Buffer.from([0x78, 0xff, 0xfe, 0x9b, 0x33, 0x31, 0x6d]));

/** A hostile text for fields and arguments (strings: argv and JSON cannot carry invalid UTF-8). */
const EVIL = '$(touch${IFS}pwned) `touch pwned2` \u001b]0;owned\u0007\u001b[8m\u001b[31m\u202e\u0085\u009b\u007f\u0001\nforged line';
const ARGS = ['$(touch${IFS}pwned)', '\u001b]0;owned\u0007\u001b[31mred', '\u202eexe\u0085\u009b', 'two\nlines*'];

/** Allowed in any output: tab and newline; ESC only as our own colour (when forced). Everything else unsafe is a finding. */
const RAW = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const OUR_SGR = /\u001b\[(?:1|2|22|31|32|33|36|39)m/g;

/** The raw control characters in `out` (bytes first checked to be UTF-8): [] when clean. */
function rawControls(out: Buffer, colour: boolean): string[] {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(out); // throws on a raw invalid byte
  const rest = colour ? text.replace(OUR_SGR, '') : text;
  return [...rest].filter((c) => RAW.test(c)).map((c) => `U+${c.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}

interface Run {
  code: number;
  stdout: Buffer;
  stderr: Buffer;
}

describe.skipIf(skip)(`hostile names ${skip ? `(skipped: ${skip})` : ''}`, () => {
  let scratch: Scratch;
  let owner: TestUser;
  let bundle: string;
  let c: CryptWithServer;
  /** Where root's commands and shells run: a `touch pwned` anywhere would leave its file here. */
  let cwd: string;
  let valid: string[];
  /** root's PATH entry with `lychd-crypt` for its shells. */
  let bin: string;

  /** The bundled CLI as root, on the owner's crypt, in `cwd`, bytes as they are. */
  const root = (args: string[], env: Record<string, string> = {}): Promise<Run> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [bundle, '--crypt', c.fx.root, ...args], {
        cwd,
        env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/root', LYCHD_CRYPT_REGISTRY: process.env.LYCHD_CRYPT_REGISTRY!, LYCHD_CRYPT_COMPILE_CACHE: process.env.LYCHD_CRYPT_COMPILE_CACHE!, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err) }));
    });

  /** Runs a python script as the owner (bytes paths: any name the kernel takes). */
  const asOwner = async (script: string, ...args: string[]) => {
    const r = await runAs(owner, ['/usr/bin/python3', '-c', script, ...args]);
    expect(r.code, r.stderr).toBe(0);
  };

  const pwned = async () => [...(await readdir(cwd)), ...(await readdir('/'))].filter((f) => f.startsWith('pwned'));

  beforeAll(async () => {
    scratch = await makeScratch();
    owner = makeUser(scratch);
    c = await cryptWithServer(scratch, 15, { fixture: { owner, rootless: true, root: path.join(owner.home, '.local/share/lychd'), socketDir: scratch.path('sock-owner'), sizeMiB: 300 } });
    bundle = buildCli(scratch);
    await chmod(path.dirname(bundle), 0o755);
    await installRuntime({ kind: 'install-runtime', source: bundle, target: path.join(c.fx.config.install.binDir, 'lychd-crypt'), mode: 0o755 });
    cwd = scratch.path('root-cwd');
    await mkdir(cwd);
    // One real snapshot, and one with a hostile label in its metadata (a complete snapshot: it is listed).
    const first = await root(['--json', 'snapshot', '--label', 'real']);
    expect(first.code, String(first.stderr)).toBe(0);
    const real = JSON.parse(String(first.stdout)).data.snapshot.name as string;
    const meta = JSON.parse(await readFile(path.join(c.fx.paths.snapshots, `${real}.json`), 'utf8'));
    const labelled = '20200101T000000Z-hostile-label';
    sh(['btrfs', 'subvolume', 'snapshot', '-r', c.fx.paths.active, path.join(c.fx.paths.snapshots, labelled)]);
    await writeFile(path.join(c.fx.paths.snapshots, `${labelled}.json`), JSON.stringify({ ...meta, name: labelled, label: EVIL, createdAt: '2020-01-01T00:00:00.000Z', pinned: true }));
    valid = [real, labelled].sort();
    // The owner plants the rest: snapshot directories with matching metadata under every hostile name, a
    // snapshot whose metadata names another, hostile files and a subvolume in active/ and in PGDATA.
    const plant = `
import json, os, sys, subprocess
snaps, active, pgdata, meta, evil = sys.argv[1:6]
meta = json.loads(meta)
for h in sys.argv[6:]:
    name = bytes.fromhex(h)
    os.mkdir(os.path.join(snaps.encode(), name))
    with open(os.path.join(snaps.encode(), name + b'.json'), 'w') as f:
        json.dump(dict(meta, name=name.decode('utf-8', 'replace'), label=evil), f)
liar = os.path.join(snaps, '20200102T000000Z-liar')
os.mkdir(liar)
with open(liar + '.json', 'w') as f:
    json.dump(dict(meta, name=evil), f)
for h in sys.argv[6:]:
    name = bytes.fromhex(h)
    open(os.path.join(active.encode(), name), 'w').close()
    p = os.path.join(pgdata.encode(), name)
    open(p, 'w').close()
    subprocess.run(['chattr', '-C', p], check=True)
    os.symlink(b'/nonexistent/' + name.replace(b'/', b'_'), os.path.join(pgdata.encode(), b'pg_tblspc', name))
subprocess.run(['btrfs', 'subvolume', 'create', os.path.join(active.encode(), b'sub-' + bytes.fromhex(sys.argv[6]))], check=True, stdout=subprocess.DEVNULL)
`;
    await asOwner(plant, c.fx.paths.snapshots, c.fx.paths.active, c.fx.pgdata, JSON.stringify(meta), EVIL, ...HOSTILE.map((h) => h.toString('hex')));
    // root's shells find the program as `lychd-crypt`, with this test's registry and code cache.
    bin = scratch.path('root-bin');
    await mkdir(bin);
    await writeFile(path.join(bin, 'lychd-crypt'), `#!/bin/sh\nexec ${process.execPath} ${bundle} "$@"\n`, { mode: 0o755 });
    await chown(bin, 0, 0);
  }, 180_000);
  afterAll(async () => {
    // The owner's subvolume in active/ is theirs to leave; unmounting takes it.
    await scratch?.cleanup();
  });

  it('the catalog ignores every planted entry: list --names prints only real snapshots', async () => {
    const names = await root(['list', '--names']);
    expect(names.code, String(names.stderr)).toBe(0);
    expect(String(names.stdout).split('\n').filter(Boolean).sort()).toEqual(valid);
    const list = await root(['--json', 'list']);
    expect(JSON.parse(String(list.stdout)).data.snapshots.map((s: { name: string }) => s.name).sort()).toEqual(valid);
    // The label survives --json losslessly (escaped as \uNNNN, no raw byte), and people see it escaped.
    expect(JSON.parse(String(list.stdout)).data.snapshots.find((s: { name: string }) => s.name === valid[0]).label).toBe(EVIL);
    expect(String((await root(['list'])).stdout)).toContain('\\x1b]0;owned\\x07');
  });

  it('doctor names each planted entry, escaped, and repair leaves them alone', async () => {
    const doctor = await root(['--json', 'doctor']);
    const check = JSON.parse(String(doctor.stdout)).data.checks.find((k: { id: string }) => k.id === 'snapshots.names');
    expect(check.status).not.toBe('ok');
    expect(check.finding).toMatch(new RegExp(`holds ${HOSTILE.length * 2 + 1} entries`));
    // Shown escaped (the first ones, sorted; src/runtime/snapshots/foreign.ts has every kind in its unit test).
    expect(check.finding).toMatch(/\\(x1b|x07|u202e|x85)/);
    const before = (await readdir(c.fx.paths.snapshots)).length;
    // repair plans no step in snapshots/ (the planted entries are for a person to move), and changes nothing there.
    const dry = JSON.parse(String((await root(['--json', 'repair', '--dry-run'])).stdout)).data;
    expect(dry.plan.steps.filter((s: { path?: string }) => s.path?.startsWith(c.fx.paths.snapshots))).toEqual([]);
    expect(dry.plan.manual.map((m: { id: string }) => m.id)).toContain('snapshots.names');
    expect((await readdir(c.fx.paths.snapshots)).length).toBe(before);
  });

  const commands: string[][] = [
    ['list'],
    ['list', '--names'],
    ['snapshot'],
    ['snapshot', '--label', EVIL],
    ['doctor'],
    ['repair', '--dry-run'],
    ['status'],
    ['status', '--check'],
    ['prune', '--dry-run', '--keep-last', '1'],
    ['label', 'latest', EVIL],
    ['pin', EVIL],
    ...ARGS.flatMap((a) => [['rollback', a, '--yes'], ['delete', a, '--yes'], ['verify', a]]),
  ];

  it('no output of any command holds a raw control byte, in text, in colour and in --json; nothing runs', async () => {
    const findings: string[] = [];
    for (const args of commands) {
      for (const mode of ['text', 'colour', 'json'] as const) {
        const r = await root(mode === 'json' ? ['--json', ...args] : args, mode === 'colour' ? { FORCE_COLOR: '1' } : {});
        const what = `${mode} ${JSON.stringify(args)} (exit ${r.code})`;
        for (const [stream, out] of [['stdout', r.stdout], ['stderr', r.stderr]] as const) {
          let raw: string[];
          try {
            raw = rawControls(out, mode === 'colour');
          } catch {
            raw = ['invalid UTF-8'];
          }
          if (raw.length) findings.push(`${what} ${stream}: ${[...new Set(raw)].join(' ')}`);
        }
        if (mode === 'json') expect(() => JSON.parse(String(r.stdout)), what).not.toThrow();
        expect(r.code, `${what}: ${String(r.stderr)}`).toBeLessThan(5); // an answer, never a crash
      }
    }
    expect(findings).toEqual([]);
    // The planted names were seen (snapshot refuses the subvolume in active/; doctor lists them)…
    const refusal = String((await root(['snapshot'])).stderr);
    expect(refusal).toContain('sub-$(touch${IFS}pwned)');
    expect(refusal).toContain('\\x1b]0;owned\\x07');
    expect(refusal).toContain('x\\xff\\xfe\\x9b31m');
    // …and never evaluated.
    expect(await pwned()).toEqual([]);
  }, 600_000);

  describe.each(['bash', 'zsh', 'fish'] as const)('completing `rollback <TAB>` as root in %s', (shell: Shell) => {
    it.skipIf(toolSkipReason(shell))('runs nothing and offers only real snapshots', async () => {
      const script = String((await root(['completion', shell])).stdout);
      const env = { PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`, HOME: '/root', LANG: 'C.UTF-8', LYCHD_CRYPT_REGISTRY: process.env.LYCHD_CRYPT_REGISTRY!, LYCHD_CRYPT_COMPILE_CACHE: process.env.LYCHD_CRYPT_COMPILE_CACHE! };
      const lines = [`lychd-crypt --crypt ${c.fx.root} rollback `, `lychd-crypt --crypt ${c.fx.root} delete `];
      const offered = lines.map((line) => complete(shell, line, { dir: cwd, env, script }));
      // First: nothing ran (before the fix, bash's `compgen -W` ran the planted `touch` as root).
      expect(await pwned()).toEqual([]);
      for (const o of offered) expect(o).toEqual([...valid, 'latest', 'previous'].sort());
    });
  });
});
