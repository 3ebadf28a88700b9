// The ssh receiver's byte protocol, both ends: a request's input or output is one header line (JSON, at
// most MAX_HEADER_BYTES) followed by the raw btrfs stream; its answer is one JSON document on stdout.
import type { Readable } from 'node:stream';

/** Reads `input` up to its first newline and leaves the rest in it (unshifted) for whoever pipes it next. */
export function readFirstLine(input: Readable, max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = (): void => {
      input.off('readable', onReadable);
      input.off('end', onEnd);
      input.off('error', onError);
    };
    function onReadable(): void {
      for (let chunk: Buffer | null; (chunk = input.read() as Buffer | null) !== null; ) {
        buf = Buffer.concat([buf, chunk]);
        const nl = buf.indexOf(10);
        if (nl >= 0) {
          cleanup();
          const rest = buf.subarray(nl + 1);
          if (rest.length) input.unshift(rest);
          resolve(buf.subarray(0, nl).toString('utf8'));
          return;
        }
        if (buf.length > max) {
          cleanup();
          reject(new Error(`the header line is longer than ${max} bytes`));
          return;
        }
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
    input.on('readable', onReadable);
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
