// pgdata.settings: PostgreSQL settings for WAL on a no-CoW PGDATA on Btrfs, PROPOSED and never changed here.
// wal_init_zero (zero-fill new WAL segments) and wal_recycle (rename old segments for reuse) exist from
// PostgreSQL 12 on; the PostgreSQL documentation offers turning them off for copy-on-write filesystems.
// The crypt's PGDATA is no-CoW, but every snapshot shares its WAL segments' extents, so the first rewrite
// of a recycled segment after a snapshot copies on write anyway. Against it: without zero-filling, the first
// writes into a new segment allocate blocks. The bench could not tell the two apart on a loaded machine
// (docs/performance.md, "The live database on the crypt"), so this is advice to measure, never a default.
import path from 'node:path';
import { connectPostgres } from '../base/pg/connect.js';
import { readPostmaster } from '../base/pg/postmaster.js';
import type { DoctorEnv } from './doctor-env.js';
import { advice, ok, type Check } from './findings.js';

export const PROPOSED_SETTINGS: Readonly<Record<string, string>> = { wal_init_zero: 'off', wal_recycle: 'off' };

/** The proposal for the settings the running server reports (name → setting); null when nothing to propose. */
export function proposeSettings(current: Record<string, string>): { finding: string; lines: string[] } | null {
  const differ = Object.entries(PROPOSED_SETTINGS).filter(([name, want]) => name in current && current[name] !== want);
  if (!differ.length) return null;
  const names = differ.map(([n]) => `${n} = ${current[n]}`).join(', ');
  return {
    finding: `PostgreSQL runs with ${names}; on Btrfs (whose snapshots share the WAL segments) turning ${differ.length > 1 ? 'them' : 'it'} off is proposed, not required — measure with your load before keeping it`,
    lines: [...differ.map(([n, v]) => `ALTER SYSTEM SET ${n} = ${v};`), 'SELECT pg_reload_conf();'],
  };
}

/** Asks the crypt's running server (if any; a stopped or unreachable one is not a finding here). */
export async function checkPgSettings(env: DoctorEnv): Promise<Check[]> {
  const id = 'pgdata.settings';
  const pg = env.config!.postgres!;
  // With the WAL outside the crypt (postgres.walDir) its segments are not on Btrfs: the advice is not for it.
  if (pg.walDir) return [ok(id, `the live WAL is outside the crypt (${pg.walDir}): no WAL settings to propose for Btrfs`)];
  const pm = await readPostmaster(path.join(env.paths.active, pg.dir)).catch(() => null);
  if (!pm?.running) return [];
  const client = await connectPostgres(pg, { applicationName: 'lychd-crypt doctor', connectTimeoutMs: 3000 }).catch(() => null);
  if (!client) return [];
  try {
    const rows = (await client.query<{ name: string; setting: string }>("select name, setting from pg_settings where name in ('wal_init_zero', 'wal_recycle')")).rows;
    const current = Object.fromEntries(rows.map((r) => [r.name, r.setting]));
    const p = proposeSettings(current);
    if (!p) return rows.length ? [ok(id, `PostgreSQL runs with ${rows.map((r) => `${r.name} = ${r.setting}`).join(', ')}`)] : [];
    return [advice(id, p.finding, `as a superuser, if you want it: ${p.lines.join(' ')}`)];
  } finally {
    await client.end().catch(() => {});
  }
}
