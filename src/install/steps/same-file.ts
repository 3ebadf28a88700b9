// Is a file there already exactly as a step would write it (content and mode)?
import { readFile, stat } from 'node:fs/promises';

export async function sameFile(p: string, content: string | Buffer, mode: number): Promise<boolean> {
  try {
    const [cur, st] = await Promise.all([readFile(p), stat(p)]);
    return cur.equals(Buffer.isBuffer(content) ? content : Buffer.from(content)) && (st.mode & 0o7777) === mode;
  } catch {
    return false;
  }
}
