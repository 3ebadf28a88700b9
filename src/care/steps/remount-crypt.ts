// remount-crypt: heals a read-only crypt. Btrfs does not let a filesystem it forced read-only (after a
// transaction abort) be remounted read-write in place: it must be unmounted and mounted again, which
// discards only the aborted, never-committed transaction. Nothing may hold it open then, so the database is
// stopped first (after a forced read-only it has usually PANICked already), and started again once the
// crypt is writable. The same remount gives a crypt mounted under a temporary fsid its own UUID back, once
// the byte copy that held that UUID is gone (fsUuid set).
import { CryptError } from '../../base/errors.js';
import { readWritability } from '../../base/btrfs/fs-state.js';
import { readPostmaster } from '../../base/pg/postmaster.js';
import { mountAt } from '../../install/detect/findmnt.js';
import { fsidAt, kernelFs } from '../../base/btrfs/fs-identity.js';
import { mount } from '../../install/steps/mount.js';
import { mountArgv } from '../../install/steps/mount-no-follow.js';
import { startDatabase, stopDatabase } from '../../runtime/service/control.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from '../../install/steps/module.js';

type Remount = StepOf<'remount-crypt'>;

export const remountCrypt: StepModule<Remount> = {
  describe: (s) =>
    seq(
      `remount the ${s.fsUuid ? 'crypt under its own UUID' : s.forced ? 'forced read-only crypt' : 'read-only crypt'}: ${s.postgres ? 'stop the database if it still runs, ' : ''}umount ${s.spec.where}, mount ${s.spec.what} again (mount -t ${s.spec.type} -o ${s.spec.options.join(',')})${s.postgres && s.postgres.service.kind !== 'none' ? ', start the database if it was running or had crashed' : ''}`,
      !!s.postgres && { op: 'stop the database if it still runs' },
      { run: ['umount', s.spec.where] },
      { run: mountArgv(s.spec) },
      !!s.postgres && s.postgres.service.kind !== 'none' && { op: 'start the database if it was running or had crashed' },
    ),
  probe: async (s, ctx) => {
    if (s.fsUuid) return (await carriesUuid(s)) ? satisfied('already under its own UUID') : wouldChange();
    return (await readWritability(ctx.runner, s.spec.where)).kind === 'rw' ? satisfied('already writable') : wouldChange();
  },
  async apply(s, ctx) {
    const runner = ctx.runner;
    const where = s.spec.where;
    const before = await readWritability(runner, where);
    if (s.fsUuid) {
      if (await carriesUuid(s)) return unchanged('already under its own UUID');
      // Mounted again while the copy still holds the UUID, the crypt would get a temporary fsid again.
      if (await kernelFs(s.fsUuid)) {
        throw new CryptError(`the crypt at ${where} cannot get its UUID ${s.fsUuid} back: another mount of the same filesystem still holds it`, {
          hint: 'Run `lychd-crypt doctor` (mount.identity names it), unmount that copy, then run repair again.',
        });
      }
    } else if (before.kind === 'rw') return unchanged('already writable');
    const pg = s.postgres;
    const canService = pg !== null && pg.service.kind !== 'none' && s.pgdata !== null && s.crypt !== null;
    // Running, or crashed (a postmaster.pid left by a dead server): either way it should run again.
    const pm = s.pgdata ? await readPostmaster(s.pgdata).catch(() => null) : null;
    const wanted = pm !== null && pm.pid !== null;
    let stopped = false;
    if (pm?.running) {
      if (!canService) throw new CryptError(`PostgreSQL (pid ${pm.pid}) still runs on the read-only crypt and postgres.service is none, so repair cannot stop it`, { hint: 'Stop the database yourself, then run `lychd-crypt repair` again.' });
      stopped = await stopDatabase(runner, pg, s.pgdata!, s.crypt!);
    }
    const r = await runner.run(['umount', where], { allowFailure: true });
    if (r.exitCode !== 0 && (await mountAt(runner, where))) {
      throw new CryptError(`cannot unmount the read-only crypt at ${where}: ${r.stderr.trim()}`, {
        hint: `Something still uses it: find it with \`fuser -vm ${where}\`, stop it, and run \`lychd-crypt repair\` again.`,
      });
    }
    await mount.apply({ kind: 'mount', spec: s.spec }, { runner });
    if (s.fsUuid && !(await carriesUuid(s))) {
      throw new CryptError(`the crypt at ${where} was mounted again but is still not under its UUID ${s.fsUuid}`, { hint: 'Run `lychd-crypt doctor` to see what holds the UUID.' });
    }
    const after = await readWritability(runner, where);
    if (after.kind !== 'rw') {
      throw new CryptError(`the crypt at ${where} is still read-only after mounting it again (${after.kind})`, {
        hint: 'Btrfs refuses to write to it: check `dmesg` for the reason (a full host, a failing disk) and fix that first.',
      });
    }
    const notes = [s.fsUuid ? `remounted ${where} under its UUID ${s.fsUuid}` : `remounted ${where} read-write`];
    if (stopped) notes.push('the database was stopped for it');
    if (wanted && canService) {
      await startDatabase(runner, pg!, s.pgdata!, s.crypt!);
      notes.push('the database was started again');
    } else if (wanted) notes.push('start the database yourself (postgres.service is none)');
    return changed(notes.join('; '));
  },
};

/** The filesystem at the mount point is the registered one, under its own fsid. */
async function carriesUuid(s: Remount): Promise<boolean> {
  return (await fsidAt(s.spec.where)) === s.fsUuid;
}
