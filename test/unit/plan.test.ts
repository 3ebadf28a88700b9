// The planner on recorded host facts (test/fixtures/init/facts-ext4-host.json was captured by detectHost on
// an ext4 scratch host with data at the crypt path and an ext4 "precious" loop device): each method and each refusal.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { answersSchema, type AnswersInput } from '../../src/install/answers/schema.js';
import type { Config } from '../../src/model/config.js';
import { RefusedError, UsageError, exitCodeFor } from '../../src/base/errors.js';
import { RecordingRunner } from '../../src/base/runner.js';
import type { HostFacts } from '../../src/install/detect/facts.js';
import { parseCandidates } from '../../src/install/detect/block.js';
import { parseFindmnt } from '../../src/install/detect/findmnt.js';
import { describeSignatures, parseWipefs } from '../../src/install/detect/signatures.js';
import { describePlan, planInit, planToJson, type Plan, applyPlan, silentReporter, resolveConfig } from '../../src/install/init.js';

const FIX = path.resolve(import.meta.dirname, '../fixtures/init');
const fixture = (name: string) => readFileSync(path.join(FIX, name), 'utf8');
const baseFacts = (): HostFacts => JSON.parse(fixture('facts-ext4-host.json')) as HostFacts;

const T = '/srv/t';
const baseAnswers: AnswersInput = {
  version: 1,
  crypt: { path: `${T}/host/data/crypt` },
  loopback: { image: `${T}/host/img/crypt.img`, size: '200M' },
  persist: { fstab: `${T}/etc/fstab`, unitDir: `${T}/units` },
  install: { binDir: `${T}/bin` },
};

function plan(over: Partial<AnswersInput> = {}, facts: HostFacts = baseFacts()): Plan {
  const answers = answersSchema.parse({ ...baseAnswers, ...over });
  return planInit(facts, resolveConfig(answers, facts));
}
const kinds = (p: Plan) => p.steps.map((s) => s.kind);
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('recorded tool output', () => {
  it('parses findmnt -J', () => {
    expect(parseFindmnt(fixture('findmnt-ext4-loop.json'))).toEqual([{ target: '/srv/t/host', source: '/dev/loop0', fstype: 'ext4', options: ['rw', 'relatime'] }]);
  });
  it('parses wipefs -n -J and names what a device holds', () => {
    const sigs = parseWipefs(fixture('wipefs-ext4-precious.json'));
    expect(sigs).toMatchObject([{ type: 'ext4', label: 'precious' }]);
    expect(describeSignatures([...sigs, { type: 'dos', label: null }])).toBe('ext4, label precious; dos');
    expect(parseWipefs('{"signatures": []}')).toEqual([]);
  });
  it('lists only free partitions from lsblk -J', () => {
    expect(parseCandidates(fixture('lsblk-disk-parts.json'))).toEqual([{ path: '/dev/sda4', sizeBytes: 21474836480, description: 'Samsung SSD 860, 20G' }]);
  });
});

/** The crypt root and snapshots/ owned per profile, root's state directory (2 levels), the registry directory, the entry. */
const STATE_TAIL = ['own-dir', 'create-dir', 'own-dir', 'create-dir', 'create-dir', 'create-dir', 'register', 'install-runtime'];

