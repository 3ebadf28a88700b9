// Opens one dedicated pg.Client from the crypt's connection settings. The password comes only from
// PGPASSWORD or ~/.pgpass (never from a file the tool writes, argv or logs).
import type pg from 'pg';
import type { PostgresConfig } from '../../model/config.js';
import { CryptError } from '../errors.js';

function passwordFrom(env: NodeJS.ProcessEnv, conn: PostgresConfig['connection']): () => Promise<string> {
  return async () => {
    if (env.PGPASSWORD !== undefined) return env.PGPASSWORD;
    // pgpass is pg's own dependency; asking it directly avoids pg's deprecated implicit lookup.
    // pg accepts undefined here (no password), although its types say string.
    const { default: pgpass } = await import('pgpass');
    const lookup = (host: string) => new Promise<string>((resolve) => pgpass({ ...conn, host }, (pass) => resolve(pass as string)));
    const pass = await lookup(conn.host);
    // libpq matches a Unix-socket connection against a `localhost` line too; the npm module does not.
    return pass === undefined && conn.host.startsWith('/') ? lookup('localhost') : pass;
  };
}

export interface ConnectOptions {
  applicationName?: string;
  connectTimeoutMs?: number;
  /** Session settings sent in the startup packet (e.g. statement_timeout). */
  settings?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
}

export async function connectPostgres(conn: PostgresConfig['connection'], opts: ConnectOptions = {}): Promise<pg.Client> {
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
    password: passwordFrom(opts.env ?? process.env, conn),
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
      return `The password for ${conn.user} was refused: set PGPASSWORD, or a line in ~/.pgpass of the user running the command.`;
    case 'ENOENT':
    case 'ECONNREFUSED':
      return `Nothing answers at ${conn.host}:${conn.port}: start the server (\`lychd-crypt db start\`), or, if it listens elsewhere, ${change}.`;
    default:
      return `Check postgres.connection (${change}), and PGPASSWORD or ~/.pgpass for the password.`;
  }
}
