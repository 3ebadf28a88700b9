// Retention on a real crypt (no database, mode none): the configured policy, flags over it, pins and
// labels in the metadata, --dry-run's per-snapshot rules, and a real prune.
import { describe, expect, test } from 'vitest';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { sh } from '../helpers/host.js';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { makeCryptFixture, reconfigure } from '../helpers/crypt-fixture.js';
import { cli } from '../helpers/snap.js';
import { readMeta, writeMeta } from '../../src/runtime/snapshots/meta.js';

const skip = skipReason('root', 'btrfs', 'loop');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

const H = 3_600_000;

describe.skipIf(skip)(`retention on a real crypt ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('configured policy, pins, labels, dry run with rules, real prune', async () => {
    scratch = await scratches.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    // Six snapshots, then back-date them: two per day over three days (UTC), oldest first.
    const names: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await cli(fx.root, ['--json', 'snapshot', ...(i === 1 ? ['--pin'] : [])]);
      expect(r.code, r.stderr).toBe(0);
      names.push(r.json.snapshot.name);
    }
    const day0 = Date.UTC(2026, 10, 20, 6); // 2026-11-20 06:00Z
    const times = [day0, day0 + 6 * H, day0 + 24 * H, day0 + 30 * H, day0 + 48 * H, day0 + 54 * H];
    for (const [i, t] of times.entries()) {
      const m = (await readMeta(fx.paths, names[i]!))!;
      m.createdAt = new Date(t).toISOString();
      await writeMeta(fx.paths, m);
    }
    expect((await readMeta(fx.paths, names[1]!))!.pinned).toBe(true);

    // No policy anywhere: usage error.
    const none = await cli(fx.root, ['prune', '--dry-run']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/prune needs a policy/);

    await reconfigure(fx, { ...fx.config, retention: { daily: 2 } });

    // pin / unpin / label: unknown names refused; the metadata changes, the name does not.
    expect((await cli(fx.root, ['pin', 'nope'])).code).toBe(2);
    expect((await cli(fx.root, ['pin', names[0]!])).code).toBe(0);
    expect((await cli(fx.root, ['unpin', names[0]!])).code).toBe(0);
    expect((await readMeta(fx.paths, names[0]!))!.pinned).toBeUndefined();
    const lab = await cli(fx.root, ['label', names[2]!, 'before', 'the', 'upgrade']);
    expect(lab.code, lab.stderr).toBe(0);
    expect((await readMeta(fx.paths, names[2]!))!.label).toBe('before the upgrade');
    expect((await cli(fx.root, ['label', names[2]!, 'two\nlines'])).code).toBe(2);
    const list = await cli(fx.root, ['--json', 'list']);
    expect(list.json.snapshots.map((s: { name: string; pinned: boolean }) => [s.name, s.pinned])).toEqual(
      [...names].reverse().map((n) => [n, n === names[1]]),
    );

    // Dry run with the configured policy: each snapshot, its rules or remove.
    const dry = await cli(fx.root, ['--json', 'prune', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json.policySource).toBe('configuration');
    const byName = Object.fromEntries(dry.json.decisions.map((d: { name: string; action: string; rules: string[] }) => [d.name, [d.action, d.rules]]));
    expect(byName).toEqual({
      [names[5]!]: ['keep', ['newest']],
      [names[4]!]: ['keep', ['daily']],
      [names[3]!]: ['delete', []],
      [names[2]!]: ['keep', ['daily']],
      [names[1]!]: ['keep', ['pinned']],
      [names[0]!]: ['delete', []],
    });
    const human = await cli(fx.root, ['prune', '--dry-run']);
    expect(human.stdout).toContain(`remove   ${names[3]}`);
    expect(human.stdout).toMatch(new RegExp(`keep +${names[4]} +daily 2026-11-22`));
    expect(human.stdout).toMatch(new RegExp(`keep +${names[1]} +pinned`));
    expect(human.stdout).toMatch(/would remove 2 of 6 snapshot\(s\)/);
    expect((await readdir(fx.paths.snapshots)).filter((n) => !n.endsWith('.json'))).toHaveLength(6);

    // Flags replace the configured policy.
    const flags = await cli(fx.root, ['--json', 'prune', '--dry-run', '--keep-last', '6']);
    expect(flags.json.policySource).toBe('command line');
    expect(flags.json.policy).toEqual({ last: 6, keep: 6, maxAgeSeconds: null });
    expect(flags.json.wouldDelete).toEqual([]);
    expect(flags.json.deleted).toBeUndefined();
    expect((await cli(fx.root, ['prune', '--keep', '1', '--keep-last', '2'])).code).toBe(2);

    // The real prune deletes exactly what the dry run said, and records it for status.
    const real = await cli(fx.root, ['--json', 'prune']);
    expect(real.code, real.stderr).toBe(0);
    expect(real.json.deleted).toEqual([names[3], names[0]]);
    expect((await readdir(fx.paths.snapshots)).filter((n) => !n.endsWith('.json')).sort()).toEqual([names[1], names[2], names[4], names[5]].sort());
    // list --sizes: without quotas, btrfs filesystem du on demand; the older snapshot holds data active/ no longer has.
    await writeFile(path.join(fx.paths.active, 'data'), randomBytes(2 * 2 ** 20));
    const s1 = await cli(fx.root, ['--json', 'snapshot']);
    await writeFile(path.join(fx.paths.active, 'data'), randomBytes(2 * 2 ** 20));
    sh(['sync']);
    const sized = await cli(fx.root, ['--json', 'list', '--sizes']);
    expect(sized.code, sized.stderr).toBe(0);
    const ex = sized.json.snapshots.find((x: { name: string }) => x.name === s1.json.snapshot.name).exclusiveBytes;
    expect(ex).toBeGreaterThanOrEqual(2 * 2 ** 20);
    expect((await cli(fx.root, ['list', '--sizes'])).stdout.split('\n')[0]).toMatch(/EXCLUSIVE/);
    expect((await cli(fx.root, ['--json', 'list'])).json.snapshots[0].exclusiveBytes).toBeNull();

    const runs = JSON.parse(await readFile(`${fx.paths.state}/runs.json`, 'utf8'));
    expect(runs.prune).toMatchObject({ ok: true, summary: 'removed 2 of 6 snapshot(s)', detail: { deleted: [names[3], names[0]] } });
  });
});
