// Root's replication units under a real systemd (test/helpers/systemd.ts), for a rootless crypt: the units
// init renders (service with its hardening, timer, .path unit) are loaded as they are; the owner's request —
// `lychd-crypt replicate` run as the owner, no sudo — starts root's service through the .path unit, which
// sends the owner's snapshot; the owner then lists it.
import { chmod, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { buildCli } from '../helpers/init.js';
import { makeScratch, type Scratch } from '../helpers/scratch.js';
import { bootSystemd, type Container } from '../helpers/systemd.js';
import { unitProps } from '../helpers/systemd-cli.js';
import { cliAs } from '../helpers/as-user.js';
import { makeUser, mountScratchFs, type TestUser } from '../helpers/host.js';
import { makeCryptFixture, reconfigure, type CryptFixture } from '../helpers/crypt-fixture.js';
import { pathTarget } from '../helpers/replica.js';
import { installRuntime } from '../../src/install/steps/install-runtime.js';
import { scheduleSteps } from '../../src/install/plan/schedule.js';
import { pathUnitName, serviceName } from '../../src/install/render/schedule-names.js';
import type { Step } from '../../src/model/steps.js';

const skip = skipReason('root', 'systemd', 'btrfs', 'loop');

describe.skipIf(skip)(`replication units under systemd ${skip ? `(skipped: ${skip})` : ''}`, () => {
  let scratch: Scratch;
  let box: Container;
  let bundle: string;
  let owner: TestUser;
  let fx: CryptFixture;
  let dir: string;
  const asOwner = (args: string[]) => cliAs(owner, bundle, ['--crypt', fx.root, ...args]);

  beforeAll(async () => {
    scratch = await makeScratch();
    owner = makeUser(scratch);
    fx = await makeCryptFixture(scratch, { owner, rootless: true, postgres: false, sizeMiB: 300, root: path.join(owner.home, '.local/share/lychd') });
    const disk = scratch.path('disk');
    await mountScratchFs(scratch, 'btrfs', disk, 300);
    dir = path.join(disk, 'lychd', owner.name);
    // The admin's part (docs/replicate.md): the target's parent exists; the run makes DIR itself.
    await mkdir(path.dirname(dir));
    await reconfigure(fx, { ...fx.config, replicate: { schedule: 'after-snapshot', targets: [pathTarget(dir)] } });
    // What init makes for a rootless crypt with replicate: (src/install/plan/common.ts stateSteps): root's state of it.
    await mkdir(path.join(fx.config.registry.state, fx.config.crypt.name), { recursive: true, mode: 0o755 });
    bundle = buildCli(scratch);
    await chmod(path.dirname(bundle), 0o755);
    await installRuntime({ kind: 'install-runtime', source: bundle, target: path.join(fx.config.install.binDir, 'lychd-crypt'), mode: 0o755 });
    box = await bootSystemd({ scratch });
  }, 240_000);
  afterAll(async () => {
    await scratch?.cleanup();
  }, 120_000);

  it('the owner\'s request starts root\'s service through the .path unit; it sends; the owner lists the copy', async () => {
    const units = scheduleSteps({ systemdRunning: true, scheduleUnits: [], userScheduleUnits: [] }, fx.config, []).filter(
      (s): s is Extract<Step, { kind: 'write-unit' }> => s.kind === 'write-unit' && !('user' in s),
    );
    const service = serviceName('replicate', fx.root);
    const pathUnit = pathUnitName('replicate', fx.root);
    expect(units.map((u) => u.unit).sort()).toEqual([pathUnit, service, service.replace(/\.service$/, '.timer')].sort());
    for (const u of units) await box.writeFile(path.join('/etc/systemd/system', u.unit), u.content);
    // The test's registry (a scratch path) instead of /etc/lychd-crypt: the one thing added to the rendered units.
    await box.writeFile(`/etc/systemd/system/${service}.d/test.conf`, `[Service]\nEnvironment=LYCHD_CRYPT_REGISTRY=${process.env.LYCHD_CRYPT_REGISTRY}\nEnvironment=LYCHD_CRYPT_STATE=${process.env.LYCHD_CRYPT_STATE}\nEnvironment=LYCHD_CRYPT_COMPILE_CACHE=0\n`);
    await box.systemctl('daemon-reload');
    const enabled = await box.systemctl('enable', '--now', pathUnit);
    expect(enabled.code, enabled.stderr).toBe(0);

    const snap = await asOwner(['--json', 'snapshot']);
    expect(snap.code, snap.stderr).toBe(0);
    const name: string = snap.json.snapshot.name;
    const ask = await asOwner(['--json', 'replicate']);
    expect(ask.code, ask.stderr).toBe(0);

    await box.waitFor('root\'s replication service to send', async () => (await readdir(dir).catch(() => [] as string[])).includes(`${name}.json`), 20_000).catch(async (e) => {
      console.log((await box.exec(['systemctl', 'status', '--no-pager', pathUnit, service])).stdout, (await box.exec(['journalctl', '--no-pager', '-n', '60', '-u', service])).stdout);
      throw e;
    });
    await box.waitFor('the service to end', async () => (await unitProps(box, service, ['ActiveState'])).ActiveState === 'inactive', 30_000);
    const props = await unitProps(box, service, ['Result', 'ExecMainStatus', 'NRestarts']);
    if (props.Result !== 'success') console.log((await box.exec(['journalctl', '-u', service, '--no-pager'])).stdout);
    expect(props).toMatchObject({ Result: 'success', ExecMainStatus: '0' });

    const list = await asOwner(['--json', 'replicate', '--list']);
    expect(list.code, list.stderr).toBe(0);
    expect(list.json.targets.disk).toMatchObject({ ok: true, newest: { name }, copies: 1 });
  });
});