describe('planInit: Method B (loopback)', () => {
  it('on an ext4 host with data: image, mkfs, migration, record, mount, fstab, layout', () => {
    const p = plan({ method: 'loopback' });
    expect(kinds(p)).toEqual([
      'create-dir', // image directory
      'create-image',
      'register', // the new filesystem is this crypt's from now on (provisional, before mkfs: a power cut between them)
      'mkfs-btrfs',
      'create-dir', // root's state directory
      'create-dir', // the temporary mount point in it
      'mount',
      'create-subvolume',
      'create-pgdata',
      'copy-data',
      'unmount',
      'remove-dir',
      'move-aside',
      'write-mount-record',
      'mount',
      'write-fstab-line', // systemd is not running in the fixture: fstab by default
      ...STATE_TAIL,
    ]);
    const img = p.steps.find((s) => s.kind === 'create-image');
    expect(img).toEqual({ kind: 'create-image', path: `${T}/host/img/crypt.img`, sizeBytes: 200 * 2 ** 20, nocow: false });
    const copy = p.steps.find((s) => s.kind === 'copy-data');
    // The temporary mount is root's, away from the directories the crypt's user could swap; the copy runs as
    // that user, into active/ checked to be on the new filesystem.
    const tmp = '/var/lib/lychd-crypt/.alice.migrate';
    const fs = { root: tmp, uuid: baseFacts().newUuid };
    expect(p.steps.find((s) => s.kind === 'mount' && s.spec.where === tmp)).toBeDefined();
    expect(copy).toEqual({ kind: 'copy-data', from: `${T}/host/data/crypt`, entries: ['notes.txt'], to: `${tmp}/active`, marker: null, fs, as: { user: 'root', uid: 0, gid: 0 } });
    const fstab = p.steps.find((s) => s.kind === 'write-fstab-line');
    expect(fstab && 'line' in fstab && fstab.line).toBe(
      `${T}/host/img/crypt.img ${T}/host/data/crypt btrfs loop,noatime,compress=zstd:1,x-lychd-crypt 0 0`,
    );
    expect(p.notes.join('\n')).toMatch(/copied into .*active; the original will be kept in .*crypt\.pre-lychd-crypt-20261124T004057Z/);
    const pg = p.steps.find((s) => s.kind === 'create-pgdata');
    expect(pg).toEqual({ kind: 'create-pgdata', path: `${tmp}/active/postgres`, owner: { uid: 101, gid: 104 }, mode: 0o700, fs });
    // The layout and the registry entry are checked against the same filesystem, on the crypt path.
    for (const k of ['own-dir', 'register'] as const) expect(p.steps.filter((s) => s.kind === k).at(-1)).toMatchObject({ fs: { root: `${T}/host/data/crypt`, uuid: fs.uuid } });
  });

  it('auto picks loopback on ext4 and native on btrfs', () => {
    expect(plan().config.method).toBe('loopback');
    const f = baseFacts();
    f.hostFs.fstype = 'btrfs';
    expect(plan({}, f).config.method).toBe('native');
  });

  it('refuses existing data that would not fit in the image (exit 2)', () => {
    const f = baseFacts();
    f.cryptDataBytes = 190 * 2 ** 20;
    const e = thrown(() => plan({ method: 'loopback' }, f));
    expect(exitCodeFor(e)).toBe(2);
    expect((e as Error).message).toMatch(/the 190M of existing data in .* do not fit in the 200M image/);
  });

  it('sets nocow on the image on a Btrfs host', () => {
    const f = baseFacts();
    f.imageHost!.fstype = 'btrfs';
    expect(plan({ method: 'loopback' }, f).steps.find((s) => s.kind === 'create-image')).toMatchObject({ nocow: true });
  });

  it('refuses an image larger than the free space (exit 2)', () => {
    const e = thrown(() => plan({ method: 'loopback', loopback: { image: `${T}/host/img/crypt.img`, size: '20G' } }));
    expect(e).toBeInstanceOf(UsageError);
    expect(exitCodeFor(e)).toBe(2);
    expect((e as Error).message).toMatch(/loopback.size: 20G does not fit: .* \(ext4\) has 252.1M free/);
  });

  it('refuses an existing image that holds another filesystem (exit 3)', () => {
    const f = baseFacts();
    f.image = { ...f.image!, exists: true, sizeBytes: 1, allocatedBytes: 4096, signatures: [{ type: 'xfs', label: null }] };
    expect(exitCodeFor(thrown(() => plan({ method: 'loopback' }, f)))).toBe(3);
  });

  it('systemd persistence without systemd running: unit written, not enabled, said so', () => {
    const p = plan({ method: 'loopback', persist: { ...baseAnswers.persist, via: 'systemd' } });
    expect(kinds(p)).toContain('write-mount-unit');
    expect(kinds(p)).not.toContain('enable-mount-unit');
    expect(kinds(p)).not.toContain('write-fstab-line');
    expect(p.notes.join()).toMatch(/systemd is not running/);
    const unit = p.steps.find((s) => s.kind === 'write-mount-unit');
    expect(unit).toMatchObject({ path: `${T}/units/srv-t-host-data-crypt.mount`, unit: 'srv-t-host-data-crypt.mount', reload: false });
  });

  it('with systemd running: reload and enable; switching from fstab removes our line (never both)', () => {
    const f = baseFacts();
    f.systemdRunning = true;
    f.persisted.fstabLines = [{ line: 3, what: `${T}/host/img/crypt.img`, tagged: true }];
    const p = plan({ method: 'loopback' }, f);
    expect(p.config.persist.via).toBe('systemd');
    const k = kinds(p);
    expect(k.indexOf('remove-fstab-line')).toBeLessThan(k.indexOf('write-mount-unit'));
    expect(k).toContain('enable-mount-unit');
    // The unit mounts the crypt (enable --now), init does not mount it directly.
    expect(p.steps.filter((s) => s.kind === 'mount' && s.spec.where === p.config.crypt.path)).toEqual([]);
    expect(p.steps.find((s) => s.kind === 'enable-mount-unit')).toMatchObject({ start: { where: p.config.crypt.path } });
  });

  it('switching to fstab removes our unit', () => {
    const f = baseFacts();
    f.persisted.unitExists = true;
    expect(kinds(plan({ method: 'loopback', persist: { ...baseAnswers.persist, via: 'fstab' } }, f))).toContain('remove-mount-unit');
  });

  it('refuses when someone else\'s fstab line mounts the crypt path (exit 3)', () => {
    const f = baseFacts();
    f.persisted.fstabLines = [{ line: 7, what: '/dev/sdz1', tagged: false }];
    const e = thrown(() => plan({ method: 'loopback' }, f));
    expect(e).toBeInstanceOf(RefusedError);
    expect((e as Error).message).toMatch(/already mounts \/dev\/sdz1 .* \(line 7\)/);
  });

  it('refuses a foreign filesystem mounted at the crypt path (exit 3)', () => {
    const f = baseFacts();
    f.cryptMount = { target: f.cryptPath, source: '/dev/sdz1', fstype: 'xfs', options: [], backingFile: null };
    expect(exitCodeFor(thrown(() => plan({ method: 'loopback' }, f)))).toBe(3);
  });

  it('a re-run on a mounted crypt plans no image, no mkfs and no migration', () => {
    const f = baseFacts();
    const first = plan({ method: 'loopback' });
    f.cryptMount = { target: f.cryptPath, source: '/dev/loop3', fstype: 'btrfs', options: [], backingFile: `${T}/host/img/crypt.img` };
    f.cryptEntries = ['.lychd-crypt', 'active', 'snapshots'];
    f.image = { ...f.image!, exists: true, sizeBytes: 200 * 2 ** 20, signatures: [{ type: 'btrfs', label: 'lychd' }] };
    f.existingConfig = first.config;
    const p = plan({}, f);
    expect(kinds(p)).toEqual(['mount', 'write-fstab-line', 'create-subvolume', 'create-pgdata', ...STATE_TAIL]);
    // A larger size grows the mounted image; a smaller one is refused.
    const grow = plan({ loopback: { image: `${T}/host/img/crypt.img`, size: '240M' } }, f);
    expect(grow.steps.find((s) => s.kind === 'grow-image')).toEqual({ kind: 'grow-image', path: `${T}/host/img/crypt.img`, sizeBytes: 240 * 2 ** 20, mountPoint: f.cryptPath });
    expect(exitCodeFor(thrown(() => plan({ loopback: { image: `${T}/host/img/crypt.img`, size: '150M' } }, f)))).toBe(2);
    // A changed configuration rewrites the record underneath the mount.
    const changed = plan({ persist: { ...baseAnswers.persist, via: 'systemd' } }, f);
    expect(kinds(changed).slice(0, 2)).toEqual(['write-mount-record', 'mount']);
  });
});

