// postgres for a PostgreSQL in the crypt user's rootless Podman container (LychD's deployment), from the
// answers and what the user's podman says (pure). The answers name the container; what they leave out comes
// from it: PGDATA's place in active/ (its mounts and PGDATA), the connection (its published port,
// POSTGRES_USER, POSTGRES_DB), the password's source (its POSTGRES_PASSWORD_FILE secret), the service (a
// Quadlet's unit, else `podman stop/start`). The server's user is the container's (999) and PGDATA belongs,
// on the host, to the subordinate uid podman maps it to: recorded here, and checked against a cluster that
// is already there.
import path from 'node:path';
import { RefusedError, UsageError } from '../base/errors.js';
import { pgdataInside, pgdataOnHost, numericUser, type ContainerFacts } from '../base/container/podman.js';
import { containerIdsOf, containerMaps, describeMapping, hostIdsOf } from '../base/container/mapping.js';
import type { PostgresConfig, ServiceConfig } from '../model/config.js';
import type { Answers } from './answers/schema.js';
import type { HostFacts } from './detect/facts.js';
import { containersOnCrypt } from './detect/container.js';
import { DEFAULTS } from './answers/defaults.js';

type PgAnswers = NonNullable<Answers['postgres']>;

/** The secret a container reads its superuser's password from (POSTGRES_PASSWORD_FILE=/run/secrets/NAME). */
function passwordSecretOf(c: ContainerFacts | null): string | undefined {
  const m = /^\/run\/secrets\/([^/]+)$/.exec(c?.env.POSTGRES_PASSWORD_FILE ?? '');
  return m && c!.secrets.includes(m[1]!) ? m[1] : undefined;
}

/** Where the container keeps PGDATA instead, said for people. */
function elsewhere(c: ContainerFacts): string {
  const host = pgdataOnHost(c);
  const inside = pgdataInside(c);
  const from = c.env.PGDATA ? ' (its environment\'s PGDATA)' : '';
  return host ? `${inside}${from}, which is ${host.path} on the host` : `${inside}${from}, which no bind mount holds (a volume of podman's, or the image's own layer)`;
}

export function resolveContainerPostgres(a: PgAnswers | undefined, facts: HostFacts, name: string): PostgresConfig {
  const user = facts.user;
  if (user.uid === 0) throw new UsageError('postgres.container: a rootless container belongs to the crypt user, and the crypt user is root', { hint: 'Name the user who runs the container in crypt.user.' });
  const det = facts.podman;
  if (!det) throw new UsageError(`postgres.container: podman is not installed (or not on PATH), so the container ${name} cannot be asked`, { hint: 'Install podman (and uidmap), or remove postgres.container.' });
  if (!det.containers) {
    throw new UsageError(`postgres.container: ${user.name}'s podman could not be asked about ${name}: ${det.why}`, {
      hint: `Rootless podman needs ${user.name}'s runtime directory: \`loginctl enable-linger ${user.name}\` (LychD's Quadlet units need it too), then run init again.`,
    });
  }
  if (!det.owner.subuids.length || !det.owner.subgids.length) {
    throw new UsageError(`postgres.container: ${user.name} has no subordinate uid or gid range (/etc/subuid, /etc/subgid)`, {
      hint: `Rootless podman needs them: \`usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${user.name}\`.`,
    });
  }
  // Not there yet is fine: LychD creates it after init, and its first start gives the empty PGDATA to its postgres (`:U`).
  const c = det.containers.find((x) => x.name === name) ?? null;
  const on = c ? containersOnCrypt([c], facts.cryptPath)[0] : undefined;
  if (c && !on?.pgdata) {
    throw new RefusedError(
      `postgres.container: the container ${name} does not keep its PGDATA in the crypt's active/: PostgreSQL there uses ${elsewhere(c)}${on ? `, while active/${on.dir} is mounted at ${c.mounts.find((m) => m.source === path.join(facts.cryptPath, 'active', on.dir))?.destination ?? 'another path'}` : ''}; nothing was changed`,
      {
        hint: `Mount a directory of ${facts.cryptPath}/active at the container's PGDATA, or set PGDATA to the mount's path in the container (official postgres:18 images use /var/lib/postgresql/18/docker: Environment=PGDATA=/var/lib/postgresql/data in the .container file).`,
      },
    );
  }
  const dir = a?.dir ?? on?.dir ?? DEFAULTS['postgres.dir'];
  if (on && a?.dir && a.dir !== on.dir) {
    throw new UsageError(`postgres.dir: ${a.dir}, but the container ${name} keeps PGDATA at active/${on.dir}`, { hint: `Remove postgres.dir, or set it to ${on.dir}.` });
  }

  // The server's user: the container's uid (a name would need the image's passwd), its group the same number unless Config.User says.
  const given = numericUser(c);
  const osUser = a?.osUser ?? given?.uid ?? DEFAULTS['postgres.container.osUser'];
  if (typeof osUser !== 'number' && !/^\d+$/.test(osUser)) {
    throw new UsageError(`postgres.osUser: "${osUser}" is a name; in a container give the server's uid there (the official images' postgres is 999)`);
  }
  const inside = { uid: Number(osUser), gid: given?.gid ?? Number(osUser) };
  const maps = containerMaps(c, det.owner);
  const host = hostIdsOf(inside, maps, det.owner);
  if (!host) throw new UsageError(`postgres.osUser: container uid ${inside.uid} is beyond ${user.name}'s subordinate ids`);
  const now = facts.pgdataNow;
  if (now?.hasCluster && (now.uid !== host.uid || now.gid !== host.gid)) {
    const theirs = containerIdsOf(now, maps, det.owner);
    throw new RefusedError(
      `postgres.container: the cluster already in ${now.path} belongs to host ${now.uid}:${now.gid}${theirs ? ` (container ${theirs.uid}:${theirs.gid})` : ' (no id of the container)'}, but ${describeMapping(inside.uid, host.uid, maps)}; nothing was changed`,
      { hint: 'Give postgres.osUser the container uid that runs PostgreSQL, or start the container once with `:U` on the mount so it takes PGDATA over, then run init again.' },
    );
  }

  const c0 = a?.connection;
  const pgUser = c0?.user ?? c?.env.POSTGRES_USER ?? DEFAULTS['postgres.connection'].user;
  const secret = c0?.passwordFile ? undefined : (c0?.passwordSecret ?? passwordSecretOf(c));
  const service: ServiceConfig = a?.service ?? (c?.unit ? { kind: 'systemd', unit: c.unit, user: true } : { kind: 'container' });
  if (service.kind === 'pg_ctl' || service.kind === 'command' || (service.kind === 'systemd' && !service.user)) {
    throw new UsageError(`postgres.service: kind ${service.kind}${service.kind === 'systemd' ? ' (a system unit)' : ''} cannot run ${user.name}'s container`, {
      hint: 'Use kind: container (podman stop/start), or kind: systemd with user: true for a Quadlet unit.',
    });
  }
  return {
    dir,
    osUser: String(osUser),
    uid: host.uid,
    gid: host.gid,
    connection: {
      host: c0?.host ?? c?.published?.host ?? DEFAULTS['postgres.container.connection'].host,
      port: c0?.port ?? c?.published?.port ?? DEFAULTS['postgres.container.connection'].port,
      user: pgUser,
      database: c0?.database ?? c?.env.POSTGRES_DB ?? pgUser,
      ...(c0?.passwordFile ? { passwordFile: c0.passwordFile } : {}),
      ...(secret ? { passwordSecret: secret } : {}),
    },
    bin: a?.bin ?? null,
    service,
    container: { engine: 'podman', name },
  };
}
