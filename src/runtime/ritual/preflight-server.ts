// Preflight checks against the running server, over the Ritual's own session: is it OUR cluster, and can
// it take a consistent online snapshot (full_page_writes, wal_level for backup mode, version)?
import { realpath } from 'node:fs/promises';
import type { SnapshotMode } from '../snapshots/meta.js';
import type { PreflightProblem } from './preflight-fs.js';
import type { ServerFacts } from './session.js';
import { exists } from '../../base/sys/fs.js';
import { readSystemIdentifierFromControlFile } from '../../base/pg/controldata.js';

export const MIN_VERSION_NUM = 100000;

export async function checkServer(facts: ServerFacts, pgdata: string, active: string, mode: SnapshotMode): Promise<PreflightProblem[]> {
  const problems: PreflightProblem[] = [];
  if (facts.versionNum < MIN_VERSION_NUM) {
    problems.push({ what: `PostgreSQL ${facts.versionNum} is too old (10 or newer is needed)`, fix: 'upgrade PostgreSQL, or snapshot with the server stopped (--mode cold)' });
    return problems;
  }
  const ours = await realpath(pgdata);
  const served = facts.dataDirectory === null ? null : await realpath(facts.dataDirectory).catch(() => null);
  if (served !== ours) {
    // A server in a container reports its own path for the data directory, and a role without
    // pg_read_all_settings cannot see it at all; the same cluster is then recognised by its system
    // identifier, read from our PGDATA's control file.
    const unseen = facts.dataDirectory === null || (served === null && !(await exists(facts.dataDirectory)));
    const sameCluster = unseen && (await readSystemIdentifierFromControlFile(pgdata)) === facts.systemIdentifier;
    if (!sameCluster) {
      problems.push({
        what: `the server at the configured connection serves ${facts.dataDirectory ?? `a cluster with system identifier ${facts.systemIdentifier}`}, not the crypt's PGDATA ${pgdata}`,
        fix: 'point postgres.connection in the crypt configuration at the server that runs on the crypt, or move its data directory into active/',
      });
      return problems;
    }
  }
  const user = 'the connection user';
  if (mode === 'bracket' && !facts.canBackup) {
    const fns = facts.versionNum >= 150000 ? ['pg_backup_start(text, boolean)', 'pg_backup_stop(boolean)'] : ['pg_start_backup(text, boolean, boolean)', 'pg_stop_backup(boolean, boolean)'];
    problems.push({
      what: `${user} may not start and stop a backup`,
      fix: `as a superuser: ${fns.map((f) => `GRANT EXECUTE ON FUNCTION ${f} TO <user>;`).join(' ')} (or connect as a superuser)`,
    });
  }
  if (mode === 'checkpoint' && !facts.canCheckpoint) {
    problems.push({
      what: `${user} may not run CHECKPOINT, which checkpoint mode relies on`,
      fix: facts.versionNum >= 150000 ? 'as a superuser: GRANT pg_checkpoint TO <user>; (or use the default bracket mode)' : 'connect as a superuser, or use the default bracket mode',
    });
  }
  if (!facts.fullPageWrites) {
    problems.push({
      what: 'full_page_writes is off: crash recovery of a snapshot could meet torn pages',
      fix: "set full_page_writes = on (ALTER SYSTEM SET full_page_writes = on; SELECT pg_reload_conf();)",
    });
  }
  if (mode === 'bracket' && facts.walLevel === 'minimal') {
    problems.push({
      what: 'wal_level is minimal: backup mode needs wal_level replica or logical',
      fix: 'set wal_level = replica in postgresql.conf and restart PostgreSQL, or use --mode checkpoint',
    });
  }
  const realActive = await realpath(active);
  for (const t of facts.tablespaces) {
    if (!t.location.startsWith('/')) continue; // in-place tablespace: inside PGDATA
    const loc = await realpath(t.location).catch(() => null);
    if (loc === null) continue; // not visible from here (a container): the pg_tblspc link check decides
    if (loc !== realActive && !loc.startsWith(`${realActive}/`)) {
      problems.push({
        what: `tablespace ${t.name} is at ${t.location}, outside active/: the snapshot would not contain it`,
        fix: `move its objects to pg_default (ALTER TABLE … SET TABLESPACE pg_default) and DROP TABLESPACE ${t.name}, or recreate it under ${active}`,
      });
    }
  }
  return problems;
}
