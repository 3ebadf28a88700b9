// mount.identity: the filesystem mounted at the crypt path is the registered one — its UUID, and under a
// temporary fsid (a byte copy of it is mounted too, Linux 6.7+) its source. The runtime refuses a crypt
// whose identity does not hold ("not mounted (another Btrfs filesystem …)"); this check says why and what
// fixes it, so that refusal never meets a doctor that finds nothing (issue 29, finding 3).
import { describeHolders, type DeviceUse } from '../base/btrfs/fs-identity.js';
import type { DoctorEnv, MountView } from './doctor-env.js';
import { cannotCheck, fixable, manual, ok, type Check } from './findings.js';
import { pgdataPath } from '../base/crypt/paths.js';

const ID = 'mount.identity';

/** How to get rid of the other mount(s) holding the UUID. */
function unmountCopies(holders: DeviceUse[]): string {
  const here = holders.flatMap((h) => h.mountedAt);
  if (here.length) return `unmount the copy (${here.map((p) => `umount ${p}`).join('; ')})`;
  const devices = holders.map((h) => h.device).join(' ');
  return `find the mount namespace that still holds ${devices || 'the copy'} (\`grep -l '${holders[0]?.device ?? ''} ' /proc/*/mountinfo\`) and unmount it there, or stop what holds it`;
}

export function checkIdentity(env: DoctorEnv, view: MountView): Check | null {
  const id = env.identity;
  if (!id || !env.mounted) return null;
  const where = env.root;
  const registered = view.method === 'loopback' ? `the image ${view.spec.what}` : `the device ${view.spec.what}`;
  switch (id.kind) {
    case 'none':
      return null;
    case 'unknown':
      return cannotCheck(ID, `cannot tell which filesystem is mounted at ${where}: ${id.why}`);
    case 'as-registered':
      return ok(ID, `the filesystem at ${where} is the registered one (UUID ${id.fsid})`);
    case 'temp-fsid': {
      if (!id.registeredSource) {
        return manual(
          ID,
          `a byte copy of the crypt's filesystem (UUID ${id.uuid}) is mounted at ${where} from ${id.source} under the temporary fsid ${id.fsid}, not the crypt from ${registered}; ${describeHolders(id.uuid, id.holders)}`,
          `unmount it (umount ${where}), then run \`lychd-crypt repair\` to mount the crypt`,
        );
      }
      if (id.holders.length) {
        return manual(
          ID,
          `the crypt is mounted under the temporary fsid ${id.fsid}: a byte copy of its filesystem holds its UUID ${id.uuid} (${describeHolders(id.uuid, id.holders)}). The crypt works, but a mount by UUID or the next boot may find the copy instead`,
          `${unmountCopies(id.holders)}; then run \`lychd-crypt repair\`: it mounts the crypt again under its own UUID`,
        );
      }
      const pg = env.config?.postgres ?? null;
      return fixable(
        ID,
        `the crypt is mounted under the temporary fsid ${id.fsid}, not its UUID ${id.uuid} (the copy that held the UUID is gone)`,
        `stop the database if it runs, unmount the crypt and mount it again so that it carries its UUID${pg && pg.service.kind !== 'none' ? ', then start the database again' : ''}`,
        [
          {
            kind: 'remount-crypt',
            spec: view.spec,
            forced: false,
            fsUuid: id.uuid,
            postgres: pg,
            pgdata: pg ? pgdataPath(env.root, pg.dir) : null,
            crypt: env.config ? { user: env.config.crypt.user, logDir: env.paths.pgLog } : null,
          },
        ],
      );
    }
    case 'other':
      if (id.registeredSource) {
        return manual(
          ID,
          `${registered} holds another Btrfs filesystem (UUID ${id.uuid}), not the registered crypt's (${id.registered}): it was replaced or formatted again`,
          `put the crypt's own ${view.method === 'loopback' ? 'image' : 'device'} back; if this filesystem is meant to be the crypt, register it with \`lychd-crypt init\``,
        );
      }
      return manual(ID, `another Btrfs filesystem (UUID ${id.uuid}, from ${id.source}) is mounted at ${where}, not the crypt (${id.registered})`, `unmount it (umount ${where}), then run \`lychd-crypt repair\` to mount the crypt`);
  }
}
