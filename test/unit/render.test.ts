// Renderers: exact strings, the unit-name escaper against systemd-escape, and the artefacts against
// the tools that will read them (systemd-analyze verify, findmnt --verify).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../src/model/config.js';
import {
  mountRecordFor,
  mountSpecFor,
  parseFstab,
  renderFstabLine,
  renderMountUnit,
  unitNameForPath,
  upsertFstabLine,
  type MountSpec,
} from '../../src/install/render/index.js';
import { toolSkipReason } from '../helpers/env.js';

const tricky = [
  '/',
  '/home/alice/.local/share/lychd',
  '/srv/my crypt',
  '/srv/with-dash/and-more',
  '/srv/ünïcødé/данные',
  '/srv/dots.in.name/x..y',
  '/.hidden/lychd',
  '/srv/.hidden',
  '/srv//double///slashes/',
  '/srv/./dot/',
  "/tmp/x/$(touch x);'\"",
  '/srv/a%b/c\\d',
  '/srv/tab\there',
  '/srv/colon:under_score',
];

describe('unitNameForPath', () => {
  it('names common paths', () => {
    expect(unitNameForPath('/home/alice/.local/share/lychd')).toBe('home-alice-.local-share-lychd.mount');
    expect(unitNameForPath('/srv/my crypt')).toBe('srv-my\\x20crypt.mount');
    expect(unitNameForPath('/srv/with-dash')).toBe('srv-with\\x2ddash.mount');
    expect(unitNameForPath('/.hidden')).toBe('\\x2ehidden.mount');
    expect(unitNameForPath('/')).toBe('-.mount');
  });
  it('refuses relative and unnormalized paths', () => {
    expect(() => unitNameForPath('srv/x')).toThrow();
    expect(() => unitNameForPath('/srv/../x')).toThrow();
  });
  it.skipIf(toolSkipReason('systemd-escape'))('matches systemd-escape --path --suffix=mount', () => {
    for (const p of tricky) {
      const ref = execFileSync('systemd-escape', ['--path', '--suffix=mount', '--', p], { encoding: 'utf8' }).trim();
      expect(unitNameForPath(p), p).toBe(ref);
    }
  });
});

const image: MountSpec = { what: '/var/lib/lychd/crypt.img', where: '/home/alice/.local/share/lychd', type: 'btrfs', options: ['loop', 'noatime', 'compress=zstd:1'] };
const part: MountSpec = { what: 'UUID=0f3c5a2e-6a55-4f7e-9d3c-1a2b3c4d5e6f', where: '/srv/my crypt', type: 'btrfs', options: ['noatime'] };

describe('renderFstabLine / parseFstab', () => {
  it('renders an image line with the tag, dump 0, passno 0', () => {
    expect(renderFstabLine(image)).toBe(
      '/var/lib/lychd/crypt.img /home/alice/.local/share/lychd btrfs loop,noatime,compress=zstd:1,x-lychd-crypt 0 0',
    );
  });
  it('escapes blanks, tabs, backslashes and # as octal', () => {
    expect(renderFstabLine(part)).toBe('UUID=0f3c5a2e-6a55-4f7e-9d3c-1a2b3c4d5e6f /srv/my\\040crypt btrfs noatime,x-lychd-crypt 0 0');
    const weird: MountSpec = { what: '/img/a\\b#c', where: '/srv/t\tn', type: 'btrfs', options: ['loop'] };
    expect(renderFstabLine(weird)).toBe('/img/a\\134b\\043c /srv/t\\011n btrfs loop,x-lychd-crypt 0 0');
  });
  it('round-trips through parseFstab', () => {
    for (const where of tricky.filter((p) => p !== '/')) {
      const spec: MountSpec = { ...image, where };
      const [e] = parseFstab(`# comment\n\n${renderFstabLine(spec)}\n`);
      expect(e).toEqual({ line: 3, what: image.what, where, type: 'btrfs', options: [...image.options, 'x-lychd-crypt'], freq: 0, passno: 0 });
    }
  });
  it('parses foreign lines with defaults', () => {
    expect(parseFstab('proc /proc proc\n  /dev/sda1\t/ ext4 errors=remount-ro 0 1')).toEqual([
      { line: 1, what: 'proc', where: '/proc', type: 'proc', options: ['defaults'], freq: 0, passno: 0 },
      { line: 2, what: '/dev/sda1', where: '/', type: 'ext4', options: ['errors=remount-ro'], freq: 0, passno: 1 },
    ]);
  });
  it('upserts: appends once, then replaces only our tagged line', () => {
    const base = '# /etc/fstab\n/dev/sda1 / ext4 defaults 0 1\n';
    const once = upsertFstabLine(base, image);
    expect(once).toBe(`${base}${renderFstabLine(image)}\n`);
    expect(upsertFstabLine(once, image)).toBe(once);
    const changed = upsertFstabLine(once, { ...image, options: ['loop'] });
    expect(changed).toBe(`${base}/var/lib/lychd/crypt.img /home/alice/.local/share/lychd btrfs loop,x-lychd-crypt 0 0\n`);
    expect(upsertFstabLine('', image)).toBe(`${renderFstabLine(image)}\n`);
    expect(upsertFstabLine('/dev/sda1 / ext4 defaults 0 1', image)).toBe(`/dev/sda1 / ext4 defaults 0 1\n${renderFstabLine(image)}\n`);
  });
});

