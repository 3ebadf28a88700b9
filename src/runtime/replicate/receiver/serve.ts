// `lychd-crypt receive`, the forced command of a target's authorized_keys line: one request per ssh
// session (./request.ts), against one directory fixed in that line, under the directory's lock. It answers
// with one JSON document on stdout (or, for `send`, the header line and the stream) and an exit code that
// never collides with ssh's own 255: 0 done, 1 failed, 2 malformed request, 3 refused, 4 busy.
import type { Readable, Writable } from 'node:stream';
import { unanchor } from '../../../base/anchors.js';
import { BusyError, CryptError, ExitCode, RefusedError, UsageError } from '../../../base/errors.js';
import type { Runner } from '../../../base/runner.js';
import { VERSION } from '../../../base/version.js';
import { MAX_HEADER_BYTES } from '../stream/header.js';
import { readFirstLine } from '../stream/wire.js';
import { zstdThrough } from '../stream/zstd.js';
import { deleteCopy, listCopies, sendCopy } from './copies.js';
import { prepareReceive, receiveInto } from './receive.js';
import { parseRequest, type ReceiverMode } from './request.js';
import { closeStore, freeBytes, openStore, readBinding, withStoreLock } from './store.js';

export const RECEIVER_PROTOCOL = 1;

export interface ServeOptions {
  dir: string;
  mode: ReceiverMode;
  waitSeconds: number;
  idleTimeoutMs: number;
}

export interface ServeResult {
  exitCode: number;
  /** The JSON answer; null when the answer was the stream itself (send). */
  answer: Record<string, unknown> | null;
  /** For stderr: "receive: refused: …" and the like. */
  message: string | null;
}

const failure = (exitCode: number, message: string, refused = false): ServeResult => ({
  exitCode,
  answer: { ok: false, ...(refused ? { refused: true } : {}), message },
  message: `receive: ${refused ? 'refused: ' : ''}${message}`,
});

export async function serve(text: string | undefined, opts: ServeOptions, io: { stdin: Readable; stdout: Writable }, runner: Runner): Promise<ServeResult> {
  const req = parseRequest(text, opts.mode);
  if ('refused' in req) return failure(ExitCode.refused, req.refused, true);
  if ('malformed' in req) return failure(ExitCode.usage, req.malformed);
  if (process.getuid?.() !== 0) return failure(ExitCode.failed, 'the receiver must run as root (btrfs receive and send need it): the key belongs in root\'s authorized_keys');
  try {
    const store = await openStore(opts.dir);
    try {
      return await withStoreLock(store, opts.waitSeconds, async (): Promise<ServeResult> => {
        switch (req.verb) {
          case 'list': {
            const { copies, cleaned } = await listCopies(store, runner);
            return {
              exitCode: 0,
              message: null,
              answer: { ok: true, protocol: RECEIVER_PROTOCOL, toolVersion: VERSION, fsUuid: store.fsUuid, freeBytes: freeBytes(store), origin: await readBinding(store), copies: copies.map((c) => c.sidecar), cleaned },
            };
          }
          case 'receive': {
            const { line, rest } = await readFirstLine(io.stdin, MAX_HEADER_BYTES);
            const header = await (await import('../stream/header-schema.js')).parseHeaderText(line).catch((e: Error) => {
              throw new RefusedError(e.message);
            });
            const want = { name: req.name, origin: req.origin, parent: req.parent };
            const cleaned = await prepareReceive(store, runner, want, header);
            // After the header line the stream comes zstd-compressed; a damaged or cut one ends early, which the gate sees.
            const z = await zstdThrough(runner, rest, 'decompress');
            try {
              const r = await receiveInto(store, runner, want, header, z.output, { idleTimeoutMs: opts.idleTimeoutMs });
              return { exitCode: 0, message: null, answer: { ok: true, name: r.name, originUuid: r.originUuid, bytes: r.bytes, ctransid: r.ctransid, cleaned } };
            } finally {
              z.kill();
            }
          }
          case 'delete':
            await deleteCopy(store, runner, req.name, req.origin);
            return { exitCode: 0, message: null, answer: { ok: true, deleted: req.name } };
          case 'send':
            await sendCopy(store, runner, req.name, req.origin, req.parent, io.stdout, { compress: true });
            return { exitCode: 0, message: null, answer: null };
        }
      });
    } finally {
      await closeStore(store);
    }
  } catch (e) {
    const message = unanchor((e as Error).message.split('\n')[0]!);
    if (e instanceof BusyError) return failure(ExitCode.busy, message);
    if (e instanceof RefusedError) return failure(ExitCode.refused, message, true);
    if (e instanceof UsageError) return failure(ExitCode.usage, message);
    return failure(ExitCode.failed, e instanceof CryptError ? message : `unexpected: ${message}`);
  }
}
