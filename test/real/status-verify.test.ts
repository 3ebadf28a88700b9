// verify --newest (what the verify timer runs) restore-tests the newest snapshot and records the result,
// which status, --check and the Prometheus file report.
import { describe, expect, test } from 'vitest';
import { readFile } from 'node:fs/promises';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { cli, cryptWithServer } from '../helpers/snap.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

describe.skipIf(skip)(`verify --newest and status ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('the newest snapshot is verified and the result shows in status', async () => {
    scratch = await scratches.scratch();
    const { fx } = await cryptWithServer(scratch, 15, { fixture: { sizeMiB: 512 } });
    expect((await cli(fx.root, ['verify', '--newest'])).code).toBe(2); // nothing to verify yet
    expect((await cli(fx.root, ['--json', 'snapshot', '--label', 'older'])).code).toBe(0);
    const newest = await cli(fx.root, ['--json', 'snapshot']);
    expect(newest.code, newest.stderr).toBe(0);
    expect((await cli(fx.root, ['verify', 'x', '--newest'])).code).toBe(2);

    const v = await cli(fx.root, ['--json', 'verify', '--newest']);
    expect(v.code, v.stderr).toBe(0);
    expect(v.json, JSON.stringify(v.json.checks)).toMatchObject({ name: newest.json.snapshot.name, ok: true });

    const status = await cli(fx.root, ['status']);
    expect(status.stdout).toMatch(new RegExp(`last verify +ok (?:just now|\\d+m ago) \\([^)]+Z\\): ${newest.json.snapshot.name}: restorable`));
    expect(status.stdout).toMatch(/postgresql +running/);
    const prom = scratch.path('lychd.prom');
    const check = await cli(fx.root, ['status', '--check', '--prometheus', prom]);
    expect(check.code, check.stdout).toBe(0);
    const fams = Object.fromEntries(parsePrometheusTextFormat(await readFile(prom, 'utf8')).map((f) => [f.name, f]));
    expect(fams.lychd_crypt_last_verify_success!.metrics[0]!.value).toBe('1');
    expect(fams.lychd_crypt_last_run_success!.metrics.map((m) => m.labels!.kind)).toEqual(['verify']);
  });
});
