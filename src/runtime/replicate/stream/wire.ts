// The ssh receiver's byte protocol, both ends: a request's input or output is one header line (JSON, at
// most MAX_HEADER_BYTES) followed by the raw btrfs stream; its answer is one JSON document on stdout.
import { PassThrough, type Readable } from 'node:stream';

/**
 * Reads `input` up to its first newline: the line, and `rest`, a stream of everything after it (the bytes
 * read past the newline first, then the rest of `input`).
 */
export function readFirstLine(input: Readable, max: number): Promise<{ line: string; rest: Readable }> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    const cleanup = (): void => {
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
    };
    function onData(chunk: Buffer): void {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      const nl = buf.indexOf(10);
      if (nl >= 0) {
        input.pause();
        cleanup();
        const rest = new PassThrough();
        if (nl + 1 < buf.length) rest.write(buf.subarray(nl + 1));
        input.once('error', (e) => rest.destroy(e));
        input.pipe(rest);
        resolve({ line: buf.subarray(0, nl).toString('utf8'), rest });
      } else if (buf.length > max) {
        input.pause();
        cleanup();
        reject(new Error(`the header line is longer than ${max} bytes`));
      }
    }
    function onEnd(): void {
      cleanup();
      reject(new Error(buf.length ? 'the input ended inside its header line' : 'the input ended before its header line'));
    }
    function onError(e: Error): void {
      cleanup();
      reject(e);
    }
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
  });
}

/** A target's answer, read back on the sending side: one JSON object (at most `max` bytes). */
export function parseAnswer(text: string): Record<string, unknown> {
  const t = text.trim();
  const data: unknown = JSON.parse(t);
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new Error('the answer is not a JSON object');
  return data as Record<string, unknown>;
}

/** Everything `input` yields, as text (at most `max` bytes; more is an error). */
export function collectText(input: Readable, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    input.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        input.destroy(new Error(`the answer is longer than ${max} bytes`));
        return;
      }
      chunks.push(c);
    });
    input.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    input.once('error', reject);
  });
}
