// The resize plan (pure): the safe order of the steps, the refusals with their numbers, finishing an
// interrupted resize from any half-done state, and the parsers of btrfs's output it plans from.
import { describe, expect, test } from 'vitest';
import { hostMargin, parseSizeRequest, planResize, shrinkReserve } from '../../src/runtime/capacity/plan.js';
import type { CapacityFacts } from '../../src/runtime/capacity/facts.js';
import { parseDeviceUsage, parseUsageUsed } from '../../src/base/btrfs/devices.js';
import { RefusedError, UsageError } from '../../src/base/errors.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

function loopFacts(over: Partial<CapacityFacts> = {}, image: Partial<NonNullable<CapacityFacts['image']>> = {}): CapacityFacts {
  return {
    method: 'loopback',
    mountPoint: '/srv/lychd',
    device: '/dev/loop7',
    deviceSize: GiB,
    devid: 1,
    fsSize: GiB,
    usedBytes: 100 * MiB,
    image: { path: '/var/lib/lychd/x.img', size: GiB, allocated: 200 * MiB, host: { dir: '/var/lib/lychd', avail: 50 * GiB, total: 100 * GiB }, ...image },
    ...over,
  };
}
const kinds = (p: { steps: { kind: string }[] }) => p.steps.map((s) => s.kind);

