// space.reserve: is there room for the next snapshot without going below the reserve that keeps
// PostgreSQL alive? The same estimate and threshold `snapshot` refuses at (src/runtime/space/).
import { threshold } from '../runtime/space/estimate.js';
import { assessSpace, describeFree, shortfallMessage } from '../runtime/space/reserve.js';
import { spaceTarget } from '../runtime/space/target.js';
import type { DoctorEnv } from './doctor-env.js';
import { manual, ok, type Check } from './findings.js';
import { humanSize } from '../model/units.js';

export async function checkReserve(env: DoctorEnv): Promise<Check> {
  const id = 'space.reserve';
  const v = await assessSpace(spaceTarget(env.root, env.config!), 'snapshot');
  if (!v.enough) {
    return manual(id, shortfallMessage(v).replace(/ Nothing was changed\.$/, ' snapshot, rollback and verify refuse until there is room'), 'delete old snapshots (`lychd-crypt prune` / `delete`), grow the filesystem, or free space on the host holding the image');
  }
  return ok(id, `room for the next snapshot: ${humanSize(v.free.usable)} usable (${describeFree(v.free)}), a snapshot needs ${humanSize(threshold(v.need))} with the reserve`);
}
