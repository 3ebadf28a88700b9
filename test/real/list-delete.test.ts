// list, delete and prune on a crypt without a database (mode none): order, JSON schema, incomplete
// snapshots ignored, unknown names refused with nothing deleted, active/ never deleted, sizes with quotas.
import { describe, expect, test } from 'vitest';
import { readdir, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { sh } from '../helpers/host.js';
import { makeCryptFixture } from '../helpers/crypt-fixture.js';
import { cli, cliChild } from '../helpers/snap.js';
import { buildCli } from '../helpers/init.js';
import { readMeta, writeMeta } from '../../src/runtime/snapshots/meta.js';

const skip = skipReason('root', 'btrfs', 'loop');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

async function take(root: string, label?: string): Promise<string> {
  const r = await cli(root, ['--json', 'snapshot', ...(label ? ['--label', label] : [])]);
  expect(r.code, r.stderr).toBe(0);
  return r.json.snapshot.name;
}

describe.skipIf(skip)(`list, delete, prune ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('list: newest first, stable JSON, incomplete ignored; delete refuses unknown names', async () => {
    scratch = await scratches.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    await writeFile(path.join(fx.paths.active, 'data.txt'), 'v1');
    const a = await take(fx.root, 'first');
    const b = await take(fx.root, 'first');
    const c = await take(fx.root);
    expect(new Set([a, b, c]).size).toBe(3);
    sh(['btrfs', 'subvolume', 'snapshot', '-r', fx.paths.active, path.join(fx.paths.snapshots, '20200101T000000Z-half')]);

    const list = await cli(fx.root, ['--json', 'list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.json.format).toBe(1);
    expect(list.json.snapshots.map((s: { name: string }) => s.name)).toEqual([c, b, a]);
    expect(Object.keys(list.json.snapshots[0]).sort()).toEqual(
      ['btrfs', 'createdAt', 'exclusiveBytes', 'label', 'mode', 'name', 'origin', 'pinned', 'postgres', 'rollbackTo', 'toolVersion'].sort(),
    );
    expect(list.json.snapshots[2]).toMatchObject({ name: a, label: 'first', mode: 'none', origin: 'snapshot', postgres: null, exclusiveBytes: null });
    expect(list.json.snapshots[2].createdAt).toMatch(/Z$/);
    expect(list.stderr).toMatch(/ignoring 1 incomplete snapshot.*20200101T000000Z-half/);
    const human = await cli(fx.root, ['list']);
    expect(human.stdout.split('\n')[0]).toMatch(/^NAME\s+TIME\s+MODE\s+POSTGRES\s+LABEL$/);

    // Unknown names: exit 2, nothing deleted (not even the known one given with them).
    for (const bad of [['nope'], [a, 'nope'], ['active'], ['../active'], ['.lychd-crypt']]) {
      const r = await cli(fx.root, ['delete', ...bad]);
      expect(r.code, bad.join(' ')).toBe(2);
    }
    expect((await readdir(fx.paths.snapshots)).filter((n) => !n.endsWith('.json'))).toHaveLength(4);
    expect(await readdir(fx.paths.active)).toContain('data.txt');

    // Damaged metadata hides only that snapshot, and it can still be deleted by name.
    await writeFile(path.join(fx.paths.snapshots, `${b}.json`), '{ not json');
    const damaged = await cli(fx.root, ['--json', 'list']);
    expect(damaged.code, damaged.stderr).toBe(0);
    expect(damaged.json.snapshots.map((s: { name: string }) => s.name)).toEqual([c, a]);
    expect(damaged.stderr).toMatch(new RegExp(`metadata cannot be read: ${b}`));

    const del = await cli(fx.root, ['--json', 'delete', a, b, '20200101T000000Z-half', '--yes']);
    expect(del.code, del.stderr).toBe(0);
    expect(del.json.deleted).toEqual([a, b, '20200101T000000Z-half']);
    expect((await readdir(fx.paths.snapshots)).sort()).toEqual([c, `${c}.json`]);
  });

  test('prune: --dry-run changes nothing; the policy keeps the newest and the newest pre-rollback', async () => {
    scratch = await scratches.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const names = [await take(fx.root, 'one'), await take(fx.root, 'two'), await take(fx.root, 'three'), await take(fx.root, 'four')];
    // Age the two oldest by rewriting their metadata, and mark one as a rollback's saved state.
    for (const [i, days] of [[0, 40], [1, 35]] as const) {
      const m = (await readMeta(fx.paths, names[i]!))!;
      m.createdAt = new Date(Date.now() - days * 86_400_000).toISOString();
      if (i === 1) m.origin = { kind: 'pre-rollback', rollbackTo: names[0]!, rollbackId: 'x' };
      await writeMeta(fx.paths, m);
    }
    expect((await cli(fx.root, ['prune'])).code).toBe(2);
    expect((await cli(fx.root, ['prune', '--max-age', 'a month'])).code).toBe(2);

    const dry = await cli(fx.root, ['--json', 'prune', '--max-age', '30d', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json.wouldDelete).toEqual([names[0]]); // names[1] is older too, but the newest pre-rollback
    expect((await readdir(fx.paths.snapshots)).length).toBe(8);

    const real = await cli(fx.root, ['--json', 'prune', '--keep', '3', '--max-age', '30d']);
    expect(real.code, real.stderr).toBe(0);
    expect(real.json.deleted).toEqual([names[0]]);
    const keep1 = await cli(fx.root, ['--json', 'prune', '--keep', '0']);
    expect(keep1.json.deleted).toEqual([names[2]]); // names[1] is the newest pre-rollback: the undo point stays
    expect((await readdir(fx.paths.snapshots)).sort()).toEqual([names[1], `${names[1]}.json`, names[3], `${names[3]}.json`].sort());
  });

  test('delete killed between subvolume and metadata: list ignores the orphan, delete finishes it', async () => {
    scratch = await scratches.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const keep = await take(fx.root, 'keep');
    const gone = await take(fx.root, 'gone');
    const bundle = buildCli(scratch);
    const killed = await cliChild(bundle, fx.root, ['delete', gone, '--yes'], { LYCHD_CRYPT_FAULT: 'delete:after-subvolume' });
    expect(killed.signal).toBe('SIGKILL');
    expect((await readdir(fx.paths.snapshots)).sort()).toEqual([keep, `${keep}.json`, `${gone}.json`].sort());
    expect((await cli(fx.root, ['--json', 'list'])).json.snapshots.map((s: { name: string }) => s.name)).toEqual([keep]);
    const again = await cli(fx.root, ['delete', gone, '--yes']);
    expect(again.code, again.stderr).toBe(0);
    expect((await readdir(fx.paths.snapshots)).sort()).toEqual([keep, `${keep}.json`]);
  });

  test('exclusive size is shown when quotas are already on, and quotas are never turned on', async () => {
    scratch = await scratches.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    await take(fx.root);
    expect((await cli(fx.root, ['--json', 'list'])).json.snapshots[0].exclusiveBytes).toBeNull();
    expect(spawnSync('btrfs', ['qgroup', 'show', fx.root]).status).not.toBe(0); // list did not enable quotas
    sh(['btrfs', 'quota', 'enable', fx.root]);
    sh(['btrfs', 'quota', 'rescan', '-w', fx.root]);
    await writeFile(path.join(fx.paths.active, 'big'), randomBytes(4 << 20));
    const name = await take(fx.root);
    await writeFile(path.join(fx.paths.active, 'big'), randomBytes(4 << 20)); // now only the snapshot holds v1
    sh(['btrfs', 'filesystem', 'sync', fx.root]);
    const list = await cli(fx.root, ['--json', 'list']);
    const entry = list.json.snapshots.find((s: { name: string }) => s.name === name);
    expect(entry.exclusiveBytes).toBeGreaterThan(1 << 20);
    expect((await cli(fx.root, ['list'])).stdout).toMatch(/EXCLUSIVE/);
  });
});