describe('planInit: loopback.preallocate', () => {
  it('new images are preallocated where the host holds them plus a margin; the answers decide otherwise; an image grows as it was made', () => {
    const roomy = baseFacts();
    roomy.imageHost = { ...roomy.imageHost!, freeBytes: 100 * 2 ** 30 };
    const p = plan({ method: 'loopback' }, roomy);
    expect(p.config.loopback!.preallocate).toBe(true);
    expect(p.steps.find((s) => s.kind === 'create-image')).toMatchObject({ preallocate: true });
    expect(describePlan(p)).toContain('fallocate -l 209715200');
    const tight = baseFacts();
    tight.imageHost = { ...tight.imageHost!, freeBytes: 300 * 2 ** 20 };
    expect(plan({ method: 'loopback' }, tight).config.loopback!.preallocate).toBe(false);
    expect(plan({ method: 'loopback', loopback: { image: `${T}/host/img/crypt.img`, size: '200M', preallocate: false } }, roomy).steps.find((s) => s.kind === 'create-image')).not.toHaveProperty('preallocate');
    // The registered crypt was preallocated: growing it allocates the new part too.
    const f = baseFacts();
    f.imageHost = { ...f.imageHost!, freeBytes: 100 * 2 ** 30 };
    f.cryptMount = { target: f.cryptPath, source: '/dev/loop3', fstype: 'btrfs', options: [], backingFile: `${T}/host/img/crypt.img` };
    f.cryptEntries = ['active', 'snapshots'];
    f.image = { ...f.image!, exists: true, sizeBytes: 200 * 2 ** 20, signatures: [{ type: 'btrfs', label: 'lychd' }] };
    f.existingConfig = p.config;
    const grow = plan({ loopback: { image: `${T}/host/img/crypt.img`, size: '240M' } }, f);
    expect(grow.steps.find((s) => s.kind === 'grow-image')).toMatchObject({ preallocate: true });
  });
});

