// The Ritual's ONE dedicated PostgreSQL session: a plain pg.Client (never a pool, whose connections
// could change under us), autocommit (no transaction stays open), with timeouts that cannot cut it off
// between backup start and stop. Backup mode is tied to this session: if the session ends, the server
// aborts the backup by itself (https://www.postgresql.org/docs/current/continuous-archiving.html).
import type pg from 'pg';
import { CryptError } from '../../base/errors.js';
import { connectPostgres, type ConnectTarget } from '../../base/pg/connect.js';

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
  /** tablespace_map's content ('' without tablespaces). */
  spcmapfile?: string;
}

interface FactsRow {
  v: string;
  sysid: string;
  fpw: string;
  wal: string;
  rec: boolean;
  su: string;
  dd: string | null;
  ckpt: boolean;
  backup: boolean;
  ts: { name: string; location: string }[];
}

/**
 * Every fact preflight needs, in ONE statement (one round trip instead of six). It also switches
 * idle_session_timeout (PostgreSQL 14+) off, so a slow snapshot never loses the session. Each
 * version- or privilege-dependent part sits in a CASE branch that runs only where it cannot fail:
 * data_directory is readable only by superusers and pg_read_all_settings (null otherwise; the cluster is
 * then identified by its system identifier, see preflight-server.ts); pg_checkpoint exists from 15 on;
 * the backup functions were renamed in 15.
 */
export const FACTS_SQL = `select current_setting('server_version_num') as v,
       case when current_setting('server_version_num')::int >= 140000
            then set_config('idle_session_timeout', '0', false) end as ist,
       (select system_identifier::text from pg_control_system()) as sysid,
       current_setting('full_page_writes') as fpw,
       current_setting('wal_level') as wal,
       pg_is_in_recovery() as rec,
       current_setting('is_superuser') as su,
       case when current_setting('is_superuser') = 'on' or pg_has_role(current_user, 'pg_read_all_settings', 'USAGE')
            then current_setting('data_directory') end as dd,
       case when to_regrole('pg_checkpoint') is not null
            then pg_has_role(current_user, 'pg_checkpoint', 'MEMBER') else false end as ckpt,
       case when to_regprocedure('pg_backup_start(text, boolean)') is not null
            then has_function_privilege('pg_backup_start(text, boolean)', 'execute')
                 and has_function_privilege('pg_backup_stop(boolean)', 'execute')
            else has_function_privilege('pg_start_backup(text, boolean, boolean)', 'execute')
                 and has_function_privilege('pg_stop_backup(boolean, boolean)', 'execute') end as backup,
       (select coalesce(json_agg(json_build_object('name', spcname, 'location', pg_tablespace_location(oid)) order by spcname), '[]'::json)
          from pg_tablespace where spcname not in ('pg_default', 'pg_global')) as ts`;

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

  static async open(target: ConnectTarget, env: NodeJS.ProcessEnv, onNotice: (msg: string) => void): Promise<RitualSession> {
    // Only settings every supported version (10+) knows go in the startup packet; an unknown one is FATAL.
    const client = await connectPostgres(target, {
      applicationName: 'lychd-crypt snapshot',
      env,
      settings: { statement_timeout: STATEMENT_TIMEOUT, idle_in_transaction_session_timeout: '0', lock_timeout: '0' },
    });
    // No query here: preflight's one facts() statement also switches idle_session_timeout off.
    return new RitualSession(client, onNotice);
  }

  private cachedFacts: ServerFacts | undefined;

  async query<T extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<T[]> {
    try {
      return (await this.client.query<T>(sql, params)).rows;
    } catch (e) {
      const lost = this.lostError ? ` (connection lost: ${this.lostError.message})` : '';
      throw new CryptError(`PostgreSQL: ${(e as Error).message}${lost} [${sql.split('\n')[0]}]`, { cause: e });
    }
  }

  /** The facts preflight needs, in one round trip; read once per session. */
  async facts(): Promise<ServerFacts> {
    return this.cachedFacts ?? (this.cachedFacts = await this.readFacts());
  }

  private async readFacts(): Promise<ServerFacts> {
    const [row] = await this.query<FactsRow>(FACTS_SQL);
    const r = row!;
    const versionNum = Number(r.v);
    const superuser = r.su === 'on';
    return {
      versionNum,
      systemIdentifier: r.sysid,
      dataDirectory: r.dd,
      fullPageWrites: r.fpw === 'on',
      walLevel: r.wal,
      inRecovery: r.rec,
      superuser,
      canCheckpoint: superuser || r.ckpt,
      canBackup: superuser || r.backup,
      tablespaces: r.ts,
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
        ? 'select lsn::text as lsn, labelfile, spcmapfile from pg_backup_stop(false)'
        : 'select lsn::text as lsn, labelfile, spcmapfile from pg_stop_backup(false, false)';
    const [row] = await this.query<{ lsn: string; labelfile: string; spcmapfile: string | null }>(sql);
    return { lsn: row!.lsn, labelfile: row!.labelfile, spcmapfile: row!.spcmapfile ?? '' };
  }

  /** wal_segment_size in bytes. */
  async walSegmentSize(): Promise<number> {
    return Number((await this.query<{ s: string }>("select setting as s from pg_settings where name = 'wal_segment_size'"))[0]!.s);
  }

  /**
   * Holds the WAL from the last checkpoint on with a temporary physical replication slot of this session
   * (the server drops it when the session ends, also when we die): backup mode itself holds nothing, and a
   * busy server may remove the backup's first segment before it is copied. Needs superuser or REPLICATION
   * and a free slot; false (with the reason) when it cannot be had.
   */
  async holdWal(name: string): Promise<true | string> {
    try {
      await this.query('select pg_create_physical_replication_slot($1, true, true)', [name]);
      return true;
    } catch (e) {
      return (e as Error).message;
    }
  }

  async releaseWal(name: string): Promise<void> {
    await this.query('select pg_drop_replication_slot($1)', [name]);
  }

  async close(): Promise<void> {
    await this.client.end().catch(() => {});
  }
}
