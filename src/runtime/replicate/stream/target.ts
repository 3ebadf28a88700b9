// What every kind of target offers the sending and restoring side (one module per kind behind this in
// ./targets/): an inventory of the complete copies it holds (leftovers of an interrupted transfer removed
// first, never listed), receiving one stream, removing one copy, and giving one back for a restore.
import type { Readable } from 'node:stream';
import type { TargetKind } from '../../../model/replicate.js';
import type { CopyHeader, Sidecar } from './header.js';

/** One complete copy on a target. */
export interface Copy {
  name: string;
  originUuid: string;
  /** The origin UUID of the snapshot its stream was made against (null: a full stream / received full). */
  parentOriginUuid: string | null;
  createdAt: string;
  pinned: boolean;
  preRollback: boolean;
  /** Bytes it took to send (btrfs targets) or the stream file's size (file://). */
  bytes: number | null;
  sidecar: Sidecar;
}

/** A file:// copy that cannot be restored: its stream or a link of its chain is missing or damaged. */
export interface BrokenCopy {
  name: string;
  originUuid: string;
  createdAt: string;
  why: string;
}

export interface Inventory {
  copies: Copy[];
  /** file:// only: copies whose chain is broken (not in `copies`). */
  broken: BrokenCopy[];
  /** file:// only: incrementals since the last full, per copy name. */
  chainIndex: Record<string, number>;
  /** Leftovers removed before answering (names). */
  cleaned: string[];
  freeBytes: number | null;
}

/** One snapshot to send: the header and what the stream must be. */
export interface SendJob {
  name: string;
  originUuid: string;
  parentOriginUuid: string | null;
  /** file:// only: the chain position this stream takes. */
  chain?: { full: string; index: number };
  header: CopyHeader;
}

export interface Received {
  name: string;
  originUuid: string;
  /** What left this host for it: the compressed bytes over ssh or in a stream file, the stream's bytes to a path target. */
  bytes: number;
  /** The btrfs send stream's own size (set by the sender, which counts it). */
  rawBytes?: number;
}

/** A stream from a target (restore), with its header; `done` settles when the far side finished sending. */
export interface OpenedCopy {
  header: CopyHeader;
  stream: Readable;
  done: Promise<void>;
  /** Stops the far side (a failure on this side). */
  abort(): void;
}

export interface ReplicaTarget {
  readonly kind: TargetKind;
  /** The URL as people read it. */
  readonly shown: string;
  inventory(opts?: { verify?: boolean }): Promise<Inventory>;
  /** Receives one stream; `stream` carries exactly the bytes of `btrfs send` (already metered). */
  receive(job: SendJob, stream: Readable): Promise<Received>;
  remove(copy: Copy): Promise<void>;
  /** file:// only: removes a copy whose chain is broken (by name). */
  removeBroken?(name: string): Promise<void>;
  open(copy: Copy, parent: Copy | null): Promise<OpenedCopy>;
  close(): Promise<void>;
}