describe('planInit: Method A (partition)', () => {
  const device = '/dev/loop1';
  it('refuses a device holding a filesystem without wipe, naming it (exit 3)', () => {
    const e = thrown(() => plan({ method: 'partition', partition: { device } }));
    expect(e).toBeInstanceOf(RefusedError);
    expect((e as Error).message).toBe('/dev/loop1 holds data (ext4, label precious); nothing was changed');
  });
  it('formats with wipe: true and persists by UUID=', () => {
    const f = baseFacts();
    const p = plan({ method: 'partition', partition: { device, wipe: true } }, f);
    expect(p.steps.find((s) => s.kind === 'mkfs-btrfs')).toEqual({ kind: 'mkfs-btrfs', device, label: 'lychd', uuid: f.newUuid, wipe: true });
    expect(p.steps.find((s) => s.kind === 'write-fstab-line')).toMatchObject({ line: `UUID=${f.newUuid} ${T}/host/data/crypt btrfs noatime,compress=zstd:1,x-lychd-crypt 0 0` });
    expect(p.config.partition).toEqual({ device, wipe: true, uuid: f.newUuid });
    expect(kinds(p)).not.toContain('create-image');
  });
  it('an empty device needs no consent', () => {
    const f = baseFacts();
    f.device!.signatures = [];
    expect(kinds(plan({ method: 'partition', partition: { device } }, f))).toContain('mkfs-btrfs');
  });
  it('refuses a mounted or held device, and a missing one', () => {
    const f = baseFacts();
    f.device!.mountPoints = ['/mnt/x'];
    expect(exitCodeFor(thrown(() => plan({ method: 'partition', partition: { device, wipe: true } }, f)))).toBe(3);
    const g = baseFacts();
    g.device!.holders = ['dm-0'];
    expect(exitCodeFor(thrown(() => plan({ method: 'partition', partition: { device, wipe: true } }, g)))).toBe(3);
    const h = baseFacts();
    h.device = { ...h.device!, exists: false };
    expect(exitCodeFor(thrown(() => plan({ method: 'partition', partition: { device } }, h)))).toBe(2);
  });
  it('method partition without a device is a usage error (exit 2)', () => {
    const f = baseFacts();
    f.device = null;
    expect(thrown(() => plan({ method: 'partition' }, f))).toBeInstanceOf(UsageError);
  });
  it('recognises its own unmounted filesystem from the mount record (no consent needed, not formatted)', () => {
    const f = baseFacts();
    const uuid = '11111111-2222-3333-4444-555555555555';
    f.device!.signatures = [{ type: 'btrfs', label: 'lychd', uuid }];
    f.cryptEntries = [];
    f.mountRecord = {
      version: 1,
      method: 'partition',
      mount: { what: `UUID=${uuid}`, where: f.cryptPath, type: 'btrfs', options: ['noatime'] },
      device,
      image: null,
      label: 'lychd',
      persist: { via: 'none', file: null, unit: null },
    };
    const p = plan({ method: 'auto', partition: { device } }, f);
    expect(p.config.method).toBe('partition');
    expect(kinds(p)).not.toContain('mkfs-btrfs');
    expect(p.steps.find((s) => s.kind === 'mount')).toMatchObject({ spec: { what: `UUID=${uuid}` } });
  });
  it('keeps our own filesystem on a re-run even with wipe: true', () => {
    const f = baseFacts();
    const uuid = '11111111-2222-3333-4444-555555555555';
    f.device!.signatures = [{ type: 'btrfs', label: 'lychd', uuid }];
    f.existingConfig = { ...plan({ method: 'partition', partition: { device, wipe: true } }).config, partition: { device, wipe: true, uuid } } as Config;
    f.cryptEntries = [];
    const p = plan({ method: 'partition', partition: { device, wipe: true } }, f);
    expect(kinds(p)).not.toContain('mkfs-btrfs');
    expect(p.config.partition?.uuid).toBe(uuid);
  });
});

