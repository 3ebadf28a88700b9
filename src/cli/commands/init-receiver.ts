// `lychd-crypt init --receiver DIR --authorize KEY [--pull | --pull-only] [--bin PATH] [--print] [--dry-run]
// [--yes]`: the target side of off-host copies (docs/replicate.md). Makes DIR and installs the sending host's
// key in root's authorized_keys with the forced command `lychd-crypt receive --dir DIR`, restricted; --print
// prints that line and changes nothing. No crypt is needed on this host.
import { RefusedError, UsageError } from '../../base/errors.js';
import { resolveCommand } from '../../base/command-path.js';
import { lookupUser } from '../../base/user.js';
import { INIT_STEPS, lineReporter, stepActions } from '../../install/steps/index.js';
import { probeSteps, runSteps } from '../../install/steps/engine.js';
import { forcedCommandPathProblem, parsePublicKey, renderAuthorizedKey, type ReceiverMode } from '../../install/render/authorized-key.js';
import { receiverSteps } from '../../install/plan/receiver.js';
import type { CommandContext, CommandOutput } from '../frame/context.js';

export async function runInitReceiver(opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  for (const other of ['answers', 'defaults', 'writeAnswers'] as const) {
    if (opts[other] !== undefined) throw new UsageError(`--receiver makes this host a target; it takes no --${other.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  }
  const dir = String(opts.receiver);
  const dirProblem = forcedCommandPathProblem(dir);
  if (dirProblem) throw new UsageError(`--receiver ${dirProblem}`);
  if (typeof opts.authorize !== 'string') {
    throw new UsageError('--receiver needs --authorize "ssh-ed25519 AAAA… comment": the sending host\'s public key (its .pub file)', { hint: 'On the sending host: cat /etc/lychd-crypt/replicate/CRYPT/TARGET.key.pub.' });
  }
  const key = parsePublicKey(opts.authorize);
  if ('problem' in key) throw new UsageError(`--authorize: ${key.problem}`);
  if (opts.pull && opts.pullOnly) throw new UsageError('--pull and --pull-only exclude each other');
  const mode: ReceiverMode = opts.pullOnly ? 'pull-only' : opts.pull ? 'pull' : 'push';
  const bin = typeof opts.bin === 'string' ? opts.bin : resolveCommand('lychd-crypt', ctx.env);
  if (!bin) throw new UsageError('lychd-crypt is not on PATH here: the forced command needs its absolute path', { hint: 'Pass --bin /path/to/lychd-crypt.' });
  const binProblem = forcedCommandPathProblem(bin);
  if (binProblem) throw new UsageError(`--bin ${binProblem}`);
  if (opts.print) {
    const line = renderAuthorizedKey({ bin, dir, mode, key });
    return { json: { ok: true, line }, human: line };
  }

  const root = await lookupUser(ctx.runner, 0);
  const steps = receiverSteps({ dir, bin, mode, key, rootHome: root.home });
  if (opts.dryRun) {
    const probes = await probeSteps(steps, INIT_STEPS, { runner: ctx.runner });
    const described = steps.map((s, i) => ({ ...stepActions(s), probe: probes[i]! }));
    return {
      json: { ok: true, dryRun: true, steps: described },
      human: [
        `Plan: make ${dir} receive copies sent with the key ${key.comment || key.type} (${mode})`,
        ...described.map((d, i) => `${i + 1}. ${d.title}  [${d.probe.status === 'satisfied' ? `already so: ${d.probe.detail}` : `would change${d.probe.detail ? `: ${d.probe.detail}` : ''}`}]\n${[...d.commands.map((c) => `     $ ${c.join(' ')}`), ...d.ops.map((o) => `     - ${o}`)].join('\n')}`),
        '(dry run: nothing was changed)',
      ].join('\n'),
    };
  }
  if (process.getuid?.() !== 0) throw new RefusedError('init --receiver is root\'s (btrfs receive runs as root; the key goes into root\'s authorized_keys)', { hint: 'Run it with sudo.' });
  if (!opts.yes) throw new UsageError('init needs consent to apply the plan', { hint: 'Review it with --dry-run, then pass --yes.' });
  const result = await runSteps(steps, INIT_STEPS, { runner: ctx.runner }, {
    fault: 'init',
    reporter: lineReporter((l) => ctx.log.info(l)),
    afterFailure: () => 'What was done stays; fix the cause and run the same command again.',
  });
  const head = result.changed === 0 ? `nothing to do: ${dir} already receives the copies sent with this key` : `${dir} receives the copies sent with this key (${mode})`;
  return {
    json: { ok: true, dir, mode, changed: result.changed, steps: result.steps },
    human: [head, 'next, on the sending host: lychd-crypt replicate --target NAME --trust-host'].join('\n'),
  };
}
