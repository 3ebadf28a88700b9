// templates/apt-snapshot.conf for real: installed into a throw-away root (an overlay of the host's /, so the
// host's apt and dpkg state are never touched) that sees the real crypt, then `apt-get install` of a tiny
// .deb built here with dpkg-deb. Its preinst records which snapshots existed when dpkg ran it: exactly one
// new "apt" snapshot, taken before dpkg (the snapshot does not hold what the preinst wrote). A failing
// snapshot — a failing preSnapshot hook, then the crypt unreachable — makes apt abort before dpkg changes
// anything.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { makeCryptFixture, reconfigure } from '../helpers/crypt-fixture.js';
import { skipReason } from '../helpers/env.js';
import { buildCli } from '../helpers/init.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { makeThrowawayRoot } from '../helpers/throwaway-root.js';

const has = (cmd: string): boolean => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd]).status === 0;
const tools = ['dpkg-deb', 'apt-get', 'unshare', 'nsenter'].filter((t) => !has(t));
const skip = skipReason('root', 'btrfs', 'loop') ?? (tools.length ? `needs ${tools.join(', ')}` : undefined);
if (skip && tools.length && process.env.CI === 'true') throw new Error(`CI: prerequisite missing: ${skip}`);

const PKG = 'lychd-apt-probe';
const CONF = '/etc/apt/apt.conf.d/80lychd-crypt-snapshot';
const scratches = scratchSuite();
let scratch: Scratch | undefined;

/** The commands of every `DPkg::Pre-Invoke { "…"; };` in an apt configuration. */
function preInvoke(conf: string): string[] {
  const body = /DPkg::Pre-Invoke\s*\{([^}]*)\}/.exec(conf.replace(/^\s*\/\/.*$/gm, ''))?.[1] ?? '';
  return [...body.matchAll(/"((?:[^"\\]|\\.)*)"\s*;/g)].map((m) => m[1]!);
}