describe('renderMountUnit', () => {
  it('renders a loop image unit', () => {
    expect(renderMountUnit(image)).toBe(
      [
        '[Unit]',
        'Description=LychD crypt (Btrfs) at /home/alice/.local/share/lychd',
        'Documentation=man:systemd.mount(5)',
        'RequiresMountsFor=/var/lib/lychd',
        '',
        '[Mount]',
        'What=/var/lib/lychd/crypt.img',
        'Where=/home/alice/.local/share/lychd',
        'Type=btrfs',
        'Options=loop,noatime,compress=zstd:1',
        '',
        '[Install]',
        'WantedBy=local-fs.target',
        '',
      ].join('\n'),
    );
  });
  it('renders a partition unit and doubles %', () => {
    const text = renderMountUnit({ ...part, where: '/srv/100%' });
    expect(text).toContain('What=UUID=0f3c5a2e-6a55-4f7e-9d3c-1a2b3c4d5e6f\nWhere=/srv/100%%\n');
    expect(text).not.toContain('RequiresMountsFor');
  });
  it('refuses a newline in a path', () => {
    expect(() => renderMountUnit({ ...part, where: '/srv/a\nb' })).toThrow(/newline/);
    expect(() => renderMountUnit({ ...part, where: '/srv/a ' })).toThrow(/blanks/);
  });
  it('quotes RequiresMountsFor= (a whitespace-separated list)', () => {
    expect(renderMountUnit({ ...image, what: '/srv/my img/x.img' })).toContain('RequiresMountsFor="/srv/my img"\n');
    expect(renderMountUnit({ ...image, what: '/srv/a"b\\c/x.img' })).toContain('RequiresMountsFor="/srv/a\\"b\\\\c"\n');
  });
  it.skipIf(toolSkipReason('systemd-analyze'))('passes systemd-analyze verify with no output, for tricky paths', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-unit-'));
    try {
      for (const rel of ['crypt', 'my crypt', "$(touch x);'\"", 'a%b-ä', '.dot', 'back\\slash']) {
        const where = path.join(dir, rel);
        mkdirSync(where, { recursive: true });
        for (const spec of [{ ...image, where, what: path.join(dir, 'img file') }, { ...part, where }]) {
          const file = path.join(dir, unitNameForPath(where));
          writeFileSync(file, renderMountUnit(spec));
          const out = execFileSync('systemd-analyze', ['verify', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
          expect(out, rel).toBe('');
          rmSync(file);
        }
      }
      expect(() => execFileSync('ls', [path.join(dir, 'x')], { stdio: 'ignore' })).toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('findmnt --verify', () => {
  it.skipIf(toolSkipReason('findmnt'))('accepts the fstab line', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-fstab-'));
    try {
      const where = path.join(dir, 'my crypt');
      mkdirSync(where);
      const img = path.join(dir, 'crypt.img');
      writeFileSync(img, '');
      const tab = path.join(dir, 'fstab');
      writeFileSync(tab, `${renderFstabLine({ ...image, what: img, where })}\n`);
      // findmnt always warns that a loop source is a regular file; errors are what matter.
      const r = spawnSync('findmnt', ['--verify', '--tab-file', tab], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/^0 parse errors, 0 errors/m);
      expect(r.stdout).toContain(where);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const config = (over: Partial<Config>): Config => ({
  version: 1,
  crypt: { name: 'alice', path: '/home/alice/.local/share/lychd', user: 'alice', uid: 1000, gid: 1000, home: '/home/alice' },
  profile: 'system',
  registry: { dir: '/etc/lychd-crypt', state: '/var/lib/lychd-crypt' },
  method: 'loopback',
  loopback: { image: '/var/lib/lychd/crypt.img', sizeBytes: 20 * 2 ** 30 },
  partition: null,
  filesystem: { label: 'lychd', mountOptions: ['noatime', 'compress=zstd:1'] },
  persist: { via: 'systemd', fstab: '/etc/fstab', unitDir: '/etc/systemd/system' },
  install: { binDir: '/usr/local/bin' },
  postgres: null,
  ...over,
});

describe('mountSpecFor / mountRecordFor', () => {
  it('loopback: the image with loop first', () => {
    expect(mountSpecFor(config({}))).toEqual(image);
  });
  it('partition: by UUID', () => {
    const c = config({ method: 'partition', loopback: null, partition: { device: '/dev/sdb1', wipe: true, uuid: 'abc' } });
    expect(mountSpecFor(c)).toEqual({ what: 'UUID=abc', where: c.crypt.path, type: 'btrfs', options: ['noatime', 'compress=zstd:1'] });
    expect(mountRecordFor(c)).toMatchObject({ method: 'partition', device: '/dev/sdb1', image: null, persist: { via: 'systemd', file: '/etc/systemd/system/home-alice-.local-share-lychd.mount' } });
  });
  it('native: nothing to mount', () => {
    expect(mountSpecFor(config({ method: 'native', loopback: null }))).toBeNull();
    expect(mountRecordFor(config({ method: 'native', loopback: null }))).toBeNull();
  });
  it('records where fstab persistence lives', () => {
    const r = mountRecordFor(config({ persist: { via: 'fstab', fstab: '/etc/fstab', unitDir: '/etc/systemd/system' } }));
    expect(r?.persist).toEqual({ via: 'fstab', file: '/etc/fstab', unit: null });
  });
});
