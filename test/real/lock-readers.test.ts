// Readers see an operation in progress: while another process holds the crypt lock, doctor says the
// journalled snapshot is "in progress" (not interrupted) and does not call its half-made subvolume a
// leftover, and list does not call it incomplete. Once the holder is gone, the same state is reported as
// interrupted. --wait that expires says it waited.
import { describe, expect, test } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { sh } from '../helpers/host.js';
import { makeCryptFixture } from '../helpers/crypt-fixture.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { cli } from '../helpers/snap.js';
import { writeJournal } from '../../src/base/crypt/journal.js';

const scratches = scratchSuite();
let scratch: Scratch | undefined;

const skip = skipReason('root', 'btrfs', 'loop');
const check = (r: { json: any }, id: string) => r.json.checks.find((c: { id: string }) => c.id === id);

/** Holds an exclusive flock on `file` (util-linux flock) until killed; resolves once it holds it. */
async function holdLock(file: string): Promise<ChildProcess> {
  // Its own process group: the sleep inherits the locked descriptor, so the whole group must go.
  const child = spawn('flock', ['--exclusive', file, 'sh', '-c', 'echo held; exec sleep 300'], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('error', reject);
  });
  return child;
}

describe.skipIf(skip)(`readers and the crypt lock ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('a snapshot in progress is "in progress" for doctor and list; after its holder dies, interrupted', async () => {
    scratch = await scratches.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const name = '20260101T000000Z-being-taken';
    sh(['btrfs', 'subvolume', 'snapshot', '-r', fx.paths.active, path.join(fx.paths.snapshots, name)]);
    await writeJournal(fx.paths, { op: 'snapshot', id: 'x1', startedAt: new Date().toISOString(), name, phase: 'started' });
    await stat(fx.paths.state); // the state dir exists
    const holder = await holdLock(fx.paths.lock);
    const release = async () => {
      if (holder.exitCode !== null || holder.signalCode !== null) return;
      const gone = new Promise((r) => holder.once('exit', r));
      process.kill(-holder.pid!, 'SIGKILL');
      await gone;
    };
    scratch.defer(release);
    try {
      const doctor = await cli(fx.root, ['--json', 'doctor']);
      const pending = check(doctor, 'journal.pending');
      expect(pending.status, pending.finding).toBe('ok');
      expect(pending.finding).toMatch(/in progress \(pid \d+ holds the lock\)/);
      expect(check(doctor, 'snapshots.incomplete')).toBeUndefined();
      const list = await cli(fx.root, ['list']);
      expect(list.code).toBe(0);
      expect(list.stderr).toMatch(/in progress/);
      expect(list.stderr).not.toMatch(/incomplete|repair removes/);

      const busy = await cli(fx.root, ['--wait', '1', 'snapshot']);
      expect(busy.code).toBe(4);
      expect(busy.stderr).toMatch(/after waiting 1s/);
      expect(busy.stderr).not.toMatch(/pass --wait SECONDS/);
    } finally {
      await release();
    }
    const after = await cli(fx.root, ['--json', 'doctor']);
    expect(check(after, 'journal.pending').status).toBe('problem');
    expect(check(after, 'journal.pending').finding).toMatch(/interrupted snapshot/);
  });
});