/** A package whose preinst writes the crypt's snapshot names, as dpkg runs it, into the crypt's active/. */
function buildDeb(s: Scratch, crypt: string, version: string): string {
  const dir = s.path(`deb-${version}`);
  mkdirSync(path.join(dir, 'DEBIAN'), { recursive: true });
  mkdirSync(path.join(dir, 'usr/share', PKG), { recursive: true });
  writeFileSync(path.join(dir, 'usr/share', PKG, 'hello'), `${version}\n`);
  writeFileSync(
    path.join(dir, 'DEBIAN/control'),
    `Package: ${PKG}\nVersion: ${version}\nArchitecture: all\nMaintainer: test <test@example.invalid>\nDescription: lychd-crypt apt template probe\n`,
  );
  writeFileSync(path.join(dir, 'DEBIAN/preinst'), `#!/bin/sh\nset -e\nls ${crypt}/snapshots > ${crypt}/active/preinst-${version}\n`);
  chmodSync(path.join(dir, 'DEBIAN/preinst'), 0o755);
  const deb = s.path(`${PKG}_${version}_all.deb`);
  const r = spawnSync('dpkg-deb', ['--root-owner-group', '--build', dir, deb], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return deb;
}

// Other processes may use the host's apt meanwhile: what is compared is everything of this test's.
const hostState = () => ({
  statusNamesProbe: readFileSync('/var/lib/dpkg/status', 'utf8').includes(`Package: ${PKG}\n`),
  known: spawnSync('dpkg-query', ['-W', PKG]).status === 0,
  info: existsSync(`/var/lib/dpkg/info/${PKG}.list`) || existsSync(`/var/lib/dpkg/info/${PKG}.preinst`),
  conf: existsSync(CONF),
  files: existsSync(`/usr/share/${PKG}`),
});

describe.skipIf(skip)(`apt template ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('apt-get install takes one "apt" snapshot before dpkg runs; a failing snapshot aborts it with nothing installed', async () => {
    const host = hostState();
    expect(host).toEqual({ statusNamesProbe: false, known: false, info: false, conf: false, files: false });
    scratch = await scratches.scratch();
    const s = scratch;
    const bundle = buildCli(s);
    // The crypt first: the throw-away root binds the scratch dir with the mounts under it.
    const fx = await makeCryptFixture(s, { postgres: false });
    const v1 = buildDeb(s, fx.root, '1.0');
    const v2 = buildDeb(s, fx.root, '2.0');
    // The root's lower layer is the live host: a package operation running on the host right now would show
    // in it as "dpkg was interrupted". Wait for the host's dpkg to be between operations.
    for (let i = 0; i < 300 && readdirSync('/var/lib/dpkg/updates').length > 0; i++) await sleep(1000);
    const root = await makeThrowawayRoot(s);
    const env = { LYCHD_CRYPT_REGISTRY: process.env.LYCHD_CRYPT_REGISTRY!, LYCHD_CRYPT_STATE: process.env.LYCHD_CRYPT_STATE!, DEBIAN_FRONTEND: 'noninteractive' };
    const inRoot = (argv: string[]) => root.run(argv, env);
    expect(inRoot(['findmnt', '-n', '-o', 'FSTYPE', '--mountpoint', fx.root]).stdout.trim()).toBe('btrfs');

    // The template as the docs say to install it, and `lychd-crypt` on PATH as init installs it.
    const conf = readFileSync(path.join(import.meta.dirname, '../../templates/apt-snapshot.conf'), 'utf8').replaceAll('CRYPT', fx.root);
    expect(preInvoke(conf)).toEqual([`lychd-crypt --crypt ${fx.root} --wait 60 snapshot --label apt`]);
    writeFileSync(root.host(CONF), conf);
    writeFileSync(root.host('/usr/local/bin/lychd-crypt'), `#!/bin/sh\nexec node ${bundle} "$@"\n`);
    chmodSync(root.host('/usr/local/bin/lychd-crypt'), 0o755);
    const status = () => readFileSync(root.host('/var/lib/dpkg/status'), 'utf8');
    const snapshots = async () => (await readdir(fx.paths.snapshots)).filter((n) => !n.endsWith('.json')).sort(); // not the metadata files
    const installed = () => inRoot(['dpkg-query', '-W', '-f', '${Version}', PKG]).stdout;

    // A failing preSnapshot hook: the snapshot fails, so apt stops before dpkg — nothing installed.
    const hooks = { preSnapshot: [['false']], postSnapshot: [], preRollback: [], postRollback: [], timeout: 10 };
    await reconfigure(fx, { ...fx.config, hooks });
    const dpkgBefore = status();
    const refused = inRoot(['apt-get', 'install', '-y', v1]);
    expect(refused.code, refused.stdout + refused.stderr).not.toBe(0);
    expect(refused.stderr).toMatch(/preSnapshot hook `false` failed/);
    expect(refused.stderr).toMatch(/E: Problem executing scripts DPkg::Pre-Invoke/);
    expect(await snapshots()).toEqual([]);
    expect(status()).toBe(dpkgBefore);
    expect(installed()).toBe('');
    expect(existsSync(path.join(fx.paths.active, 'preinst-1.0'))).toBe(false);
    expect(existsSync(root.host(`/usr/share/${PKG}/hello`))).toBe(false);

    // The snapshot works: one "apt" snapshot, taken before dpkg ran the package's preinst.
    await reconfigure(fx, { ...fx.config, hooks: null });
    const ok = inRoot(['apt-get', 'install', '-y', v1]);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    const taken = await snapshots();
    expect(taken, ok.stdout + ok.stderr).toHaveLength(1);
    expect(taken[0]).toMatch(/-apt$/);
    expect(readFileSync(path.join(fx.paths.active, 'preinst-1.0'), 'utf8').split('\n').filter((n) => n && !n.endsWith('.json'))).toEqual(taken);
    expect(existsSync(path.join(fx.paths.snapshots, taken[0]!, 'preinst-1.0'))).toBe(false);
    expect(installed()).toBe('1.0');
    expect(readFileSync(root.host(`/usr/share/${PKG}/hello`), 'utf8')).toBe('1.0\n');

    // The crypt unreachable (unmounted inside the throw-away root only): the upgrade aborts, 1.0 stays.
    expect(inRoot(['umount', fx.root]).code).toBe(0);
    const dpkgInstalled = status();
    const unreachable = inRoot(['apt-get', 'install', '-y', v2]);
    expect(unreachable.code, unreachable.stdout + unreachable.stderr).not.toBe(0);
    expect(unreachable.stderr).toMatch(/E: Problem executing scripts DPkg::Pre-Invoke/);
    expect(status()).toBe(dpkgInstalled);
    expect(installed()).toBe('1.0');
    expect(readFileSync(root.host(`/usr/share/${PKG}/hello`), 'utf8')).toBe('1.0\n');
    expect(await snapshots()).toEqual(taken);

    // The host's apt and dpkg never saw any of it.
    expect(hostState()).toEqual(host);
  }, 300_000);
});
