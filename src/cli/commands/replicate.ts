// `lychd-crypt replicate [--target NAME] [--dry-run] [--verify] [--list] [--trust-host --fingerprint FP]`:
// the off-host copies (docs/replicate.md). Root's, with root's own power on a rootless crypt too (btrfs send
// needs CAP_SYS_ADMIN); it runs under the crypt's lock and changes nothing on the crypt. A rootless crypt's
// owner lists what was replicated and asks root's service for a run (a request file its .path unit watches).
import { RefusedError, UsageError } from '../../base/errors.js';
import { withCrypt, type OpenCrypt } from '../../base/crypt/open.js';
import { mutateWithRootPower } from '../frame/root-power.js';
import { renderReplication, runReplication, selectTargets, type ReplicateOptions } from '../../runtime/replicate/replicate.js';
import { readReplication } from '../../runtime/replicate/record.js';
import { renderCopyList } from '../../runtime/replicate/status.js';
import { requestReplication } from '../../runtime/replicate/request-run.js';
import { trustHost } from '../../runtime/replicate/trust-host.js';
import { sshFiles } from '../../runtime/replicate/targets/index.js';
import { cryptRequest, type CommandContext, type CommandOutput } from '../frame/context.js';

const seconds = (v: unknown, flag: string, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} expects a whole number of seconds (1 or more), got "${String(v)}"`);
  return n;
};

function options(opts: Record<string, unknown>, ctx: CommandContext): ReplicateOptions {
  return {
    only: typeof opts.target === 'string' ? opts.target : undefined,
    dryRun: opts.dryRun === true,
    verify: opts.verify === true,
    aliveSeconds: seconds(opts.stallTimeout, '--stall-timeout', 60),
    waitSeconds: Math.max(ctx.globals.wait, 60),
    idleTimeoutMs: seconds(opts.stallTimeout, '--stall-timeout', 600) * 1000,
  };
}

async function asRoot(opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const o = options(opts, ctx);
  const act = async (crypt: OpenCrypt): Promise<CommandOutput> => {
    const r = await runReplication(crypt, ctx, o);
    return { json: r, human: renderReplication(r), exitCode: r.exitCode };
  };
  // A dry run changes nothing on the crypt: no lock.
  return o.dryRun ? withCrypt(ctx, cryptRequest(ctx), act, { rootPower: true }) : mutateWithRootPower(ctx, act);
}

export async function runReplicate(_args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  if (opts.fingerprint !== undefined && !opts.trustHost) throw new UsageError('--fingerprint goes with --trust-host');
  if (opts.list) {
    return withCrypt(ctx, cryptRequest(ctx), async (crypt) => {
      const rec = await readReplication(crypt.config);
      return { json: rec, human: renderCopyList(crypt.config, rec) };
    }, { rootPower: true, allowUnmounted: true });
  }
  if (opts.trustHost) {
    return withCrypt(ctx, cryptRequest(ctx), async (crypt) => {
      if (process.getuid?.() !== 0) throw new RefusedError('trusting a target\'s host key is root\'s (the key files are in the registry)', { hint: 'Run it with sudo.' });
      const t = selectTargets(crypt.config.replicate?.targets ?? [], typeof opts.target === 'string' ? opts.target : undefined)[0]!;
      if (!opts.target || t.url.kind !== 'ssh') throw new UsageError('--trust-host needs --target NAME of an ssh:// target');
      const files = sshFiles(t, crypt.config.registry.dir, crypt.config.crypt.name);
      const k = await trustHost(ctx.runner, t.url, files.knownHosts, typeof opts.fingerprint === 'string' ? opts.fingerprint : undefined);
      return { json: { ok: true, target: t.name, knownHosts: files.knownHosts, fingerprint: k.fingerprint, type: k.type }, human: `trusted ${k.type} ${k.fingerprint} for ${t.name}: written to ${files.knownHosts}` };
    }, { rootPower: true });
  }
  if (process.getuid?.() === 0) return asRoot(opts, ctx);
  // Not root: a rootless crypt's owner asks root's service (anyone else is refused while opening).
  return withCrypt(ctx, cryptRequest(ctx), async (crypt) => {
    if (crypt.config.profile !== 'rootless') throw new RefusedError('replicate needs root (btrfs send needs CAP_SYS_ADMIN)', { hint: 'Run it with sudo.' });
    if (opts.dryRun || opts.verify) throw new RefusedError('--dry-run and --verify are root\'s (they read the targets with root\'s key)', { hint: 'Ask root, or look at `lychd-crypt replicate --list`.' });
    const waitFor = opts.waitRun === undefined ? 0 : seconds(opts.waitRun, '--wait-run', 0);
    const r = await requestReplication(crypt, waitFor);
    return { json: r, human: r.human, exitCode: r.exitCode };
  });
}
