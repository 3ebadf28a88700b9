// Opens one dedicated pg.Client from the crypt's connection settings. The password comes from the source the
// configuration names — a file of the caller's (0600, as libpq wants ~/.pgpass) or the Podman secret the
// container reads — else PGPASSWORD, else the caller's ~/.pgpass. It goes to this process's client only:
// never into a file the tool writes, argv, the environment of a child, or a log.
import type pg from 'pg';
import type { PostgresConfig } from '../../model/config.js';
import { CryptError } from '../errors.js';
import { readTextSafely } from '../sys/read-file.js';
import { createRunner } from '../runner.js';
import { lstat } from 'node:fs/promises';

type Conn = PostgresConfig['connection'];
/** What a connection needs of the configuration: where to connect, and the container a secret is read from. */
export type ConnectTarget = Pick<PostgresConfig, 'connection' | 'container'>;

/** A password read once per process from its configured source (a secret costs a podman call). */
const cached = new Map<string, string>();

const chomp = (s: string): string => s.replace(/\r?\n$/, '');

/** passwordFile: a regular file of the caller's that nobody else may read or write (libpq's rule for ~/.pgpass). */
export async function readPasswordFile(file: string): Promise<string> {
  const st = await lstat(file).catch(() => null);
  const bad = (why: string) =>
    new CryptError(`postgres.connection.passwordFile ${file} ${why}; no password was read`, {
      hint: `Make it a regular file of the user running lychd-crypt, mode 0600 (chmod 600 ${file}).`,
    });
  if (!st) throw bad('does not exist');
  if (!st.isFile()) throw bad('is not a regular file');
  if (st.uid !== process.getuid?.()) throw bad(`belongs to uid ${st.uid}, not to the user running lychd-crypt`);
  if (st.mode & 0o077) throw bad(`has mode 0${(st.mode & 0o777).toString(8)}: group or others may read it`);
  const text = await readTextSafely(file, { maxBytes: 4096, owners: [st.uid] });
  if (text === undefined) throw bad('vanished while it was read');
  return chomp(text);
}

/**
 * passwordSecret: the Podman secret's value. Podman 4.5 and later print it by name (`secret inspect
 * --showsecret`); 4.3 (Debian 12) cannot, so it is read where the container has it, /run/secrets/NAME, while
 * the container runs — which is whenever there is a server to connect to. undefined: not readable now.
 */
export async function readPodmanSecret(secret: string, container: string | null): Promise<string | undefined> {
  const runner = createRunner();
  const shown = await runner.run(['podman', 'secret', 'inspect', '--showsecret', '--format', '{{.SecretData}}', '--', secret], { allowFailure: true });
  if (shown.exitCode === 0) return chomp(shown.stdout);
  if (!container) return undefined;
  const r = await runner.run(['podman', 'exec', container, 'cat', '--', `/run/secrets/${secret}`], { allowFailure: true, timeoutMs: 30_000 });
  return r.exitCode === 0 ? chomp(r.stdout) : undefined;
}

async function configured(target: ConnectTarget): Promise<string | undefined> {
  const c = target.connection;
  const key = c.passwordFile ? `file:${c.passwordFile}` : c.passwordSecret ? `secret:${c.passwordSecret}` : null;
  if (!key) return undefined;
  const known = cached.get(key);
  if (known !== undefined) return known;
  const value = c.passwordFile ? await readPasswordFile(c.passwordFile) : await readPodmanSecret(c.passwordSecret!, target.container?.name ?? null);
  if (value !== undefined) cached.set(key, value);
  return value;
}

function passwordFrom(env: NodeJS.ProcessEnv, target: ConnectTarget): () => Promise<string> {
  const conn: Conn = target.connection;
  return async () => {
    const own = await configured(target);
    if (own !== undefined) return own;
    if (env.PGPASSWORD !== undefined) return env.PGPASSWORD;
    // pgpass is pg's own dependency; asking it directly avoids pg's deprecated implicit lookup.
    // pg accepts undefined here (no password), although its types say string.
    const { default: pgpass } = await import('pgpass');
    const lookup = (host: string) => new Promise<string>((resolve) => pgpass({ host, port: conn.port, user: conn.user, database: conn.database }, (pass) => resolve(pass as string)));
    const pass = await lookup(conn.host);
    // libpq matches a Unix-socket connection against a `localhost` line too; the npm module does not.
    return pass === undefined && conn.host.startsWith('/') ? lookup('localhost') : pass;
  };
}

/** Where the password would come from, for messages. */
export function passwordSources(conn: Conn): string {
  if (conn.passwordFile) return `the password file ${conn.passwordFile}`;
  if (conn.passwordSecret) return `the Podman secret ${conn.passwordSecret}`;
  return 'PGPASSWORD or ~/.pgpass';
}

export interface ConnectOptions {
  applicationName?: string;
  connectTimeoutMs?: number;
  /** Session settings sent in the startup packet (e.g. statement_timeout). */
  settings?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
}

export async function connectPostgres(target: ConnectTarget, opts: ConnectOptions = {}): Promise<pg.Client> {
  const conn = target.connection;
  const options = Object.entries(opts.settings ?? {})
    .map(([k, v]) => `-c ${k}=${v}`)
    .join(' ');
  // Loaded when a command first connects, not at start (snapshot --mode none never does).
  const { default: pgModule } = await import('pg');
  const client = new pgModule.Client({
    host: conn.host,
    port: conn.port,
    user: conn.user,
    database: conn.database,
    password: passwordFrom(opts.env ?? process.env, target),
    application_name: opts.applicationName ?? 'lychd-crypt',
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
    ...(options ? { options } : {}),
  });
  // An error on an idle client would otherwise be an uncaught exception that kills the process.
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => {});
    throw new CryptError(`cannot connect to PostgreSQL at ${conn.host}:${conn.port} as ${conn.user}: ${(e as Error).message}`, {
      hint: connectHint(e as Error & { code?: string }, conn),
      cause: e,
    });
  }
  return client;
}

/**
 * What to do about a refused connection. The connection is part of the crypt's registered definition, which
 * only root changes: a reader who is not root is told the exact root command (pasteable() adds the registry).
 */
export function connectHint(e: { code?: string; message?: string }, conn: PostgresConfig['connection'], uid = process.getuid?.() ?? 0): string {
  const init = uid === 0 ? '`lychd-crypt init`' : '`sudo lychd-crypt init`';
  const change = `postgres.connection is recorded in the registry: ${init} changes it (its questions start from the registered values; or \`${uid === 0 ? '' : 'sudo '}lychd-crypt init --answers FILE --yes\`)`;
  switch (e.code) {
    case '28000': // invalid_authorization_specification: no such role (or pg_hba refuses it)
      return `The server has no role ${conn.user} that may connect there (for a server its owner runs, the role is usually the owner's name): ${change}.`;
    case '3D000': // invalid_catalog_name
      return `The server has no database ${conn.database}: ${change}.`;
    case '28P01': // invalid_password
      return conn.passwordFile || conn.passwordSecret
        ? `The password for ${conn.user} was refused: check ${passwordSources(conn)}.`
        : `The password for ${conn.user} was refused: set PGPASSWORD, or a line in ~/.pgpass of the user running the command.`;
    case 'ENOENT':
    case 'ECONNREFUSED':
      return `Nothing answers at ${conn.host}:${conn.port}: start the server (\`lychd-crypt db start\`), or, if it listens elsewhere, ${change}.`;
    default:
      return `Check postgres.connection (${change}), and ${passwordSources(conn)} for the password.`;
  }
}
