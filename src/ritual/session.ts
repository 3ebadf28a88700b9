// The Ritual's ONE dedicated PostgreSQL session: a plain pg.Client (never a pool, whose connections
// could change under us), autocommit (no transaction stays open), with timeouts that cannot cut it off
// between backup start and stop. Backup mode is tied to this session: if the session ends, the server
// aborts the backup by itself (https://www.postgresql.org/docs/current/continuous-archiving.html).
import type pg from 'pg';
import type { PostgresConfig } from '../config/config.js';
import { CryptError } from '../core/errors.js';
import { connectPostgres } from '../pg/connect.js';

/** CHECKPOINT on a big, busy server can take minutes; a stuck statement still ends eventually. */
export const STATEMENT_TIMEOUT = '30min';

export interface ServerFacts {
  versionNum: number;
  systemIdentifier: string;
  /** null when the role may not read it (not superuser, not pg_read_all_settings). */
  dataDirectory: string | null;
  fullPageWrites: boolean;
  walLevel: string;
  inRecovery: boolean;
  superuser: boolean;
  /** CHECKPOINT is allowed: superuser, or pg_checkpoint (PostgreSQL 15+). */
  canCheckpoint: boolean;
  /** May run the backup start/stop functions of this version. */
  canBackup: boolean;
  /** Tablespaces other than pg_default/pg_global, with pg_tablespace_location (relative for in-place ones). */
  tablespaces: { name: string; location: string }[];
}

export interface BackupStop {
  lsn: string;
  labelfile: string;
}

export class RitualSession {
  private lostError: Error | undefined;
  readonly notices: string[] = [];

  private constructor(
    private readonly client: pg.Client,
    onNotice: (msg: string) => void,
  ) {
    client.on('error', (e) => {
      this.lostError = e;
    });
    client.on('notice', (n) => {
      const msg = `${n.severity ?? 'NOTICE'}: ${n.message}`;
      this.notices.push(msg);
      onNotice(msg);
    });
  }

  static async open(conn: PostgresConfig['connection'], env: NodeJS.ProcessEnv, onNotice: (msg: string) => void): Promise<RitualSession> {
    // Only settings every supported version (10+) knows go in the startup packet; an unknown one is FATAL.
    const client = await connectPostgres(conn, {
      applicationName: 'lychd-crypt snapshot',
      env,
      settings: { statement_timeout: STATEMENT_TIMEOUT, idle_in_transaction_session_timeout: '0', lock_timeout: '0' },
    });
    const session = new RitualSession(client, onNotice);
    try {
      const v = Number((await session.query<{ v: string }>("select current_setting('server_version_num') as v"))[0]!.v);
      // idle_session_timeout exists from PostgreSQL 14 on; off, so a slow snapshot never loses the session.
      if (v >= 140000) await session.query('set idle_session_timeout = 0');
    } catch (e) {
      await session.close();
      throw e;
    }
    return session;
  }

  async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await this.client.query<T>(sql, params)).rows;
    } catch (e) {
      const lost = this.lostError ? ` (connection lost: ${this.lostError.message})` : '';
      throw new CryptError(`PostgreSQL: ${(e as Error).message}${lost} [${sql.split('\n')[0]}]`, { cause: e });
    }
  }

  async facts(): Promise<ServerFacts> {
    const [row] = await this.query<{ v: string; sysid: string; fpw: string; wal: string; rec: boolean; su: string }>(
      `select current_setting('server_version_num') as v,
              (select system_identifier::text from pg_control_system()) as sysid,
              current_setting('full_page_writes') as fpw,
              current_setting('wal_level') as wal,
              pg_is_in_recovery() as rec,
              current_setting('is_superuser') as su`,
    );
    const versionNum = Number(row!.v);
    const superuser = row!.su === 'on';
    // data_directory is readable only by superusers and pg_read_all_settings; without it the cluster is
    // identified by its system identifier instead (see preflight-server.ts).
    const dd = await this.client
      .query<{ dd: string }>("select current_setting('data_directory') as dd")
      .then((r) => r.rows[0]!.dd)
      .catch(() => null);
    const [priv] = await this.query<{ ckpt: boolean; backup: boolean }>(
      versionNum >= 150000
        ? `select pg_has_role(current_user, 'pg_checkpoint', 'MEMBER') as ckpt,
                  has_function_privilege('pg_backup_start(text, boolean)', 'execute')
                  and has_function_privilege('pg_backup_stop(boolean)', 'execute') as backup`
        : `select false as ckpt,
                  has_function_privilege('pg_start_backup(text, boolean, boolean)', 'execute')
                  and has_function_privilege('pg_stop_backup(boolean, boolean)', 'execute') as backup`,
    );
    const tablespaces = await this.query<{ name: string; location: string }>(
      `select spcname as name, pg_tablespace_location(oid) as location
         from pg_tablespace where spcname not in ('pg_default', 'pg_global') order by spcname`,
    );
    return {
      versionNum,
      systemIdentifier: row!.sysid,
      dataDirectory: dd,
      fullPageWrites: row!.fpw === 'on',
      walLevel: row!.wal,
      inRecovery: row!.rec,
      superuser,
      canCheckpoint: superuser || priv!.ckpt,
      canBackup: superuser || priv!.backup,
      tablespaces,
    };
  }

  async checkpoint(): Promise<void> {
    await this.query('checkpoint');
  }

  /** Non-exclusive backup mode with an immediate (fast) checkpoint; returns the start LSN. */
  async backupStart(versionNum: number, label: string): Promise<string> {
    const sql =
      versionNum >= 150000
        ? 'select pg_backup_start($1, true)::text as lsn'
        : 'select pg_start_backup($1, true, false)::text as lsn';
    return (await this.query<{ lsn: string }>(sql, [label]))[0]!.lsn;
  }

  /** Ends the non-exclusive backup without waiting for WAL archiving; returns the stop LSN and backup_label. */
  async backupStop(versionNum: number): Promise<BackupStop> {
    const sql =
      versionNum >= 150000
        ? 'select lsn::text as lsn, labelfile from pg_backup_stop(false)'
        : 'select lsn::text as lsn, labelfile from pg_stop_backup(false, false)';
    const [row] = await this.query<{ lsn: string; labelfile: string }>(sql);
    return { lsn: row!.lsn, labelfile: row!.labelfile };
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}
