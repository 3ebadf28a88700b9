// The PostgreSQL questions of the wizard: is there a PGDATA in the crypt, whose is it, how a rollback
// stops and starts the server, and how to connect: socket or host, port, role and database (defaults kept
// unless the user says otherwise) — or, when one of the user's podman containers keeps its data in the
// crypt, just that container. For a crypt of a user other than root the defaults are LychD's rootless
// ones: PostgreSQL run by that user, connecting as its role.
import type { AnswersInput } from '../../install/answers/schema.js';
import type { HostFacts } from '../../install/detect/facts.js';
import { DEFAULTS } from '../../install/answers/defaults.js';
import { containersOnCrypt } from '../../install/detect/container.js';
import { askConfirm, askSelect, askText, type Choice, type PromptIo } from './prompts.js';

type Postgres = NonNullable<AnswersInput['postgres']>;
type Service = NonNullable<Postgres['service']>;

/**
 * The OS user proposed for PGDATA: the answers' (or the registry's), else — for a crypt of a user other than
 * root, LychD's own rootless way — that user, else the system's postgres account.
 */
export function proposedOsUser(facts: Pick<HostFacts, 'user'>, base: Postgres | undefined): string {
  if (base?.osUser !== undefined) return String(base.osUser);
  return facts.user.uid !== 0 ? facts.user.name : DEFAULTS['postgres.osUser'];
}

/** Whether `osUser` (a name or a uid) is the crypt's owner: PostgreSQL run by the owner, its own role then. */
const isOwner = (facts: Pick<HostFacts, 'user'>, osUser: string | number): boolean => String(osUser) === facts.user.name || String(osUser) === String(facts.user.uid);

export async function askPostgres(facts: HostFacts, given: Postgres | undefined, io: PromptIo): Promise<Postgres> {
  const boxed = await askContainer(facts, given, io);
  if (boxed) return boxed;
  // Not the container (declined, or none found): the questions below describe PostgreSQL on the host.
  const { container: _notTaken, ...base } = given ?? {};
  const enabled = await askConfirm('Will the crypt hold a PostgreSQL data directory (active/postgres)?', {
    ...io,
    initialValue: given?.enabled ?? facts.postgresUser !== null,
  });
  if (!enabled) return { enabled: false };
  const osUserText = await askText('PostgreSQL OS user (owns PGDATA; a name or a numeric uid)', {
    ...io,
    defaultValue: proposedOsUser(facts, base),
    validate: (v) => (v.trim() ? undefined : 'A user name or uid is needed'),
  });
  const osUser = /^\d+$/.test(osUserText) ? Number(osUserText) : osUserText;
  const service = await askService(base?.service, io);
  // A server the owner runs (initdb as the owner) has the owner's role: that is the default then, unless
  // the answers or the registry name one.
  const role = base?.connection?.user ?? (isOwner(facts, osUser) ? facts.user.name : DEFAULTS['postgres.connection'].user);
  const conn = { ...DEFAULTS['postgres.connection'], ...base?.connection, user: role };
  const keep = await askConfirm(`Connect through ${conn.host}, port ${conn.port}, as role ${conn.user} (database ${conn.database})?`, { ...io, initialValue: true });
  if (!keep) {
    conn.host = await askText('Socket directory or host', {
      ...io,
      defaultValue: conn.host,
      // A relative socket directory would depend on the directory each command happens to run in.
      validate: (v) =>
        !v.trim() ? 'A socket directory or a host name is needed' : !v.startsWith('/') && (v.includes('/') || v.startsWith('.')) ? 'A socket directory must be an absolute path (starting with /); or give a host name' : undefined,
    });
    const port = await askText('Port', {
      ...io,
      defaultValue: String(conn.port),
      validate: (v) => (/^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= 65535 ? undefined : 'A port from 1 to 65535'),
    });
    conn.port = Number(port);
    conn.user = await askText('Role (the PostgreSQL user lychd-crypt connects as)', {
      ...io,
      defaultValue: conn.user,
      validate: (v) => (v.trim() ? undefined : 'A role name is needed'),
    });
    conn.database = await askText('Database', {
      ...io,
      defaultValue: conn.database,
      validate: (v) => (v.trim() ? undefined : 'A database name is needed'),
    });
  }
  return { ...base, enabled: true, osUser, service, connection: conn };
}

async function askService(base: Service | undefined, io: PromptIo): Promise<Service> {
  type Kind = Service['kind'];
  const choices: Choice<Kind>[] = [
    { value: 'pg_ctl', label: 'pg_ctl', hint: 'lychd-crypt runs pg_ctl as the OS user' },
    { value: 'systemd', label: 'a systemd unit', hint: 'e.g. postgresql@15-main, or a rootless Podman Quadlet' },
    ...(base?.kind === 'command' ? [{ value: 'command' as const, label: 'the commands of the defaults file', hint: base.stop.join(' ') }] : []),
    { value: 'none', label: 'none', hint: 'rollback refuses while PostgreSQL runs' },
  ];
  const kind = await askSelect('How should a rollback stop and start PostgreSQL?', choices, { ...io, initialValue: base?.kind ?? DEFAULTS['postgres.service'].kind });
  if (kind === 'command' && base?.kind === 'command') return base;
  if (kind !== 'systemd') return { kind } as Service;
  const unit = await askText('The PostgreSQL systemd unit', {
    ...io,
    defaultValue: base?.kind === 'systemd' ? base.unit : DEFAULTS['postgres.service.unit'],
    validate: (v) => (v.trim() ? undefined : 'A unit name is needed'),
  });
  const user = await askConfirm('Is it a unit of the crypt user’s own systemd (systemctl --user)?', {
    ...io,
    initialValue: base?.kind === 'systemd' ? Boolean(base.user) : DEFAULTS['postgres.service.user'],
  });
  return { kind: 'systemd', unit, user };
}

/**
 * A container of the crypt user's whose mounts hold a directory of this crypt's active/ (LychD's phylactery):
 * offered first. Taken, it is all the answers need: its PGDATA, connection, password secret and service
 * come from podman when init checks the answers (install/resolve-container.ts).
 */
async function askContainer(facts: HostFacts, base: Postgres | undefined, io: PromptIo): Promise<Postgres | null> {
  const found = containersOnCrypt(facts.podman?.containers ?? [], facts.cryptPath);
  if (!found.length) return null;
  const named = found.find((f) => f.container.name === base?.container?.name) ?? found[0]!;
  const take = await askConfirm(`PostgreSQL: use ${facts.user.name}'s podman container ${named.container.name} (it keeps its data in active/${named.dir})?`, {
    ...io,
    initialValue: base?.container !== undefined || base?.enabled !== false,
  });
  if (!take) return null;
  return { enabled: true, container: { engine: 'podman', name: named.container.name }, dir: named.dir };
}
