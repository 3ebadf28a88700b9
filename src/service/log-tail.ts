// The last lines of the server log pg_ctl writes, for messages that must explain why PostgreSQL did not
// start or crashed (a PANIC on a full crypt is only explained there).
import { open } from 'node:fs/promises';

/** Up to `lines` last lines, reading at most the last 64 KiB; '' when there is no log. */
export async function readLogTail(file: string, lines = 20): Promise<string> {
  const fh = await open(file, 'r').catch(() => null);
  if (!fh) return '';
  try {
    const { size } = await fh.stat();
    const len = Math.min(size, 64 * 1024);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    return buf.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } finally {
    await fh.close();
  }
}
