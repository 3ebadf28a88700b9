// Facts about a stopped cluster (cold snapshots): system identifier and state from pg_controldata, run as
// the cluster's OS user; the major version from PG_VERSION.
import { readFileSafely, readTextSafely } from '../sys/read-file.js';
import path from 'node:path';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { asUser, type Runner } from '../runner.js';
import { pgProgram } from './bin.js';

export interface ControlFacts {
  systemIdentifier: string;
  /** e.g. "shut down", "in production" (a crash), or null when pg_controldata was not available. */
  clusterState: string | null;
  major: number | null;
}

export function parseControldata(text: string): { systemIdentifier: string | null; clusterState: string | null } {
  const field = (key: string): string | null => {
    const m = new RegExp(`^${key}:\\s*(.+)$`, 'm').exec(text);
    return m ? m[1]!.trim() : null;
  };
  return { systemIdentifier: field('Database system identifier'), clusterState: field('Database cluster state') };
}

/**
 * The control file starts with the 64-bit system identifier (ControlFileData.system_identifier), in the
 * machine's byte order; used when pg_controldata is not installed next to pg_ctl (embedded builds).
 */
export async function readSystemIdentifierFromControlFile(pgdata: string): Promise<string | null> {
  // PGDATA is the server user's: a regular file only, never a link or a FIFO (src/base/sys/read-file.ts).
  const buf = await readFileSafely(path.join(pgdata, 'global', 'pg_control'), { maxBytes: 8, part: 'head' }).catch(() => undefined);
  return buf?.length === 8 ? buf.readBigUInt64LE(0).toString() : null;
}

export async function readMajor(pgdata: string): Promise<number | null> {
  const text = (await readTextSafely(path.join(pgdata, 'PG_VERSION'), { maxBytes: 64 }).catch(() => undefined)) ?? '';
  const n = Number.parseInt(text.trim(), 10);
  return Number.isInteger(n) ? n : null;
}

export async function readControlFacts(
  runner: Runner,
  binDir: string | null,
  pgdata: string,
  owner: { uid: number; gid: number },
): Promise<ControlFacts> {
  const major = await readMajor(pgdata);
  const tool = binDir ? pgProgram(binDir, 'pg_controldata') : null;
  if (tool && (await access(tool, constants.X_OK).then(() => true, () => false))) {
    const r = await runner.run(asUser(owner, [tool, '-D', pgdata]), { allowFailure: true });
    const parsed = parseControldata(r.stdout);
    if (parsed.systemIdentifier) return { systemIdentifier: parsed.systemIdentifier, clusterState: parsed.clusterState, major };
  }
  const sysid = await readSystemIdentifierFromControlFile(pgdata);
  if (!sysid) throw new Error(`cannot read the system identifier of ${pgdata} (no pg_controldata, unreadable global/pg_control)`);
  return { systemIdentifier: sysid, clusterState: null, major };
}