describe('planInit: native', () => {
  it('builds the layout in place on Btrfs: no image, no mount, no persistence; data migrated', () => {
    const f = baseFacts();
    f.hostFs.fstype = 'btrfs';
    const p = plan({ method: 'native' }, f);
    expect(kinds(p)).toEqual(['move-aside', 'create-subvolume', 'create-pgdata', 'copy-data', ...STATE_TAIL]);
    expect(p.config.persist.via).toBe('none');
    expect(p.steps[3]).toMatchObject({ kind: 'copy-data', from: expect.stringMatching(/crypt\.pre-lychd-crypt-/), entries: ['notes.txt'], to: `${T}/host/data/crypt/active`, fs: { root: `${T}/host/data/crypt`, uuid: null } });
  });
  it('finishes an interrupted native migration from the marker, without moving anything again', () => {
    const f = baseFacts();
    f.hostFs.fstype = 'btrfs';
    f.cryptEntries = ['active'];
    f.pendingMigration = { from: `${T}/host/data/crypt.pre-lychd-crypt-X`, entries: ['notes.txt'] };
    const p = plan({ method: 'native' }, f);
    expect(kinds(p)).toEqual(['create-subvolume', 'create-pgdata', 'copy-data', ...STATE_TAIL]);
    expect(p.steps[2]).toEqual({
      kind: 'copy-data',
      from: `${T}/host/data/crypt.pre-lychd-crypt-X`,
      entries: ['notes.txt'],
      to: `${T}/host/data/crypt/active`,
      marker: `${T}/host/data/crypt/.lychd-crypt-migrating.json`,
      fs: { root: `${T}/host/data/crypt`, uuid: null },
      as: { user: 'root', uid: 0, gid: 0 },
    });
  });
  it('refuses native on a non-Btrfs host (exit 2)', () => {
    const e = thrown(() => plan({ method: 'native' }));
    expect(exitCodeFor(e)).toBe(2);
    expect((e as Error).message).toMatch(/native needs the crypt path on Btrfs, but .* is on ext4/);
  });
});

describe('describePlan / planToJson', () => {
  it('prints every command and file', () => {
    const p = plan({ method: 'loopback' });
    const text = describePlan(p);
    expect(text).toContain(`$ truncate -s 209715200 ${T}/host/img/crypt.img`);
    expect(text).toContain(`$ mkfs.btrfs -L lychd -U ${baseFacts().newUuid} ${T}/host/img/crypt.img`);
    expect(text).toContain(`$ mount -t btrfs -o loop,noatime,compress=zstd:1 ${T}/host/img/crypt.img ${T}/host/data/crypt`);
    expect(text).toContain(`$ cp -a --reflink=never -- ${T}/host/data/crypt/notes.txt /proc/self/fd/3/`);
    expect(text).toContain(`- open /var/lib/lychd-crypt/.alice.migrate/active through it and hand it to the copy as fd 3`);
    expect(text).toContain(`register the crypt "alice" in /srv/t/registry`);
    const json = JSON.parse(JSON.stringify(planToJson(p)));
    expect(json.steps[3].actions.commands[1]).toEqual(['mkfs.btrfs', '-L', 'lychd', '-U', baseFacts().newUuid, `${T}/host/img/crypt.img`]);
  });
  it('a crypt path (say, a default made from a home) holding what /bin/sh interprets is refused with its key (exit 2)', () => {
    const f = baseFacts();
    f.cryptPath = '/home/a$(id)/.local/share/lychd';
    const e = (() => {
      try {
        plan({ method: 'loopback' }, f);
      } catch (x) {
        return x as UsageError;
      }
      throw new Error('expected a refusal');
    })();
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toMatch(/^crypt\.path: \/home\/a\$\(id\)\/\.local\/share\/lychd holds \$, which \/bin\/sh interprets/);
  });

  it('quotes metacharacters for display', () => {
    const f = baseFacts();
    // Quotes, $, backquotes and backslashes are refused in a crypt path (pg_ctl hands it to /bin/sh).
    f.cryptPath = '/srv/t/host/data/a b;c&*';
    const text = describePlan(plan({ method: 'loopback' }, f));
    expect(text).toContain(`'/srv/t/host/data/a b;c&*'`);
  });
});

