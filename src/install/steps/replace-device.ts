// replace-device: `btrfs replace start DEVID TO MNT` — Btrfs copies the device onto TO online (one pass,
// the filesystem UUID kept; `device add` + `remove` would relocate everything and can hit ENOSPC on a
// full filesystem), then uses TO in its place. The kernel runs it in the background: a replace still
// running after our process died is waited for, never started twice.
import { realpath } from 'node:fs/promises';
import { readDevices } from '../../base/btrfs/devices.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

// -B: the copy runs in this child (not a daemon it forks), watched by the status loop beside it; killed with
// us it goes on (nothing kills an orphan), and the next run waits for it.
const startArgv = (s: StepOf<'replace-device'>) => ['btrfs', 'replace', 'start', '-B', ...(s.force ? ['-f'] : []), String(s.devid), s.to, s.mountPoint];
const statusArgv = (s: StepOf<'replace-device'>) => ['btrfs', 'replace', 'status', '-1', s.mountPoint];

type Ctx = Parameters<StepModule<StepOf<'replace-device'>>['apply']>[1];

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

export const replaceDevice: StepModule<StepOf<'replace-device'>> = {
  describe: (s) => seq(`copy the crypt's Btrfs from ${s.from} onto ${s.to} (btrfs replace, online; the same filesystem UUID)`, { run: startArgv(s) }, { run: statusArgv(s) }),
  async probe(s, ctx) {
    return (await onTarget(s, ctx)) ? satisfied(`Btrfs already uses ${s.to}`) : wouldChange();
  },
  async apply(s, ctx) {
    if (await onTarget(s, ctx)) return unchanged(`Btrfs already uses ${s.to}`);
    let st = parseReplaceStatus((await ctx.runner.run(statusArgv(s))).stdout);
    // A replace the kernel still runs (our process was killed) is waited for; any other state starts one.
    let started: Promise<unknown> = Promise.resolve();
    let failed: unknown = null;
    if (st.state !== 'running') started = ctx.runner.run(startArgv(s)).catch((e: unknown) => (failed = e));
    for (;;) {
      if (failed) throw failed;
      const text = (await ctx.runner.run(statusArgv(s))).stdout;
      st = parseReplaceStatus(text);
      if (st.state === 'running') ctx.progress?.(`${st.percent}% copied onto ${s.to}`);
      if (st.state === 'finished' || (st.state !== 'running' && (await onTarget(s, ctx)))) break;
      if (st.state === 'canceled') throw new Error(`btrfs replace onto ${s.to} was canceled (${text.trim()}); the crypt stays on ${s.from}`);
      await sleep(250);
    }
    await started;
    if (failed) throw failed;
    if (!(await onTarget(s, ctx))) throw new Error(`btrfs replace finished but device ${s.devid} is not ${s.to}`);
    return changed();
  },
};
