// pgdata.container: for PostgreSQL in the owner's rootless container, what the owner's podman says agrees
// with the crypt — the container keeps its PGDATA (its environment's PGDATA, through its mounts) in the
// crypt's active/, and maps its postgres user to the host uid the crypt recorded (PGDATA's owner). The
// mapping is shown: a PGDATA owned by a subordinate uid is healthy when it is this one. Never fixed by
// repair: the container is the owner's (its .container file or `podman run`), not the tool's.
import path from 'node:path';
import { inspectContainer, pgdataInside, pgdataOnHost } from '../base/container/podman.js';
import { containerMaps, describeMapping, hostIdsOf } from '../base/container/mapping.js';
import { ownIds } from '../base/userns/tree.js';
import type { DoctorEnv } from './doctor-env.js';
import { cannotCheck, manual, ok, type Check } from './findings.js';

export async function checkContainer(env: DoctorEnv): Promise<Check> {
  const id = 'pgdata.container';
  const pg = env.config!.postgres!;
  const name = pg.container!.name;
  const c = await inspectContainer(env.runner, name).catch((e: Error) => e);
  if (c instanceof Error) return cannotCheck(id, `podman could not be asked about the container ${name}: ${c.message.split('\n')[0]}`);
  const ids = ownIds();
  const maps = containerMaps(c, ids);
  // The server's user in the container: postgres.osUser (its group, as init assumes, the same number).
  const inside = { uid: Number(pg.osUser), gid: Number(pg.osUser) };
  const host = hostIdsOf(inside, maps, ids);
  const mapping = host ? describeMapping(inside.uid, host.uid, maps) : `container uid ${inside.uid} is beyond the owner's subordinate ids`;
  if (!c) {
    // A Quadlet unit's container (`--rm`) exists only while its unit runs; `podman start` needs one that stays.
    if (pg.service.kind === 'container') {
      return manual(id, `the container ${name} does not exist: lychd-crypt cannot stop or start it (postgres.service is podman stop/start)`, `create it again as before (its data is in the crypt), or run init with the container that runs PostgreSQL now; ${mapping}`);
    }
    return ok(id, `the container ${name} is not there now (its unit's \`--rm\` container exists while the unit runs); ${mapping}`);
  }
  const pgdata = path.join(env.paths.active, pg.dir);
  const where = pgdataOnHost(c);
  if (where?.path !== pgdata) {
    return manual(
      id,
      `the container ${name} keeps PGDATA (${pgdataInside(c)}${c.env.PGDATA ? ', its environment\'s PGDATA' : ''}) ${where ? `at ${where.path}` : 'in no bind mount (a volume, or the image itself)'}, not in the crypt's ${pgdata}: snapshots hold none of its data`,
      `mount ${pgdata} at the container's PGDATA (or set PGDATA to where it is mounted), then restart the container`,
    );
  }
  if (!host || host.uid !== pg.uid) {
    return manual(
      id,
      `the container ${name} maps its postgres (uid ${inside.uid}) to ${host ? `host uid ${host.uid}` : 'no host uid'}, but the crypt's PGDATA belongs to host uid ${pg.uid}`,
      'recreate the container with the id mapping it had (keep-id, as LychD runs it), or run init again if the new mapping is meant',
    );
  }
  return ok(id, `the container ${name} (${c.running ? 'running' : 'stopped'}, ${c.imageName || c.image}) keeps PGDATA ${pgdataInside(c)} in active/${pg.dir}; ${mapping}`);
}