describe('applyPlan with a recording runner', () => {
  it('mkfs re-probes right before formatting and refuses a new signature (exit 3)', async () => {
    const p: Plan = { version: 1, config: plan().config, notes: [], steps: [{ kind: 'mkfs-btrfs', device: '/dev/loop9', label: 'lychd', uuid: 'u', wipe: false }] };
    const runner = new RecordingRunner((argv) => (argv[0] === 'wipefs' ? { stdout: fixture('wipefs-ext4-precious.json') } : undefined));
    const e = await applyPlan(p, { runner }, silentReporter).catch((x: unknown) => x);
    expect(exitCodeFor(e)).toBe(3);
    expect((e as Error).message).toMatch(/ext4, label precious/);
    expect(runner.calls).toEqual([['wipefs', '--no-act', '--json', '/dev/loop9']]);
  });
  it('mkfs runs the planned argv on an empty device', async () => {
    const p: Plan = { version: 1, config: plan().config, notes: [], steps: [{ kind: 'mkfs-btrfs', device: '/dev/loop9', label: 'lychd', uuid: 'u', wipe: true }] };
    const runner = new RecordingRunner((argv) => (argv[0] === 'wipefs' ? { stdout: '{"signatures":[]}' } : argv[0] === 'mkfs.btrfs' || argv[0] === 'blkid' ? {} : undefined));
    const r = await applyPlan(p, { runner }, silentReporter);
    expect(r.changed).toBe(1);
    expect(runner.calls[1]).toEqual(['mkfs.btrfs', '-f', '-L', 'lychd', '-U', 'u', '/dev/loop9']);
    expect(runner.calls[2]).toEqual(['blkid', '/dev/loop9']); // refreshes blkid's cache for mount UUID=
  });
});

describe('answersFromConfig', () => {
  it('round-trips: the written answers resolve to the same config', async () => {
    const { answersFromConfig, renderAnswersYaml } = await import('../../src/install/answers/write.js');
    const { parseAnswers } = await import('../../src/install/answers/load.js');
    for (const over of [{ method: 'loopback' as const }, { method: 'partition' as const, partition: { device: '/dev/loop1', wipe: true } }]) {
      const f = baseFacts();
      const config = plan(over, f).config;
      const replay = parseAnswers(renderAnswersYaml(answersFromConfig(config)), 'replay.yaml');
      expect(resolveConfig(replay, f)).toEqual(config);
    }
  });
});

describe('resolveConfig guards', () => {
  it('refuses a system directory or the home directory as the crypt path (exit 2)', () => {
    for (const p of ['/', '/home', '/var/lib', '/root']) {
      const f = baseFacts();
      f.cryptPath = p;
      expect(exitCodeFor(thrown(() => plan({}, f))), p).toBe(2);
    }
  });
});

describe('resolveConfig: the image', () => {
  it('refuses an image inside the crypt path (exit 2)', () => {
    const f = baseFacts();
    f.image = { ...f.image!, path: `${T}/host/data/crypt/x.img` }; // detect canonicalises the answers' image into facts
    const e = thrown(() => plan({ method: 'loopback', loopback: { image: `${T}/host/data/crypt/x.img`, size: '200M' } }, f));
    expect(exitCodeFor(e)).toBe(2);
    expect((e as Error).message).toMatch(/inside the crypt path/);
  });
});

describe('templates/answers.example.yaml', () => {
  it('is a valid answers file', async () => {
    const { loadAnswersFile } = await import('../../src/install/answers/load.js');
    const a = await loadAnswersFile(path.resolve(import.meta.dirname, '../../templates/answers.example.yaml'));
    expect(a).toMatchObject({ version: 1, method: 'auto', persist: { via: 'systemd' } });
  });
});

describe('proposeMethod / describeFacts', () => {
  it('proposes native on Btrfs, a free partition when there is one, else loopback, with a reason', async () => {
    const { proposeMethod, describeFacts } = await import('../../src/install/propose.js');
    const f = baseFacts();
    expect(proposeMethod(f)).toMatchObject({ method: 'loopback', reason: expect.stringMatching(/on ext4 and no free partition/) });
    f.candidateDevices = [{ path: '/dev/sda4', description: 'Samsung SSD 860, 20G', sizeBytes: 1, signatures: [] }];
    expect(proposeMethod(f)).toMatchObject({ method: 'partition', reason: expect.stringContaining('/dev/sda4 (Samsung SSD 860, 20G) is an empty partition') });
    f.hostFs.fstype = 'btrfs';
    expect(proposeMethod(f).method).toBe('native');
    expect(describeFacts(f).join('\n')).toMatch(/systemd: not running[\s\S]*partition \/dev\/sda4: Samsung SSD 860, 20G, empty/);
  });
});
