// The metadata that travels with a snapshot to every target (one JSON line before the stream over ssh, the
// sidecar NAME.json beside a received copy or a stream file): the crypt's own SnapshotMeta, the origin
// UUIDs that identify the copy on every side, where it came from, and the ids its files carry (a restore on
// another host maps them). Data only: parsed with a strict, size-limited schema (./header-schema.ts) on every
// side, never executed.
import os from 'node:os';
import type { Profile } from '../../../model/config.js';
import type { SnapshotMeta } from '../../../model/snapshot-meta.js';
import type { OpenCrypt } from '../../../base/crypt/open.js';
import { VERSION } from '../../../base/version.js';

/** A header is a few KiB (the backup label included); anything larger is refused unread. */
export const MAX_HEADER_BYTES = 256 * 1024;

export interface Ids {
  user: string;
  uid: number;
  gid: number;
}

export interface CopyHeader {
  format: 1;
  snapshot: SnapshotMeta;
  /** uuid: the origin UUID (btrfs received UUID, else UUID) of the snapshot; parentUuid: of the stream's parent. */
  origin: { uuid: string; parentUuid: string | null; ctransid: number };
  from: { host: string; crypt: string; fsUuid: string; profile: Profile; toolVersion: string };
  ids: { owner: Ids; postgres: Ids | null };
  sentAt: string;
  estimatedBytes: number | null;
}

/** On a Btrfs target: what the receiver found right after receiving (ctransid: a later change shows). */
export interface ReceivedFacts {
  at: string;
  uuid: string;
  ctransid: number;
  bytes: number;
}

/** On a file:// target: the stream file and where it sits in its chain (index 0: a full stream). */
export interface StreamFacts {
  file: string;
  bytes: number;
  sha256: string;
  rawBytes: number;
  compression: 'zstd';
}

export interface Sidecar extends CopyHeader {
  received?: ReceivedFacts;
  stream?: StreamFacts;
  chain?: { full: string; index: number };
}

export function buildHeader(crypt: OpenCrypt, meta: SnapshotMeta, origin: CopyHeader['origin'], estimatedBytes: number | null): CopyHeader {
  const { config, entry } = crypt;
  const pg = config.postgres;
  return {
    format: 1,
    snapshot: meta,
    origin,
    from: { host: os.hostname(), crypt: config.crypt.name, fsUuid: entry.identity.fsUuid, profile: config.profile, toolVersion: VERSION },
    ids: {
      owner: { user: config.crypt.user, uid: config.crypt.uid, gid: config.crypt.gid },
      postgres: pg ? { user: pg.osUser, uid: pg.uid, gid: pg.gid } : null,
    },
    sentAt: new Date().toISOString(),
    estimatedBytes,
  };
}

/** The header as it was sent (a sidecar without what the target added): what a restore receives with the stream. */
export function headerOf(s: Sidecar): CopyHeader {
  const { received: _r, stream: _s, chain: _c, ...header } = s;
  return header;
}
