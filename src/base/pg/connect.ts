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
      hint: 'Check postgres.connection in the crypt configuration, and PGPASSWORD or ~/.pgpass for the password.',
      cause: e,
    });
  }
  return client;
}