describe('resize plan', () => {
  test('grow: the file, then the loop device, then Btrfs (max)', () => {
    const p = planResize(loopFacts(), parseSizeRequest('+1G'));
    expect(p).toMatchObject({ direction: 'grow', fromBytes: GiB, toBytes: 2 * GiB });
    expect(kinds(p)).toEqual(['resize-image', 'refresh-loop', 'resize-btrfs']);
    expect(p.steps[2]).toMatchObject({ max: true, sizeBytes: 2 * GiB, devid: 1 });
    expect(p.steps[0]).toMatchObject({ preallocate: false });
    expect(planResize(loopFacts(), parseSizeRequest('3G'), { preallocate: true }).steps[0]).toMatchObject({ preallocate: true, sizeBytes: 3 * GiB });
  });

  test('shrink: Btrfs first, then the file, then the loop device; never preallocated', () => {
    const p = planResize(loopFacts(), parseSizeRequest('512M'), { preallocate: true });
    expect(kinds(p)).toEqual(['resize-btrfs', 'resize-image', 'refresh-loop']);
    expect(p.steps[0]).toMatchObject({ max: false, sizeBytes: 512 * MiB });
    expect(p.steps[1]).toMatchObject({ preallocate: false });
  });

  test('whole MiB; the same size is nothing to do', () => {
    expect(planResize(loopFacts(), { kind: 'absolute', bytes: 2 * GiB + 12345 }).toBytes).toBe(2 * GiB);
    expect(planResize(loopFacts(), parseSizeRequest('1G'))).toMatchObject({ direction: 'none', steps: [] });
    expect(planResize(loopFacts(), null)).toMatchObject({ direction: 'none' });
  });

  test('a shrink the data and the reserve do not fit is refused with the numbers and the smallest size', () => {
    const f = loopFacts({ usedBytes: 600 * MiB });
    const e = (() => {
      try {
        planResize(f, parseSizeRequest('640M'));
      } catch (err) {
        return err as RefusedError;
      }
      throw new Error('not refused');
    })();
    expect(e).toBeInstanceOf(RefusedError);
    expect(e.message).toMatch(/cannot shrink to 640M: it holds 600 MiB .* 72(\.0)? MiB must stay free/);
    const min = Number(/at least --size (\d+)M/.exec(e.hint!)![1]) * MiB;
    expect(600 * MiB + shrinkReserve(min, null)).toBeLessThanOrEqual(min);
    expect(() => planResize(f, { kind: 'absolute', bytes: min })).not.toThrow();
    // The configured floor counts: 2G free must stay.
    expect(() => planResize(loopFacts({ usedBytes: 100 * MiB }), parseSizeRequest('1G'), { floor: { bytes: 2 * GiB } })).not.toThrow(); // not a shrink
    expect(() => planResize(loopFacts({ usedBytes: 100 * MiB }), parseSizeRequest('900M'), { floor: { bytes: 900 * MiB } })).toThrow(RefusedError);
  });

  test('a grow the host cannot back (its free space less the margin) is refused, naming the most that fits', () => {
    const f = loopFacts({}, { allocated: GiB, host: { dir: '/var/lib/lychd', avail: 3 * GiB, total: 10 * GiB } });
    expect(hostMargin(10 * GiB)).toBe(512 * MiB);
    expect(() => planResize(f, parseSizeRequest('3.5G'))).not.toThrow();
    let err: RefusedError | undefined;
    try {
      planResize(f, parseSizeRequest('+3G'));
    } catch (e) {
      err = e as RefusedError;
    }
    expect(err?.message).toMatch(/could claim 3.0 GiB more of \/var\/lib\/lychd, which has 3.0 GiB free and must keep 512 MiB/);
    expect(err?.hint).toMatch(/at most --size 3584M/);
    // Finishing an interrupted grow does not ask again.
    expect(() => planResize(f, parseSizeRequest('4G'), { finishing: true })).not.toThrow();
  });

  test('finishing: each half-done state plans the remaining steps (each step then sees what is done)', () => {
    // The file grew, the loop device did not.
    const grown = loopFacts({ deviceSize: GiB, fsSize: GiB }, { size: 2 * GiB });
    expect(planResize(grown, { kind: 'absolute', bytes: 2 * GiB }, { finishing: true })).toMatchObject({ direction: 'grow' });
    // The loop device too; Btrfs not yet.
    expect(planResize(loopFacts({ deviceSize: 2 * GiB }, { size: 2 * GiB }), null).direction).toBe('grow');
    // A shrink cut the file; the loop device is still larger.
    expect(kinds(planResize(loopFacts({ deviceSize: GiB, fsSize: 512 * MiB }, { size: 512 * MiB }), null))).toEqual(['resize-btrfs', 'resize-image', 'refresh-loop']);
  });

  test('Method A: Btrfs to the whole (enlarged) partition; beyond it refused', () => {
    const f: CapacityFacts = { ...loopFacts(), method: 'partition', device: '/dev/sdb1', deviceSize: 4 * GiB, fsSize: 2 * GiB, image: null };
    const p = planResize(f, null);
    expect(p).toMatchObject({ direction: 'grow', fromBytes: 2 * GiB, toBytes: 4 * GiB });
    expect(p.steps).toEqual([{ kind: 'resize-btrfs', mountPoint: '/srv/lychd', devid: 1, sizeBytes: 4 * GiB, max: true }]);
    expect(() => planResize(f, parseSizeRequest('5G'))).toThrow(/Btrfs cannot grow to 5G/);
    expect(planResize({ ...f, fsSize: 4 * GiB }, null).direction).toBe('none');
  });

  test('--size: SIZE or +SIZE, anything else a usage error', () => {
    expect(parseSizeRequest('+10G')).toEqual({ kind: 'grow-by', bytes: 10 * GiB });
    expect(parseSizeRequest('512M')).toEqual({ kind: 'absolute', bytes: 512 * MiB });
    expect(() => parseSizeRequest('-1G')).toThrow(UsageError);
    expect(() => parseSizeRequest('big')).toThrow(/not a size/);
  });

  test('btrfs output parsers', () => {
    // As btrfs-progs 6.2 prints it after `btrfs filesystem resize 1:400M` on a 512 MiB loop device.
    const usage = [
      '/dev/loop0, ID: 1',
      '   Device size:           536870912',
      '   Device slack:          117440512',
      '   Data,single:             8388608',
      '   Metadata,DUP:           67108864',
      '   System,DUP:             16777216',
      '   Unallocated:           327155712',
      '',
      '/dev/loop7, ID: 2',
      '   Device size:           314572800',
      '   Data,single:             8388608',
      '   Unallocated:           306184192',
      '',
    ].join('\n');
    expect(parseDeviceUsage(usage)).toEqual([
      { devid: 1, size: 419430400, used: 92274688, path: '/dev/loop0' },
      { devid: 2, size: 314572800, used: 8388608, path: '/dev/loop7' },
    ]);
    expect(parseDeviceUsage('ERROR: not a btrfs filesystem')).toEqual([]);
    expect(parseUsageUsed('Overall:\n    Device size:\t\t 314572800\n    Used:\t\t\t    294912\n')).toBe(294912);
    expect(parseUsageUsed('nothing')).toBeNull();
  });
});

