// Random identifiers (journal ids, temporary file names) from /dev/urandom. node:crypto would do it too,
// but importing it costs every runtime start ~7 ms (Node compiles its twenty internal crypto modules):
// these need unpredictable bytes, nothing else crypto offers.
import { closeSync, openSync, readSync } from 'node:fs';

export function randomHex(bytes: number): string {
  const buf = Buffer.alloc(bytes);
  const fd = openSync('/dev/urandom', 'r');
  try {
    for (let n = 0; n < bytes; ) n += readSync(fd, buf, n, bytes - n, null);
  } finally {
    closeSync(fd);
  }
  return buf.toString('hex');
}

/** A random (version 4) UUID, as crypto.randomUUID() makes it. */
export function randomUuid(): string {
  const h = randomHex(16).split('');
  h[12] = '4'; // version
  h[16] = '89ab'[Number.parseInt(h[16]!, 16) & 3]!; // variant 10xx
  const s = h.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
