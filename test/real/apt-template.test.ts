// templates/apt-snapshot.conf: its Pre-Invoke line, run the way apt runs it (`sh -c` as root), takes a
// labelled snapshot of the crypt; a failing snapshot makes it fail (apt then aborts before dpkg).
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile, chmod } from 'node:fs/promises';
import path from 'node:path';
import { makeCryptFixture } from '../helpers/crypt-fixture.js';
import { skipReason } from '../helpers/env.js';
import { makeScratch, type Scratch } from '../helpers/scratch.js';
import { buildCli } from '../helpers/init.js';

const skip = skipReason('root', 'btrfs', 'loop');
let scratch: Scratch | undefined;
afterEach(async () => {
  await scratch?.cleanup();
  scratch = undefined;
});

/** The commands of every `DPkg::Pre-Invoke { "…"; };` in an apt configuration. */
function preInvoke(conf: string): string[] {
  const body = /DPkg::Pre-Invoke\s*\{([^}]*)\}/.exec(conf.replace(/^\s*\/\/.*$/gm, ''))?.[1] ?? '';
  return [...body.matchAll(/"((?:[^"\\]|\\.)*)"\s*;/g)].map((m) => m[1]!);
}

describe.skipIf(skip)(`apt template ${skip ? `(skipped: ${skip})` : ''}`, () => {
  let buildScratch: Scratch;
  let bundle: string;
  beforeAll(async () => {
    buildScratch = await makeScratch();
    bundle = buildCli(buildScratch);
  });
  afterAll(async () => {
    await buildScratch?.cleanup();
  });

  test('Pre-Invoke takes an "apt" snapshot; failing, it fails', async () => {
    scratch = await makeScratch();
    const fx = await makeCryptFixture(scratch, { postgres: false });
    const conf = await readFile(path.join(import.meta.dirname, '../../templates/apt-snapshot.conf'), 'utf8');
    const lines = preInvoke(conf.replaceAll('CRYPT', fx.root));
    expect(lines).toEqual([`lychd-crypt --crypt ${fx.root} --wait 60 snapshot --label apt`]);
    // `lychd-crypt` on PATH is the bundled runtime (as init installs it).
    const bin = scratch.path('bin');
    await mkdir(bin);
    await writeFile(path.join(bin, 'lychd-crypt'), `#!/bin/sh\nexec node ${bundle} "$@"\n`);
    await chmod(path.join(bin, 'lychd-crypt'), 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
    const r = spawnSync('sh', ['-c', lines[0]!], { env, encoding: 'utf8', cwd: '/' });
    expect(r.status, r.stderr).toBe(0);
    expect((await readdir(fx.paths.snapshots)).filter((n) => /-apt$/.test(n))).toHaveLength(1);

    const broken = spawnSync('sh', ['-c', lines[0]!.replace(fx.root, scratch.path('no-such-crypt'))], { env, encoding: 'utf8', cwd: '/' });
    expect(broken.status).not.toBe(0);
  }, 120_000);
});
