// `lychd-crypt deinit [--dry-run] [--yes] [--delete-data]`: undo init for one crypt (SPEC section 11) —
// stop the database if it runs from the crypt, unmount, remove the fstab line or unit and the timers,
// unregister, remove its state; the image or partition and its data stay unless --delete-data. The plan goes
// through the step engine (--dry-run shows each step and whether it is already so); the registry entry is
// marked first, so an interrupted deinit is finished by the next command or repair. `init` with the same
// answers brings the crypt back (with its data, when it was kept).
import { RefusedError } from '../../base/errors.js';
import { selectEntry } from '../../base/crypt/select.js';
import { cryptPaths } from '../../base/crypt/paths.js';
import { readJournal } from '../../base/crypt/journal.js';
import { withLock } from '../../base/crypt/lock.js';
import { exists } from '../../base/sys/fs.js';
import { shellLine } from '../../base/output/text.js';
import { learnCrypt, retyped } from '../../base/output/hint.js';
import path from 'node:path';
import { probeSteps } from '../../install/steps/engine.js';
import { deletedData, detectDeinit, keptData, planDeinit } from '../../care/deinit.js';
import { DEINIT_STEPS, deinitStepActions } from '../../care/steps/index.js';
import { describeDeinit } from '../../care/render-deinit.js';
import { applyDeinit } from '../frame/deinit.js';
import { cryptRequest, type CommandContext, type CommandOutput } from '../frame/context.js';

export interface DeinitOptions {
  dryRun?: boolean;
  yes?: boolean;
  deleteData?: boolean;
}

export async function runDeinit(_args: string[], opts: DeinitOptions & Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const entry = await selectEntry(ctx, cryptRequest(ctx));
  const c = entry.config;
  // The printed commands (the sudo line, the hints) name this crypt and its installed command.
  learnCrypt({ cryptName: entry.name, installed: path.join(c.install.binDir, 'lychd-crypt') });
  const finishing = Boolean(entry.deinit);
  const deleteData = Boolean(opts.deleteData || entry.deinit?.deleteData);
  const root = process.getuid?.() === 0;
  if (!opts.dryRun && !root) {
    throw new RefusedError(`deinit changes root's files (the registry entry, the persisted mount, the units) and unmounts the crypt "${c.crypt.name}": it needs root; nothing was changed`, {
      hint: `Run: sudo ${shellLine(['lychd-crypt', ...retyped(ctx.argv)])}`,
    });
  }
  const steps = planDeinit(entry, await detectDeinit(ctx.runner, entry), { deleteData });
  const actions = steps.map(deinitStepActions);
  const kept = keptData(c, deleteData);
  const view = { crypt: { name: c.crypt.name, path: c.crypt.path }, steps, actions, kept, finishing };

  if (opts.dryRun) {
    const probes = await probeSteps(steps, DEINIT_STEPS, { runner: ctx.runner });
    // The mount record lies underneath the mount: while mounted, what the probe sees is the crypt's own root.
    const unmounting = steps.findIndex((s) => s.kind === 'unmount');
    steps.forEach((s, i) => {
      if (s.kind === 'remove-file' && unmounting >= 0 && probes[unmounting]?.status === 'would-change') probes[i] = { status: 'would-change', detail: 'underneath the mount: removed once it is unmounted, if it is there' };
    });
    return {
      json: { ok: true, dryRun: true, crypt: view.crypt, finishing, deleteData, steps: steps.map((s, i) => ({ ...s, actions: actions[i], probe: probes[i] })), kept },
      human: `${describeDeinit({ ...view, probes })}\n(dry run: nothing was changed)`,
    };
  }

  // An operation left unfinished on the crypt (its journal) is finished or undone by repair first: deinit
  // does not unmount a crypt in the middle of a rollback.
  const paths = cryptPaths(c.crypt.path, entry.stateDir);
  if (!finishing) {
    const pending = await readJournal(paths).catch(() => undefined);
    if (pending) {
      throw new RefusedError(`an interrupted ${pending.op} of the crypt "${c.crypt.name}" is not finished yet; nothing was changed`, { hint: 'Run `lychd-crypt repair` first (it finishes or undoes it), then deinit.' });
    }
  }
  const stopDatabase = steps.some((s) => s.kind === 'stop-database');
  if (!opts.yes && !finishing) {
    if (!ctx.interactive) {
      throw new RefusedError(
        `deinit removes the crypt "${c.crypt.name}" (${[stopDatabase ? 'stops its database' : null, c.method !== 'native' ? 'unmounts it' : null, 'removes its persistence, timers, state and registry entry', deleteData ? `DELETES ${deletedData(c)}` : null].filter(Boolean).join(', ')}); it needs consent, and nothing was changed`,
        { hint: `Review it with \`lychd-crypt deinit --dry-run${deleteData ? ' --delete-data' : ''}\`, then give consent with \`lychd-crypt deinit${deleteData ? ' --delete-data' : ''} --yes\`.` },
      );
    }
    const { confirmDeinit } = await import('../ui/confirm-deinit.js');
    const typed = c.method === 'loopback' ? c.loopback!.image : c.method === 'partition' ? c.partition!.device : c.crypt.path;
    if (!(await confirmDeinit(describeDeinit(view), c.crypt.name, deleteData ? { what: deletedData(c), typed } : null))) {
      throw new RefusedError('deinit not confirmed; nothing was changed', { hint: 'Answer yes, or run it with --yes.' });
    }
  }
  // Under the crypt's lock, so no snapshot or rollback runs meanwhile (the state directory holds it).
  const apply = () => applyDeinit(ctx, entry, { deleteData, stopDatabase }, steps);
  const run = (await exists(entry.stateDir)) ? await withLock(paths.lock, { waitSeconds: ctx.globals.wait, operation: 'deinit', activity: ctx.activity }, apply) : await apply();
  const head = `${finishing ? 'finished removing' : 'removed'} the crypt "${c.crypt.name}" at ${c.crypt.path}: it is no longer registered (${run.result.changed} of ${run.steps.length} steps changed something)`;
  return {
    json: { ok: true, dryRun: false, crypt: view.crypt, finishing, deleteData, changed: run.result.changed, steps: run.result.steps, kept },
    human: [head, ...(kept ? [`kept: ${kept}`] : []), 'to bring it back: `lychd-crypt init --answers FILE --yes` with the answers it was made with'].join('\n'),
  };
}
