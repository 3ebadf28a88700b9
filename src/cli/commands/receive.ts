// `lychd-crypt receive --dir DIR [--pull | --pull-only]`: the restricted receiver, run by sshd as the
// forced command of one key (`command="lychd-crypt receive --dir DIR",restrict ssh-ed25519 …`). Its argv
// comes only from that line; the client's words only from SSH_ORIGINAL_COMMAND. Its stdout is the
// protocol (one JSON answer, or a header line and a stream): written here directly, never through the
// CLI's text output.
import { write } from 'node:fs';
import { Writable } from 'node:stream';
import { UsageError } from '../../base/errors.js';
import { serve } from '../../runtime/replicate/receiver/serve.js';
import type { ReceiverMode } from '../../runtime/replicate/receiver/request.js';
import type { CommandContext, CommandOutput } from '../frame/context.js';

const seconds = (v: unknown, flag: string, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} expects a whole number of seconds, got "${String(v)}"`);
  return n;
};

/** Writes all of `b` to `fd`, which sshd may have made non-blocking (EAGAIN: wait a moment and go on). */
function writeAll(fd: number, b: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const rest = (x: Buffer): void => {
      if (!x.length) return resolve();
      write(fd, x, (e, n) => {
        if (e && e.code === 'EAGAIN') setTimeout(() => rest(x), 2);
        else if (e) reject(e);
        else rest(x.subarray(n));
      });
    };
    rest(b);
  });
}

export async function runReceive(_args: string[], opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const dir = typeof opts.dir === 'string' ? opts.dir : '';
  if (!dir.startsWith('/')) throw new UsageError('receive needs --dir with an absolute path (the directory of this key\'s copies)');
  if (opts.pull && opts.pullOnly) throw new UsageError('--pull and --pull-only exclude each other');
  const mode: ReceiverMode = opts.pullOnly ? 'pull-only' : opts.pull ? 'pull' : 'push';
  // A login without a command (an interactive session) has no SSH_ORIGINAL_COMMAND: an empty request, refused.
  const request = ctx.env.SSH_ORIGINAL_COMMAND ?? (ctx.env.SSH_CONNECTION !== undefined ? '' : undefined);
  if (request === undefined) {
    throw new UsageError('receive runs as an ssh forced command: the request comes from SSH_ORIGINAL_COMMAND, which is not set', {
      hint: 'Install it with `lychd-crypt init --receiver DIR --authorize KEY` and let the sending host connect (`lychd-crypt receive --help`).',
    });
  }
  // The stream of a `send` goes to fd 1 as it is; this writer never closes it (the answer may follow).
  const stdout = new Writable({ write: (chunk: Buffer, _enc, done) => void writeAll(1, chunk).then(() => done(), done) });
  const r = await serve(
    request,
    { dir, mode, waitSeconds: seconds(opts.lockWait, '--lock-wait', 60), idleTimeoutMs: seconds(opts.idleTimeout, '--idle-timeout', 600) * 1000 },
    { stdin: process.stdin, stdout },
    ctx.runner,
  );
  // Whatever is left unread on stdin (a refused or failed transfer) is not waited for.
  process.stdin.destroy();
  if (r.answer) await writeAll(1, Buffer.from(`${JSON.stringify(r.answer)}\n`)).catch(() => {});
  if (r.message) ctx.log.info(r.message);
  return { json: r.answer, human: '', exitCode: r.exitCode };
}
