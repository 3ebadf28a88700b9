// Reading a `btrfs send` stream as it passes, without receiving it: what it makes (its first command,
// SUBVOL or SNAPSHOT, with the UUIDs), which subvolumes it clones from (every CLONE command), where it ends
// (END), and how much data a `--no-data` stream announces (UPDATE_EXTENT). The receiver needs this because
// `btrfs receive` looks a parent or clone source up on the whole filesystem, by UUID, even with -C: a
// stream naming another tenant's copy would clone its data (docs/replicate.md, "The stream gate").
//
// Format (btrfs-progs send.h): "btrfs-stream\0", le32 version; then commands {le32 len, le16 cmd, le32 crc,
// len bytes of TLVs {le16 type, le16 len, data}}. Version 2's data of a WRITE/ENCODED_WRITE runs to the end of
// its command without a length, which is why only the small commands below are ever parsed.
import { Transform, type TransformCallback } from 'node:stream';

const MAGIC = Buffer.from('btrfs-stream\0', 'latin1');
const HEADER_BYTES = MAGIC.length + 4;
const CMD_HEADER_BYTES = 10;

export const SEND_CMD = { SUBVOL: 1, SNAPSHOT: 2, CLONE: 16, END: 21, UPDATE_EXTENT: 22 } as const;
const ATTR = { UUID: 1, CTRANSID: 2, SIZE: 4, PATH: 15, CLONE_UUID: 20, CLONE_CTRANSID: 21 } as const;
/** The commands whose attributes are read (all small); every other command's body is skipped. */
const PARSED = new Set<number>([SEND_CMD.SUBVOL, SEND_CMD.SNAPSHOT, SEND_CMD.CLONE, SEND_CMD.UPDATE_EXTENT]);
/** A parsed command's body is a few attributes; anything larger is not a stream btrfs made. */
const MAX_PARSED_BODY = 64 * 1024;

export interface StreamCommand {
  cmd: number;
  path?: string;
  uuid?: string;
  ctransid?: number;
  cloneUuid?: string;
  cloneCtransid?: number;
  size?: number;
}

export class StreamFormatError extends Error {}

const uuidText = (b: Buffer): string => {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

function parseBody(cmd: number, body: Buffer): StreamCommand {
  const out: StreamCommand = { cmd };
  for (let at = 0; at + 4 <= body.length; ) {
    const type = body.readUInt16LE(at);
    const len = body.readUInt16LE(at + 2);
    const data = body.subarray(at + 4, at + 4 + len);
    if (data.length !== len) throw new StreamFormatError(`attribute ${type} of command ${cmd} runs past its command`);
    at += 4 + len;
    if (type === ATTR.PATH) out.path = data.toString('utf8');
    else if (type === ATTR.UUID && len === 16) out.uuid = uuidText(data);
    else if (type === ATTR.CLONE_UUID && len === 16) out.cloneUuid = uuidText(data);
    else if (type === ATTR.CTRANSID && len === 8) out.ctransid = Number(data.readBigUInt64LE(0));
    else if (type === ATTR.CLONE_CTRANSID && len === 8) out.cloneCtransid = Number(data.readBigUInt64LE(0));
    else if (type === ATTR.SIZE && len === 8) out.size = Number(data.readBigUInt64LE(0));
  }
  return out;
}

/**
 * An incremental parser: feed it the stream's bytes in any chunks; it calls `onCommand` for every command
 * (the small ones with their attributes, the others with `cmd` alone) and knows when END was seen.
 */
export class StreamParser {
  version: number | null = null;
  ended = false;
  /** Bytes after END (a second stream, or garbage). */
  trailing = 0;
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes of the current command's body still to skip (not parsed). */
  private skip = 0;

  constructor(private readonly onCommand: (c: StreamCommand) => void) {}

  push(chunk: Buffer): void {
    let buf = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    for (;;) {
      if (this.ended) {
        this.trailing += buf.length;
        return;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, buf.length);
        this.skip -= n;
        buf = buf.subarray(n);
        if (this.skip > 0) return;
      }
      if (this.version === null) {
        if (buf.length < HEADER_BYTES) break;
        if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new StreamFormatError('not a btrfs send stream (no btrfs-stream header)');
        this.version = buf.readUInt32LE(MAGIC.length);
        if (this.version < 1 || this.version > 3) throw new StreamFormatError(`send stream version ${this.version} is not one this tool reads`);
        buf = buf.subarray(HEADER_BYTES);
        continue;
      }
      if (buf.length < CMD_HEADER_BYTES) break;
      const len = buf.readUInt32LE(0);
      const cmd = buf.readUInt16LE(4);
      if (!PARSED.has(cmd)) {
        buf = buf.subarray(CMD_HEADER_BYTES);
        this.skip = len;
        if (cmd === SEND_CMD.END) {
          if (len !== 0) throw new StreamFormatError('an END command with a body');
          this.ended = true;
        }
        this.onCommand({ cmd });
        continue;
      }
      if (len > MAX_PARSED_BODY) throw new StreamFormatError(`command ${cmd} claims ${len} bytes`);
      if (buf.length < CMD_HEADER_BYTES + len) break;
      this.onCommand(parseBody(cmd, buf.subarray(CMD_HEADER_BYTES, CMD_HEADER_BYTES + len)));
      buf = buf.subarray(CMD_HEADER_BYTES + len);
    }
    this.pending = Buffer.from(buf);
  }
}

