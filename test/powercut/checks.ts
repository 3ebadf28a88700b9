// Checks shared by the power-cut tests, run on each replayed state after `repair`.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ids } from '../helpers/host.js';
import type { TestServer } from '../helpers/pg.js';

/** What an interrupted operation may leave and repair must remove: staging copies and the journal. */
export function leftovers(crypt: string, journal: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(crypt)) if (n.startsWith('.staging-')) out.push(n);
  for (const n of readdirSync(path.join(crypt, 'active'))) if (n.startsWith('.lychd-nocow-')) out.push(`active/${n}`);
  if (existsSync(journal)) out.push(journal);
  return out;
}

function asPostgres(argv: string[]): string {
  const { uid, gid } = ids('postgres');
  return execFileSync('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--', ...argv], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LC_ALL: 'C' },
    cwd: '/',
  });
}

/**
 * Starts the server (unless repair already did), runs `rows` (null: the data is right, else what is
 * wrong), runs pg_amcheck over every relation, and stops it again. Returns what went wrong, or null.
 */
export async function checkDatabase(server: TestServer, rows: () => Promise<string | null>): Promise<string | null> {
  try {
    if (!server.isRunning()) server.start();
  } catch (e) {
    // Its own words: the last lines of its log.
    const log = existsSync(server.logFile) ? readFileSync(server.logFile, 'utf8').trim().split('\n').slice(-8).join('\n') : '(no log)';
    return `PostgreSQL did not start: ${(e as { stderr?: string }).stderr ?? String(e)}${log}`;
  }
  try {
    const wrong = await rows();
    if (wrong) return `data: ${wrong}`;
    const [r] = await server.query<{ inRecovery: boolean }>('SELECT pg_is_in_recovery() AS "inRecovery"');
    if (r?.inRecovery !== false) return 'PostgreSQL is still in recovery';
    try {
      asPostgres([path.join(server.bin, 'pg_amcheck'), '--install-missing', '-h', server.socketDir, '-p', String(server.port), '-U', 'postgres', '--all']);
    } catch (e) {
      return `pg_amcheck: ${(e as { stdout?: string }).stdout ?? ''}${(e as { stderr?: string }).stderr ?? String(e)}`;
    }
    return null;
  } finally {
    server.stop();
  }
}