describe('loopback.preallocate default', () => {
  test('a new image is preallocated when the host holds it and the margin, else sparse', async () => {
    const { defaultPreallocate } = await import('../../src/install/image-size.js');
    expect(defaultPreallocate(20 * GiB, 100 * GiB)).toBe(true);
    expect(defaultPreallocate(20 * GiB, 20.5 * GiB)).toBe(false); // 5% of the host must stay free
    expect(defaultPreallocate(200 * MiB, 400 * MiB)).toBe(false); // at least 256 MiB
    expect(defaultPreallocate(GiB, undefined)).toBe(false);
  });
});

describe('migrate plan', () => {
  const base = {
    mountPoint: '/srv/lychd',
    devid: 1,
    fsSize: GiB,
    loopDevice: '/dev/loop7',
    image: '/var/lib/lychd/x.img',
    device: { path: '/dev/sdb1', exists: true, isBlock: true, sizeBytes: 4 * GiB + 1000, readOnly: false, mountPoints: [], holders: [], inUse: [], signatures: [] },
    systemdRunning: false,
  };
  const config = {
    crypt: { name: 'x', path: '/srv/lychd' },
    method: 'loopback',
    profile: 'system',
    loopback: { image: '/var/lib/lychd/x.img', sizeBytes: GiB },
    partition: null,
    filesystem: { label: 'lychd', mountOptions: ['noatime'] },
    persist: { via: 'fstab', fstab: '/etc/fstab', unitDir: '/etc/systemd/system' },
  } as unknown as import('../../src/model/config.js').Config;

  test('replace, grow to the whole device (whole sectors), persistence by UUID, mount record, detach', async () => {
    const { planMigrate } = await import('../../src/runtime/capacity/migrate-plan.js');
    const p = planMigrate(config, 'u-u-i-d', base, { wipe: false });
    expect(kinds(p)).toEqual(['replace-device', 'resize-btrfs', 'write-fstab-line', 'write-mount-record', 'detach-loop']);
    expect(p.steps[1]).toMatchObject({ max: true, sizeBytes: 4 * GiB });
    expect(p.steps[2]).toMatchObject({ line: expect.stringMatching(/^UUID=u-u-i-d \/srv\/lychd btrfs noatime,x-lychd-crypt /) });
    expect(p.config).toMatchObject({ method: 'partition', loopback: null, partition: { device: '/dev/sdb1', uuid: 'u-u-i-d', wipe: false } });
    const unit = planMigrate({ ...config, persist: { ...config.persist, via: 'systemd' } }, 'u-u-i-d', base, { wipe: false });
    expect(kinds(unit)).toEqual(['replace-device', 'resize-btrfs', 'write-mount-unit', 'write-mount-record', 'detach-loop']);
    const written = unit.steps.find((s) => s.kind === 'write-mount-unit') as { content: string; path: string };
    expect(written.path).toBe('/etc/systemd/system/srv-lychd.mount');
    expect(written.content).toMatch(/^What=UUID=u-u-i-d$/m);
    expect(written.content).not.toMatch(/^Options=.*\bloop\b/m);
    const record = unit.steps.find((s) => s.kind === 'write-mount-record') as { content: string };
    expect(JSON.parse(record.content)).toMatchObject({ method: 'partition', mount: { what: 'UUID=u-u-i-d' } });
  });

  test('init\'s consent rules: in use or mounted refused, data only with wipe, too small refused with the resize to run', async () => {
    const { planMigrate } = await import('../../src/runtime/capacity/migrate-plan.js');
    const dev = (over: object) => ({ ...base, device: { ...base.device, ...over } });
    expect(() => planMigrate(config, 'u', dev({ mountPoints: ['/mnt'] }), { wipe: true })).toThrow(/mounted at \/mnt/);
    expect(() => planMigrate(config, 'u', dev({ holders: ['dm-0'] }), { wipe: true })).toThrow(/in use by dm-0/);
    const sig = dev({ signatures: [{ type: 'ext4', label: null }] });
    expect(() => planMigrate(config, 'u', sig, { wipe: false })).toThrow(/holds data/);
    expect(planMigrate(config, 'u', sig, { wipe: true }).steps[0]).toMatchObject({ force: true });
    expect(() => planMigrate(config, 'u', dev({ sizeBytes: GiB / 2 }), { wipe: false })).toThrow(RefusedError);
    expect(() => planMigrate(config, 'u', dev({ exists: false }), { wipe: false })).toThrow(UsageError);
    expect(() => planMigrate({ ...config, method: 'partition' }, 'u', base, { wipe: false })).toThrow(/nothing to migrate/);
  });

  test('btrfs replace status', async () => {
    const { parseReplaceStatus } = await import('../../src/install/steps/replace-device.js');
    expect(parseReplaceStatus('Never started\n').state).toBe('never');
    expect(parseReplaceStatus('26.3% done, 0 write errs, 0 uncorr. read errs\n')).toEqual({ state: 'running', percent: 26.3 });
    expect(parseReplaceStatus('Started on  7.Dec 05:58:05, finished on  7.Dec 05:58:05, 0 write errs, 0 uncorr. read errs').state).toBe('finished');
    expect(parseReplaceStatus('Started on  7.Dec 05:59:06, canceled on  7.Dec 05:59:06 at 0.0%, 0 write errs, 0 uncorr. read errs').state).toBe('canceled');
  });
});

