// Waiting for the crypt lock says who holds it: the operation, its PID and since when (written into the
// lock file by the holder), while waiting (a plain line on stderr off a terminal) and in the busy error.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { makeCryptFixture } from '../helpers/crypt-fixture.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { cli } from '../helpers/snap.js';

const skip = skipReason('root', 'btrfs', 'loop');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

describe.skipIf(skip)(`the lock wait names the holder ${skip ? `(skipped: ${skip})` : ''}`, () => {
  it('a held lock: "waiting … snapshot (PID n, since …) holds it", then exit 4 naming it; --json keeps stdout one envelope', async () => {
    scratch = await scratches.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    // Another holder, as a running `snapshot` would be: one process (sleep, after exec) keeps the flock(2)
    // lock on its fd 9, so killing it releases the lock and leaves nothing behind.
    writeFileSync(fx.paths.lock, JSON.stringify({ pid: 4242, operation: 'snapshot', since: '2026-11-30T01:02:03.000Z' }));
    const holder = spawn('sh', ['-c', 'exec 9<>"$1"; flock -x 9; exec sleep 30', 'sh', fx.paths.lock], { stdio: 'ignore' });
    scratch.defer(() => {
      holder.kill('SIGKILL');
    });
    await sleep(300);

    const r = await cli(fx.root, ['--wait', '2', 'snapshot', '--mode', 'none']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/waiting up to 2s for the crypt lock: snapshot \(PID 4242, since 2026-11-30 01:02:03Z\) holds it …/);
    expect(r.stderr).toMatch(/snapshot \(PID 4242, since 2026-11-30 01:02:03Z\) still holds the lock .* after waiting 2s/);

    const j = await cli(fx.root, ['--json', 'snapshot', '--mode', 'none']);
    expect(j.code).toBe(4);
    expect(j.envelope).toMatchObject({ version: 1, command: 'snapshot', ok: false, exit: 4, data: null, error: { code: 'busy' } });
    expect(j.envelope.error.message).toMatch(/snapshot \(PID 4242/);

    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    const free = await cli(fx.root, ['--json', 'snapshot', '--mode', 'none']);
    expect(free.code, free.stderr).toBe(0);
  }, 60_000);
});