/** What a stream is allowed to be: it makes `name` with origin UUID `uuid`, from `parent` (null: a full stream). */
export interface StreamExpectation {
  name: string;
  uuid: string;
  parent: string | null;
}

export class StreamRefused extends Error {}

/** Why the first command is not the one announced, or null. */
export function checkFirstCommand(c: StreamCommand, want: StreamExpectation): string | null {
  if (want.parent === null) {
    if (c.cmd !== SEND_CMD.SUBVOL) return c.cmd === SEND_CMD.SNAPSHOT ? `an incremental stream (parent ${c.cloneUuid}) was announced as a full one` : `the stream does not start by making a subvolume (command ${c.cmd})`;
  } else if (c.cmd !== SEND_CMD.SNAPSHOT) {
    return c.cmd === SEND_CMD.SUBVOL ? 'a full stream was announced as an incremental one' : `the stream does not start by making a snapshot (command ${c.cmd})`;
  } else if (c.cloneUuid !== want.parent) {
    return `the stream's parent is ${c.cloneUuid ?? '(none)'}, not the announced ${want.parent}`;
  }
  if (c.path !== want.name) return `the stream makes ${JSON.stringify(c.path ?? '')}, not the announced ${want.name}`;
  if (c.uuid !== want.uuid) return `the stream's UUID is ${c.uuid ?? '(none)'}, not the announced ${want.uuid}`;
  return null;
}

/**
 * A pass-through that refuses (errors with StreamRefused) a stream that is not the announced one: its first
 * command, every CLONE's source (the snapshot itself or its parent only), nothing after END. `complete`
 * says whether END went through.
 */
export class StreamGate extends Transform {
  private first = true;
  private readonly parser: StreamParser;
  private refusal: string | null = null;

  constructor(private readonly want: StreamExpectation) {
    super();
    this.parser = new StreamParser((c) => this.check(c));
  }

  get complete(): boolean {
    return this.parser.ended;
  }

  private check(c: StreamCommand): void {
    if (this.refusal) return;
    if (this.first) {
      this.first = false;
      this.refusal = checkFirstCommand(c, this.want);
    } else if (c.cmd === SEND_CMD.SUBVOL || c.cmd === SEND_CMD.SNAPSHOT) {
      this.refusal = 'the stream makes a second subvolume';
    } else if (c.cmd === SEND_CMD.CLONE && c.cloneUuid !== this.want.uuid && c.cloneUuid !== this.want.parent) {
      this.refusal = `the stream clones from ${c.cloneUuid ?? '(none)'}, which is neither the snapshot nor its parent`;
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.parser.push(chunk);
    } catch (e) {
      done(new StreamRefused((e as Error).message));
      return;
    }
    if (this.parser.trailing > 0 && !this.refusal) this.refusal = 'there is data after the end of the stream';
    if (this.refusal) {
      done(new StreamRefused(this.refusal));
      return;
    }
    done(null, chunk);
  }
}

/** The first command of a stream file's first bytes (a sidecar is checked against its stream with it). */
export function streamHead(bytes: Buffer): StreamCommand | null {
  let first: StreamCommand | null = null;
  const p = new StreamParser((c) => (first ??= c));
  try {
    p.push(bytes);
  } catch {
    return null;
  }
  return first;
}

/** The data a `btrfs send --no-data` stream would have carried: the sum of its UPDATE_EXTENT sizes. */
export class ExtentCounter {
  bytes = 0;
  private readonly parser = new StreamParser((c) => {
    if (c.cmd === SEND_CMD.UPDATE_EXTENT) this.bytes += c.size ?? 0;
  });
  push(chunk: Buffer): void {
    this.parser.push(chunk);
  }
}
