// `snapshot --mode none` starts no process and loads no vendored package (issue 16): the snapshot is one
// ioctl, the checks read /proc/self/mountinfo and ask ioctls. Nor do `list` while quotas are off (sysfs) and `status` (mountinfo). A preload (NODE_OPTIONS=--require) logs every process the command
// starts through Node; `delete`, which runs `btrfs subvolume delete`, shows the log sees the runner's.
import { describe, expect, test } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { skipReason } from '../helpers/env.js';
import { cliSuite } from '../helpers/suite.js';
import { makeCryptFixture } from '../helpers/crypt-fixture.js';
import { cliChild } from '../helpers/snap.js';

const skip = skipReason('root', 'btrfs', 'loop');
const HOOK = `const cp = require('node:child_process');
const fs = require('node:fs');
const spawn = cp.ChildProcess.prototype.spawn;
cp.ChildProcess.prototype.spawn = function (o) {
  fs.appendFileSync(process.env.SPAWN_LOG, [o.file, ...(o.args ?? []).slice(1)].join(' ') + '\\n');
  return spawn.call(this, o);
};
// What the command itself loaded (not this hook): Node's built-ins, and files required (the vendored packages).
const before = new Set(process.moduleLoadList);
process.on('exit', () => fs.writeFileSync(process.env.LOADED_LOG, JSON.stringify({ builtins: process.moduleLoadList.filter((m) => !before.has(m)), files: Object.keys(require.cache) })));
`;

describe.skipIf(skip)(`snapshot --mode none starts no process ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('snapshot --mode none, list and status: no process; delete: its btrfs is logged', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch);
    const hook = scratch.path('spawn-log.cjs');
    writeFileSync(hook, HOOK);
    const log = scratch.path('spawned.log');
    const loaded = scratch.path('loaded.json');
    const env = { NODE_OPTIONS: `--require ${hook}`, SPAWN_LOG: log, LOADED_LOG: loaded };

    const snap = await cliChild(suite.bundle, fx.root, ['--json', 'snapshot', '--mode', 'none', '--label', 'quiet'], env);
    expect(snap.code, snap.stderr).toBe(0);
    expect(existsSync(log) ? readFileSync(log, 'utf8') : '').toBe('');
    const name = snap.json.snapshot.name as string;
    expect(existsSync(`${fx.paths.snapshots}/${name}`)).toBe(true);
    // Nor does it read a vendored package (execa, zod, yaml, …) or make Node compile a costly built-in.
    const { builtins, files } = JSON.parse(readFileSync(loaded, 'utf8')) as { builtins: string[]; files: string[] };
    expect(files.filter((f) => /vendor-/.test(f))).toEqual([]);
    expect(builtins.filter((m) => /^NativeModule (crypto|child_process|https|http|zlib|internal\/deps\/undici\/undici)$/.test(m))).toEqual([]);
    expect(builtins).toContain('NativeModule vm'); // the log does see what the command loads: the entry's code cache

    // `list` with quotas off (the usual case) learns that from sysfs: no `btrfs qgroup show` either.
    const list = await cliChild(suite.bundle, fx.root, ['--json', 'list'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(list.json.snapshots.map((s: { name: string; exclusiveBytes: number | null }) => [s.name, s.exclusiveBytes])).toEqual([[name, null]]);
    expect(existsSync(log) ? readFileSync(log, 'utf8') : '').toBe('');
    // Nor `status` (monitoring runs `status --check` every few minutes): the mount is read from mountinfo.
    const status = await cliChild(suite.bundle, fx.root, ['--json', 'status'], env);
    expect(status.code, status.stderr).toBe(0);
    expect(status.json.mounted).toBe(true);
    expect(existsSync(log) ? readFileSync(log, 'utf8') : '').toBe('');

    const del = await cliChild(suite.bundle, fx.root, ['delete', name, '--yes'], env);
    expect(del.code, del.stderr).toBe(0);
    expect(readFileSync(log, 'utf8')).toMatch(/^btrfs .*subvolume delete/m);
    expect((JSON.parse(readFileSync(loaded, 'utf8')) as { files: string[] }).files.filter((f) => /vendor-/.test(f)).map((f) => f.split('/').pop())).toEqual(['vendor-execa.js']);
  });
});
