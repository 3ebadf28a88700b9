// Facts about a stopped cluster (cold snapshots, rebuilt metadata, rollback's compatibility check): system
// identifier and state from pg_controldata, run as the cluster's OS user; the major version from PG_VERSION.
// Without pg_controldata — an embedded build has none, and a cluster in the owner's container has none on
// the host that could read it (PGDATA is the container's uid's; the PostgreSQL 18 package there may lack
// it too) — the two facts are read from global/pg_control itself, in the owner's user namespace when PGDATA
// is the container's (base/userns/tree.ts).
import { readFileSafely, readTextSafely } from '../sys/read-file.js';
import path from 'node:path';
import { constants } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import { asUser, type Runner } from '../runner.js';
import { nsOp } from '../userns/helper.js';
import { onTree, throughUserns } from '../userns/tree.js';
import { pgProgram, resolvePgBin } from './bin.js';

export interface ControlFacts {
  systemIdentifier: string;
  /** e.g. "shut down", "in production" (a crash), or null when it could not be read. */
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

/** DBState (pg_control.h), in pg_controldata's words. */
const DB_STATES = ['starting up', 'shut down', 'shut down in recovery', 'shutting down', 'in crash recovery', 'in archive recovery', 'in production'];

/**
 * The head of ControlFileData, in the machine's byte order: system_identifier (uint64) at 0,
 * pg_control_version (uint32) at 8, catalog_version_no at 12, state (DBState) at 16 — the same layout
 * since PostgreSQL 9 (pg_control_version 9xx to 18xx). The state is given only for a version in that span.
 */
export function parseControlHead(buf: Buffer): { systemIdentifier: string; clusterState: string | null } | null {
  if (buf.length < 8) return null;
  const systemIdentifier = buf.readBigUInt64LE(0).toString();
  if (buf.length < 20) return { systemIdentifier, clusterState: null };
  const version = buf.readUInt32LE(8);
  const state = buf.readInt32LE(16);
  return { systemIdentifier, clusterState: version >= 900 && version < 10000 ? (DB_STATES[state] ?? null) : null };
}

export interface ClusterHead {
  /** Entries in PGDATA; null when PGDATA does not exist. */
  entries: number | null;
  /** PG_VERSION's major, when it is there and a number. */
  major: number | null;
  hasVersion: boolean;
  /** global/pg_control exists (a cluster is there). */
  hasControl: boolean;
  control: { systemIdentifier: string; clusterState: string | null } | null;
}

/** The control file's head and PG_VERSION; PGDATA is the server user's: regular files only, never a link or a FIFO. */
export const clusterHeadOp = nsOp('cluster-head', async (_ctx, pgdata: string): Promise<ClusterHead> => {
  const entries = await readdir(pgdata).then((e) => e.length, () => null);
  const head = await readFileSafely(path.join(pgdata, 'global', 'pg_control'), { maxBytes: 20, part: 'head' }).catch(() => undefined);
  const text = await readTextSafely(path.join(pgdata, 'PG_VERSION'), { maxBytes: 64 }).catch(() => undefined);
  const n = Number.parseInt((text ?? '').trim(), 10);
  return { entries, major: Number.isInteger(n) ? n : null, hasVersion: text !== undefined, hasControl: head !== undefined, control: head ? parseControlHead(head) : null };
});

/** What PGDATA holds at its top, read where its owner can (base/userns/tree.ts). */
export const readClusterHead = (pgdata: string): Promise<ClusterHead> => onTree(pgdata, null, clusterHeadOp, pgdata);

export async function readSystemIdentifierFromControlFile(pgdata: string): Promise<string | null> {
  return (await readClusterHead(pgdata)).control?.systemIdentifier ?? null;
}

export async function readMajor(pgdata: string): Promise<number | null> {
  return (await readClusterHead(pgdata)).major;
}

/** Whether PGDATA holds a cluster (its control file exists). */
export async function hasCluster(pgdata: string): Promise<boolean> {
  return (await readClusterHead(pgdata)).hasControl;
}

export async function readControlFacts(
  runner: Runner,
  binDir: string | null,
  pgdata: string,
  owner: { uid: number; gid: number },
): Promise<ControlFacts> {
  const file = await readClusterHead(pgdata);
  const tool = binDir && !throughUserns(pgdata) ? pgProgram(binDir, 'pg_controldata') : null;
  if (tool && (await access(tool, constants.X_OK).then(() => true, () => false))) {
    const r = await runner.run(asUser(owner, [tool, '-D', pgdata]), { allowFailure: true });
    const parsed = parseControldata(r.stdout);
    if (parsed.systemIdentifier) return { systemIdentifier: parsed.systemIdentifier, clusterState: parsed.clusterState, major: file.major };
  }
  if (!file.control) throw new Error(`cannot read the system identifier of ${pgdata} (no pg_controldata, unreadable global/pg_control)`);
  return { ...file.control, major: file.major };
}

/**
 * What a stopped cluster needs of its WAL: its last checkpoint's REDO location and timeline (from there on the
 * WAL must be there), the system identifier, and the segment size where pg_controldata says it (null: read it
 * from a segment's header).
 */
export interface ControlWal {
  redoLsn: string;
  timeline: number;
  systemIdentifier: string;
  segSize: number | null;
}

export function parseControlWal(text: string): ControlWal | null {
  const field = (key: string): string | null => new RegExp(`^${key}:\\s*(.+)$`, 'm').exec(text)?.[1]?.trim() ?? null;
  const redo = field("Latest checkpoint's REDO location");
  const tli = field("Latest checkpoint's TimeLineID");
  const sysid = field('Database system identifier');
  const seg = field('Bytes per WAL segment');
  if (!redo || !tli || !sysid) return null;
  return { redoLsn: redo, timeline: Number(tli), systemIdentifier: sysid, segSize: seg ? Number(seg) : null };
}

/**
 * The same from global/pg_control itself (no pg_controldata: embedded builds): ControlFileData begins with
 * system_identifier (0), pg_control_version (8), …, time (24), checkPoint (32), then (11+: pg_control_version
 * 1100 on) checkPointCopy whose first fields are redo (40) and ThisTimeLineID (48); 10 has prevCheckPoint before it.
 */
export function parseControlWalFile(buf: Buffer): ControlWal | null {
  if (buf.length < 64) return null;
  const version = buf.readUInt32LE(8);
  const at = version >= 1100 ? 40 : 48;
  const redo = buf.readBigUInt64LE(at);
  const hex = (n: bigint) => n.toString(16).toUpperCase();
  return { redoLsn: `${hex(redo >> 32n)}/${hex(redo & 0xffffffffn)}`, timeline: buf.readUInt32LE(at + 8), systemIdentifier: buf.readBigUInt64LE(0).toString(), segSize: null };
}

export async function readControlWal(runner: Runner, binDir: string | null, pgdata: string, owner: { uid: number; gid: number }): Promise<ControlWal> {
  const bin = await resolvePgBin(binDir).catch(() => null);
  const tool = bin ? pgProgram(bin, 'pg_controldata') : null;
  if (tool && (await access(tool, constants.X_OK).then(() => true, () => false))) {
    const r = await runner.run(asUser(owner, [tool, '-D', pgdata]), { allowFailure: true });
    const parsed = parseControlWal(r.stdout);
    if (parsed) return parsed;
  }
  const buf = await readFileSafely(path.join(pgdata, 'global', 'pg_control'), { maxBytes: 8192 });
  const parsed = buf ? parseControlWalFile(buf) : null;
  if (!parsed) throw new Error(`cannot read where the last checkpoint's WAL of ${pgdata} begins (no pg_controldata, unreadable global/pg_control)`);
  return parsed;
}
