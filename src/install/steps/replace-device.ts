// replace-device: `btrfs replace start DEVID TO MNT` — Btrfs copies the device onto TO online (one pass,
// the filesystem UUID kept; `device add` + `remove` would relocate everything and can hit ENOSPC on a
// full filesystem), then uses TO in its place. A replace still running after our process died is waited
// for, never started twice; one that could not start for want of room is tried again (below).
import { realpath } from 'node:fs/promises';
import { readDevices } from '../../base/btrfs/devices.js';
import { CommandError, RefusedError } from '../../base/errors.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

// -B: the copy runs in this child (not a daemon it forks), watched by the status loop beside it; killed with
// us it goes on (nothing kills an orphan), and the next run waits for it.
const startArgv = (s: StepOf<'replace-device'>, force = false) => ['btrfs', 'replace', 'start', '-B', ...(s.force || force ? ['-f'] : []), String(s.devid), s.to, s.mountPoint];
type Ctx = Parameters<StepModule<StepOf<'replace-device'>>['apply']>[1];
const statusArgv = (s: StepOf<'replace-device'>) => ['btrfs', 'replace', 'status', '-1', s.mountPoint];

/** Whether devid is on `to` now (paths compared resolved: /dev/disk/by-id/… names the same device). */
async function onTarget(s: StepOf<'replace-device'>, ctx: Ctx): Promise<boolean> {
  const want = await realpath(s.to).catch(() => s.to);
  const dev = (await readDevices(ctx.runner, s.mountPoint)).find((d) => d.devid === s.devid);
  return !!dev && (await realpath(dev.path).catch(() => dev.path)) === want;
}

/** `btrfs replace status -1`: "Never started", "12.3% done, …", "Started on …, finished on …", "… canceled …". */
export function parseReplaceStatus(text: string): { state: 'never' | 'running' | 'finished' | 'canceled' | 'unknown'; percent: number | null } {
  const t = text.trim();
  const pct = /(\d+(?:\.\d+)?)% done/.exec(t);
  if (/never started/i.test(t)) return { state: 'never', percent: null };
  if (/finished/i.test(t)) return { state: 'finished', percent: 100 };
  if (/cancel/i.test(t)) return { state: 'canceled', percent: null };
  if (pct) return { state: 'running', percent: Number(pct[1]) };
  return { state: 'unknown', percent: null };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const START_ATTEMPTS = 3;

/**
 * One copy: `start` (-B: it returns when the copy has ended) with its progress polled beside it, or, with
 * no start, the replace already running waited for. 'enospc': it could not start (nothing changed).
 */
async function copy(s: StepOf<'replace-device'>, ctx: Ctx, start: string[] | null): Promise<'done' | 'enospc'> {
  let ended = false;
  const run = start ? ctx.runner.run(start).finally(() => (ended = true)) : null;
  const poll = (async () => {
    for (;;) {
      if (run && ended) return;
      const st = parseReplaceStatus((await ctx.runner.run(statusArgv(s), { allowFailure: true })).stdout);
      if (st.state === 'running') ctx.progress?.(`${st.percent}% copied onto ${s.to}`);
      else if (!run) return;
      await sleep(250);
    }
  })();
  try {
    await run;
  } catch (e) {
    await poll;
    if (e instanceof CommandError && /No space left on device/.test(e.stderr)) return 'enospc';
    throw e;
  }
  await poll;
  if (await onTarget(s, ctx)) return 'done';
  const text = (await ctx.runner.run(statusArgv(s), { allowFailure: true })).stdout.trim();
  throw new Error(`btrfs replace onto ${s.to} ended without moving the crypt (${text}); it stays on ${s.from}`);
}

export const replaceDevice: StepModule<StepOf<'replace-device'>> = {
  describe: (s) => seq(`copy the crypt's Btrfs from ${s.from} onto ${s.to} (btrfs replace, online; the same filesystem UUID)`, { run: startArgv(s) }, { run: statusArgv(s) }),
  async probe(s, ctx) {
    return (await onTarget(s, ctx)) ? satisfied(`Btrfs already uses ${s.to}`) : wouldChange();
  },
  async apply(s, ctx) {
    if (await onTarget(s, ctx)) return unchanged(`Btrfs already uses ${s.to}`);
    // A replace the kernel still runs (our process was killed) is waited for, never started twice.
    let running = parseReplaceStatus((await ctx.runner.run(statusArgv(s))).stdout).state === 'running';
    for (let attempt = 1; ; attempt++) {
      // A retry forces: what the device holds now is what the failed attempt wrote (it was checked before).
      const outcome = await copy(s, ctx, running ? null : startArgv(s, attempt > 1));
      if (outcome === 'done') return changed(attempt > 1 ? `after ${attempt} attempts` : undefined);
      // ENOSPC at the start: the kernel could not set a block group read-only for the copy ("scrub: failed
      // setting block group ro: -28"): that may need a new chunk, and a small filesystem may have no
      // unallocated room for one (measured: a 512 MiB crypt under pgbench, 41 MiB unallocated against DUP
      // metadata chunks of 2 × 51 MiB). Nothing changed; a moment later the writes may have moved on.
      if (attempt >= START_ATTEMPTS) {
        throw new RefusedError(`Btrfs at ${s.mountPoint} found no unallocated room to start the replace onto ${s.to} (ENOSPC, ${attempt} attempts); nothing was changed`, {
          hint: 'Grow the crypt a little first (`lychd-crypt resize --size +1G`: new unallocated room), or make room (`lychd-crypt prune`), then run it again.',
        });
      }
      running = false;
      await sleep(1000 * attempt);
    }
  },
};
