// The systemd test harness itself: a container boots to `running`, runs commands in its own namespaces,
// keeps its root's changes across a reboot, powers off cleanly and leaves nothing behind on the host.
import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { fileScratch } from '../helpers/suite.js';
import { bootSystemd, type Container } from '../helpers/systemd.js';

const skip = skipReason('root', 'systemd', 'loop');

describe.skipIf(skip)(`systemd test harness ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const shared = fileScratch(120_000);
  let box: Container;
  beforeAll(async () => {
    box = await bootSystemd({ scratch: shared.scratch });
  }, 120_000);

  it('boots systemd as PID 1 of its own namespaces, in container mode', async () => {
    expect((await box.exec(['cat', '/proc/1/comm'])).stdout.trim()).toBe('systemd');
    expect((await box.systemctl('is-system-running')).stdout.trim()).toBe('running');
    expect((await box.exec(['systemd-detect-virt', '--container'])).stdout.trim()).not.toBe('none');
    // The scratch directory is shared at the same path; the loop nodes exist.
    expect((await box.exec(['test', '-d', shared.scratch.dir])).code).toBe(0);
    expect((await box.exec(['test', '-c', '/dev/loop-control'])).code).toBe(0);
    expect((await box.exec(['test', '-b', '/dev/loop0'])).code).toBe(0);
  });

  it('keeps /etc changes across a reboot, never on the host', async () => {
    await box.writeFile('/etc/lychd-harness-probe', 'kept\n');
    expect(existsSync('/etc/lychd-harness-probe')).toBe(false);
    const before = box.pid;
    await box.reboot();
    expect(box.pid).not.toBe(before);
    expect((await box.exec(['cat', '/etc/lychd-harness-probe'])).stdout).toBe('kept\n');
    expect(readFileSync(`${box.upper}/etc/lychd-harness-probe`, 'utf8')).toBe('kept\n');
  }, 120_000);

  it('powers off cleanly; exec afterwards is an error', async () => {
    const pid = box.pid;
    await box.poweroff();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    await expect(box.exec(['true'])).rejects.toThrow(/powered off/);
    await box.reboot(); // powered off already: boots again
    expect((await box.systemctl('is-system-running')).stdout.trim()).toBe('running');
  }, 120_000);
});
