// status on a real crypt: fresh, healthy, stale, full and unmounted crypts give the Nagios states; the
// Prometheus textfile is written atomically and read back by a real text-format parser.
import { describe, expect, test } from 'vitest';
import { readdir, readFile, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { makeCryptFixture } from '../helpers/crypt-fixture.js';
import { sh } from '../helpers/host.js';
import { cli } from '../helpers/snap.js';
import { readMeta, writeMeta } from '../../src/runtime/snapshots/meta.js';

const skip = skipReason('root', 'btrfs', 'loop');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

describe.skipIf(skip)(`status ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('fresh, healthy, stale, full, unmounted; prometheus file', async () => {
    scratch = await scratches.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });

    const fresh = await cli(fx.root, ['status', '--check']);
    expect(fresh.code).toBe(2);
    expect(fresh.stdout).toMatch(/^LYCHD-CRYPT CRITICAL - no snapshot/);
    expect(fresh.stdout.trim().split('\n')).toHaveLength(1);

    const snap = await cli(fx.root, ['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    const name: string = snap.json.snapshot.name;
    const ok = await cli(fx.root, ['status', '--check', '--max-age', '2h', '--min-free', '10%']);
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toMatch(/^LYCHD-CRYPT OK - newest snapshot \d+[sm] old, 1 snapshot, [\d.]+M free \| age=/);

    // The screen and its JSON.
    const screen = await cli(fx.root, ['status']);
    expect(screen.code, screen.stderr).toBe(0);
    expect(screen.stdout).toMatch(/^crypt +\S+\nmounted +yes\nspace +[\d.]+M free of [\d.]+M/);
    expect(screen.stdout).toMatch(new RegExp(`newest +${name} \\((?:just now|\\d+m ago), \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\)`));
    expect(screen.stdout).toMatch(/timer +no schedule configured/);
    const json = await cli(fx.root, ['--json', 'status']);
    expect(json.json).toMatchObject({ crypt: fx.root, mounted: true, snapshots: { count: 1, newest: { name } }, postgres: null });

    // Stale: back-date the only snapshot.
    const m = (await readMeta(fx.paths, name))!;
    m.createdAt = new Date(Date.now() - 3 * 3_600_000).toISOString();
    await writeMeta(fx.paths, m);
    expect((await cli(fx.root, ['status', '--check', '--max-age', '2h'])).code).toBe(1);
    expect((await cli(fx.root, ['status', '--check', '--max-age', '1h'])).code).toBe(2);
    expect((await cli(fx.root, ['status', '--check', '--max-age', 'soon'])).code).toBe(3);

    // Prometheus textfile: atomic (no temp file left), parsed by a real parser.
    const prom = scratch.path('textfile', 'lychd.prom');
    const p = await cli(fx.root, ['status', '--prometheus', prom]);
    expect(p.code, p.stderr).toBe(0);
    expect(await readdir(path.dirname(prom))).toEqual(['lychd.prom']);
    const families = Object.fromEntries(parsePrometheusTextFormat(await readFile(prom, 'utf8')).map((f) => [f.name, f]));
    expect(Number(families.lychd_crypt_newest_snapshot_timestamp_seconds!.metrics[0]!.value)).toBe(Date.parse(m.createdAt) / 1000);
    expect(Number(families.lychd_crypt_snapshots!.metrics[0]!.value)).toBe(1);
    expect(Number(families.lychd_crypt_free_bytes!.metrics[0]!.value)).toBeGreaterThan(0);
    expect(families.lychd_crypt_free_bytes!.metrics[0]!.labels).toEqual({ crypt: fx.root });

    // Full: leave less than 5% free -> CRITICAL against a 10% floor.
    const s = await statfs(fx.root);
    const size = Number(s.blocks) * Number(s.bsize);
    const free = Number(s.bavail) * Number(s.bsize);
    sh(['fallocate', '-l', String(free - Math.floor(size * 0.03)), path.join(fx.paths.active, 'ballast')]);
    sh(['btrfs', 'filesystem', 'sync', fx.root]);
    const full = await cli(fx.root, ['status', '--check', '--max-age', '1d']);
    expect(full.code, full.stdout).toBe(2);
    expect(full.stdout).toMatch(/^LYCHD-CRYPT CRITICAL - free space .* below/);

    // Unmounted: the mount record left under the mount point says it is ours.
    sh(['umount', fx.root]);
    await writeFile(path.join(fx.root, '.lychd-crypt-mount.json'), '{}');
    const down = await cli(fx.root, ['status', '--check']);
    expect(down.code).toBe(2);
    expect(down.stdout.trim()).toBe(`LYCHD-CRYPT CRITICAL - ${fx.root} is not mounted`);
    // No crypt at all: UNKNOWN.
    expect((await cli(scratch.path('nowhere'), ['status', '--check'])).code).toBe(3);
  });
});