describe('free-space trend', () => {
  const DAY = 86_400_000;
  const now = Date.parse('2026-12-07T00:00:00Z');
  test('least squares over the last 30 days; full in N days; grow soon below 30, with the command', async () => {
    const { spaceTrend, describeTrend } = await import('../../src/runtime/status/trend.js');
    const pts = [0, 1, 2, 3, 4].map((d) => ({ at: now - (4 - d) * DAY, usedBytes: GiB + d * 100 * MiB }));
    const t = spaceTrend(pts, now, 2 * GiB, { method: 'loopback' })!;
    expect(t).toMatchObject({ points: 5, spanDays: 4, bytesPerDay: 100 * MiB });
    expect(t.daysLeft).toBeCloseTo(20.5, 1);
    expect(t.advice).toMatch(/resize --size \+9G/); // 90 days at 100 MiB/day, whole GiB up
    expect(describeTrend(t)).toMatch(/^\+100M\/day over 4 days \(5 points\): full in ~21 days$/);
    expect(spaceTrend(pts, now, 20 * GiB, { method: 'loopback' })!.advice).toBeNull();
    expect(spaceTrend(pts, now, GiB, { method: 'partition' })!.advice).toMatch(/enlarge the partition .* then `sudo lychd-crypt resize`/);
  });
  test('too little history, old points, shrinking usage', async () => {
    const { spaceTrend } = await import('../../src/runtime/status/trend.js');
    expect(spaceTrend([{ at: now, usedBytes: 1 }], now, GiB, { method: 'loopback' })).toBeNull();
    expect(spaceTrend([{ at: now - 60_000, usedBytes: 1 }, { at: now, usedBytes: 2 }], now, GiB, { method: 'loopback' })).toBeNull(); // under an hour
    expect(spaceTrend([{ at: now - 40 * DAY, usedBytes: 1 }, { at: now, usedBytes: 2 }], now, GiB, { method: 'loopback' })).toBeNull(); // outside the window
    const down = spaceTrend([{ at: now - DAY, usedBytes: 2 * GiB }, { at: now, usedBytes: GiB }], now, GiB, { method: 'loopback' })!;
    expect(down).toMatchObject({ daysLeft: null, advice: null });
    expect(down.bytesPerDay).toBe(-GiB);
  });
});
