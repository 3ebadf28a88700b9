// doctor and repair against real units, under a real systemd (test/helpers/systemd.ts): a disabled unit,
// a unit whose What= no longer matches, and a failed mount are each named by doctor, and repair heals
// them through systemd (enable, rewrite + daemon-reload, reset-failed + start).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderMountUnit } from '../../src/install/render/index.js';
import { skipReason } from '../helpers/env.js';
import { makeUser, sh } from '../helpers/host.js';
import { buildCli, writeAnswers } from '../helpers/init.js';
import { fileScratch } from '../helpers/suite.js';
import { bootSystemd, type Container } from '../helpers/systemd.js';
import { cliIn, mountIn, unitProps } from '../helpers/systemd-cli.js';

const skip = skipReason('root', 'systemd', 'btrfs', 'loop');

interface CheckJson {
  id: string;
  status: string;
  finding: string;
}

describe.skipIf(skip)(`doctor and repair against real units ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const shared = fileScratch(120_000);
  let box: Container;
  let bundle: string;
  let crypt: string;
  let image: string;
  let unit: string;
  let unitFile: string;
  const run = (...args: string[]) => cliIn(box, bundle, ['--crypt', crypt, '--json', ...args]);
  const problems = async (): Promise<CheckJson[]> => {
    const d = await run('doctor');
    expect(d.json, d.stderr).toBeDefined();
    return (d.json.checks as CheckJson[]).filter((c) => c.status !== 'ok' && c.status !== 'cannot-check' && c.status !== 'skipped');
  };
  const healthy = async () => {
    const d = await run('doctor');
    expect(d.code, JSON.stringify(d.json?.checks?.filter((c: CheckJson) => c.status !== 'ok'))).toBe(0);
  };

  beforeAll(async () => {
    bundle = buildCli(shared.scratch);
    const user = makeUser(shared.scratch);
    box = await bootSystemd({ scratch: shared.scratch });
    crypt = shared.scratch.path('crypt');
    image = shared.scratch.path('img/crypt.img');
    unit = sh(['systemd-escape', '--path', '--suffix=mount', crypt]).trim();
    unitFile = shared.scratch.path('etc/systemd/system', unit);
    const answers = writeAnswers(shared.scratch, { crypt: { path: crypt, user: user.name }, method: 'loopback', loopback: { image, size: '256M' }, persist: { via: 'systemd' } });
    const r = await cliIn(box, bundle, ['init', '--answers', answers, '--yes', '--json']);
    expect(r.code, r.stderr).toBe(0);
    await healthy();
  }, 180_000);

  it('a disabled unit: doctor names it, repair enables it again', async () => {
    expect((await box.systemctl('disable', unit)).code).toBe(0);
    const found = await problems();
    expect(found.map((c) => c.id)).toEqual(['persist.unit']);
    expect(found[0]!.finding).toMatch(new RegExp(`${unit.replace(/\\/g, '\\\\')} is not enabled`));
    const r = await run('repair', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect((await box.systemctl('is-enabled', unit)).stdout.trim()).toBe('enabled');
    await healthy();
  }, 120_000);

  it('a unit whose What= no longer matches: doctor names it, repair rewrites it and reloads systemd', async () => {
    const good = readFileSync(unitFile, 'utf8');
    writeFileSync(unitFile, good.replace(`What=${image}`, `What=${shared.scratch.path('img/other.img')}`));
    await box.systemctl('daemon-reload');
    const found = await problems();
    expect(found.map((c) => c.id)).toEqual(['persist.unit']);
    expect(found[0]!.finding).toMatch(/differs from the configured mount/);
    const r = await run('repair', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(unitFile, 'utf8')).toBe(good);
    expect(good).toBe(renderMountUnit({ what: image, where: crypt, type: 'btrfs', options: ['loop', 'noatime', 'compress=zstd:1'] }));
    expect(await unitProps(box, unit, ['NeedDaemonReload', 'ActiveState'])).toEqual({ NeedDaemonReload: 'no', ActiveState: 'active' });
    await healthy();
  }, 120_000);

  it('a failed mount: doctor names the failed unit, repair mounts the crypt through it', async () => {
    expect((await box.systemctl('stop', unit)).code).toBe(0);
    // The image missing at the moment of the start makes the mount fail; it is back before doctor runs.
    const aside = `${image}.aside`;
    renameSync(image, aside);
    expect((await box.systemctl('start', unit)).code).not.toBe(0);
    renameSync(aside, image);
    expect((await unitProps(box, unit, ['ActiveState'])).ActiveState).toBe('failed');

    const found = await problems();
    const mounted = found.find((c) => c.id === 'mount.mounted');
    expect(mounted?.finding).toMatch(new RegExp(`not mounted at ${crypt}; .* is failed \\(`));
    const r = await run('repair', '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.stringify(r.json)).toMatch(/through .*systemctl start/);
    expect(JSON.stringify(r.json)).toContain('started ');
    expect(JSON.stringify(r.json)).not.toContain('mounted directly');
    expect((await box.systemctl('is-active', unit)).stdout.trim()).toBe('active');
    expect(await mountIn(box, crypt)).toMatchObject({ fstype: 'btrfs' });
    expect((await box.exec(['test', '-d', path.join(crypt, 'active/postgres')])).code).toBe(0);
    await healthy();
  }, 120_000);
});
