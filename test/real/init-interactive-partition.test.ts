// Method A through the interactive installer: a device holding data is only formatted after the user
// types its path AND says yes to a plan whose confirmation defaults to No. Declining at either step,
// or Ctrl-C, leaves the device untouched.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { makeLoopDevice, sh } from '../helpers/host.js';
import { fstypeAt } from '../helpers/init.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';
import { openTerminal, plainTerminalEnv, type Terminal } from '../helpers/tmux.js';

const skip = skipReason('root', 'btrfs', 'loop', 'tmux');


/** What blkid says the device holds ("ext4 precious"). */
function holds(dev: string): string {
  const r = sh(['blkid', '-p', '-o', 'export', dev]);
  const v = (k: string) => new RegExp(`^${k}=(.*)$`, 'm').exec(r)?.[1] ?? '';
  return `${v('TYPE')} ${v('LABEL')}`.trim();
}

describe.skipIf(skip)(`interactive init on a partition ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  let scratch: Scratch;

  /** Answers the questions of a partition install up to (not including) the typed confirmation. */
  async function answerPartition(t: Terminal, crypt: string, dev: string): Promise<void> {
    await t.waitFor(/◆ {2}Where should the crypt live\?/);
    t.type(crypt);
    t.keys('Enter');
    await t.waitFor(/◆ {2}How should the crypt get its Btrfs filesystem\?/);
    await t.choose('dedicated partition');
    // Other partitions on this machine may be offered first: the loop device is "another device".
    const s = await t.waitFor(/◆ {2}(Which partition should hold the crypt\?|Device to format)/);
    if (/◆ {2}Which partition/.test(s)) {
      await t.choose('another device…');
      await t.waitFor(/◆ {2}Device to format/);
    }
    t.type(dev);
    t.keys('Enter');
    await t.waitFor(/◆ {2}How should the mount be made permanent\?/);
    await t.choose('line in fstab');
    await t.waitFor(/◆ {2}Will the crypt hold a PostgreSQL data directory/);
    t.type('n');
    t.keys('Enter'); // a yes/no question waits for Enter
  }

  it('declining, Ctrl-C at the typed confirmation, and a No to the plan leave the device untouched; typing its path and yes format it', async () => {
    scratch = await suite.scratch();
    const dev = makeLoopDevice(scratch, 300);
    sh(['mkfs.ext4', '-q', '-L', 'precious', dev]);
    const crypt = scratch.path('crypt');
    const defaults = scratch.path('defaults.yaml');
    writeFileSync(defaults, stringify({ version: 1, persist: { fstab: scratch.path('etc/fstab'), unitDir: scratch.path('etc/units') }, install: { binDir: scratch.path('bin') } }));
    const run = (extra: string[] = []) => openTerminal(scratch, ['node', suite.bundle, 'init', '--defaults', defaults, ...extra], plainTerminalEnv());
    const typed = new RegExp(`◆ {2}${dev} holds ext4, label precious\\. Formatting ERASES it\\. Type the device path`);
    const untouched = () => {
      expect(holds(dev)).toBe('ext4 precious');
      expect(existsSync(crypt)).toBe(false);
      expect(existsSync(scratch.path('etc'))).toBe(false);
    };

    // 1. Enter at the typed confirmation declines: back to the questions; then Ctrl-C.
    let t = run();
    await answerPartition(t, crypt, dev);
    await t.waitFor(typed);
    t.keys('Enter');
    await t.waitFor(/left as it is; choose another device or method/);
    // Back to the questions, from the first, pre-filled.
    await t.waitFor(/◆ {2}Where should the crypt live\?/);
    t.keys('C-c');
    expect(await t.exitCode()).toBe(130);
    untouched();

    // 2. Ctrl-C at the typed confirmation.
    t = run();
    await answerPartition(t, crypt, dev);
    await t.waitFor(typed);
    t.keys('C-c');
    expect(await t.exitCode()).toBe(130);
    expect(t.history()).toContain('cancelled, nothing was changed');
    untouched();

    // 3. The path typed, but the plan's confirmation defaults to No: Enter declines.
    t = run();
    await answerPartition(t, crypt, dev);
    await t.waitFor(typed);
    t.type(dev);
    t.keys('Enter');
    await t.waitFor(new RegExp(`◆ {2}Apply this plan\\? It FORMATS ${dev}, erasing ext4, label precious[^◆]*● Cancel`));
    t.keys('Enter');
    expect(await t.exitCode()).toBe(130);
    untouched();

    // 4. The path typed and yes: formatted, mounted, and the written answers carry the consent.
    const written = scratch.path('written.yaml');
    t = run(['--write-answers', written]);
    await answerPartition(t, crypt, dev);
    await t.waitFor(typed);
    t.type(dev);
    t.keys('Enter');
    await t.waitFor(/◆ {2}Apply this plan\? It FORMATS/);
    await t.choose('Apply');
    expect(await t.exitCode()).toBe(0);
    expect(holds(dev)).toBe('btrfs lychd');
    expect(fstypeAt(crypt)).toBe('btrfs');
    expect(readFileSync(written, 'utf8')).toMatch(/partition:\n {2}device: \S+\n {2}wipe: true/);
  });
});
