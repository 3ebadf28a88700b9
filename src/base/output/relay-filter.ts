// What a process of another user (the crypt's owner, and COMMAND or hooks run by it) may show on root's
// terminal through the pseudo-terminal relay (src/base/privilege/owner-relay.ts). The owner controls those bytes
// entirely — it can attach a debugger to its own process — so the tool's own output sink cannot vouch for
// them. Text passes, and so do the sequences line-drawing and full-screen programs need (colours, cursor
// moves, erasing, scrolling, modes); a sequence that makes the terminal answer (device status, identity,
// window reports), sets its title, clipboard or palette (OSC), or carries a string (DCS, APC, PM, SOS) is
// shown escaped (`\x1b]0;…`) instead, like every other control character. A stateful byte filter: a
// sequence split across two reads is judged whole.

/** CSI finals that only draw: SGR, erase, cursor moves and save/restore, scrolling, insert/delete, modes. */
const CSI_FINALS = new Set('mKJABCDEFGHfdrhlsu@PXLMST'.split('').map((c) => c.charCodeAt(0)));
/** Two-byte escapes that only draw: save/restore cursor, index, reverse index, next line, keypad modes. */
const ESC_SIMPLE = new Set('78DEM=>'.split('').map((c) => c.charCodeAt(0)));
/** A CSI longer than this is not one of the drawing sequences above. */
const CSI_MAX = 40;

const ESC = 0x1b;
const ALLOWED_C0 = new Set([0x08, 0x09, 0x0a, 0x0d]); // backspace, tab, newline, carriage return

export interface RelayFilter {
  /** The part of `chunk` that can be judged now, filtered; an unfinished sequence waits for the next chunk. */
  push(chunk: Uint8Array): Buffer;
  /** What is left at the end (an unfinished sequence), escaped. */
  flush(): Buffer;
}

const hexByte = (b: number): string => `\\x${b.toString(16).padStart(2, '0')}`;

/** A code point no terminal should get from another user: C1, the bidi controls, line/paragraph separators. */
const unsafeCodePoint = (cp: number): boolean =>
  (cp >= 0x80 && cp <= 0x9f) || cp === 0x61c || cp === 0x200e || cp === 0x200f || cp === 0x2028 || cp === 0x2029 || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);

type Judged = { len: number; ok: boolean } | 'more';

/** The escape sequence at `i`: its length and whether it may pass, or 'more' when the buffer ends inside it. */
function judgeEscape(buf: Uint8Array, i: number): Judged {
  if (i + 1 >= buf.length) return 'more';
  const next = buf[i + 1]!;
  if (next === 0x5b /* [ */) {
    let j = i + 2;
    let intermediates = false;
    for (; j < buf.length; j++) {
      const b = buf[j]!;
      if (j - i > CSI_MAX) return { len: 1, ok: false };
      if (b >= 0x30 && b <= 0x3f) continue; // parameters (digits ; : < = > ?)
      if (b >= 0x20 && b <= 0x2f) {
        intermediates = true;
        continue;
      }
      if (b >= 0x40 && b <= 0x7e) return { len: j - i + 1, ok: !intermediates && CSI_FINALS.has(b) };
      return { len: 1, ok: false }; // not a CSI after all: show the ESC, the rest is text
    }
    return j - i > CSI_MAX ? { len: 1, ok: false } : 'more';
  }
  if (ESC_SIMPLE.has(next)) return { len: 2, ok: true };
  if (next === 0x28 /* ( */ || next === 0x29 /* ) */) {
    if (i + 2 >= buf.length) return 'more';
    const set = buf[i + 2]!;
    return set === 0x42 /* B */ || set === 0x30 /* 0 */ ? { len: 3, ok: true } : { len: 1, ok: false };
  }
  return { len: 1, ok: false };
}

/** The UTF-8 sequence at `i`: its length and code point, 'more' when cut off, null when invalid. */
function decodeUtf8(buf: Uint8Array, i: number): { len: number; cp: number } | 'more' | null {
  const b = buf[i]!;
  const len = b >= 0xf0 && b <= 0xf4 ? 4 : b >= 0xe0 ? 3 : b >= 0xc2 && b <= 0xdf ? 2 : 0;
  if (!len || b > 0xf4) return null;
  let cp = b & (0xff >> (len + 1));
  for (let k = 1; k < len; k++) {
    if (i + k >= buf.length) return 'more';
    const c = buf[i + k]!;
    if ((c & 0xc0) !== 0x80) return null;
    cp = (cp << 6) | (c & 0x3f);
  }
  const min = [0, 0, 0x80, 0x800, 0x10000][len]!;
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return null;
  return { len, cp };
}

export function relayFilter(): RelayFilter {
  let carry: Buffer = Buffer.alloc(0);
  const run = (buf: Buffer, final: boolean): Buffer => {
    const out: (Buffer | string)[] = [];
    let start = 0; // the start of the run of bytes that pass as they are
    const pass = (end: number) => {
      if (end > start) out.push(buf.subarray(start, end));
    };
    let i = 0;
    while (i < buf.length) {
      const b = buf[i]!;
      if (b >= 0x20 && b < 0x7f) {
        i++;
        continue;
      }
      if (b === ESC) {
        const j = judgeEscape(buf, i);
        if (j === 'more' && !final) break;
        if (j !== 'more' && j.ok) {
          i += j.len;
          continue;
        }
        pass(i);
        out.push('\\x1b');
        start = i += 1;
        continue;
      }
      if (b < 0x80) {
        if (ALLOWED_C0.has(b)) {
          i++;
          continue;
        }
        pass(i);
        out.push(hexByte(b));
        start = i += 1;
        continue;
      }
      const u = decodeUtf8(buf, i);
      if (u === 'more' && !final) break;
      if (u && u !== 'more' && !unsafeCodePoint(u.cp)) {
        i += u.len;
        continue;
      }
      pass(i);
      if (u && u !== 'more') {
        out.push(`\\u${u.cp.toString(16).padStart(4, '0')}`);
        start = i += u.len;
      } else {
        out.push(hexByte(b));
        start = i += 1;
      }
    }
    pass(i);
    carry = Buffer.from(buf.subarray(i));
    return Buffer.concat(out.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)));
  };
  return {
    push: (chunk) => run(carry.length ? Buffer.concat([carry, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), false),
    flush: () => {
      const rest = carry;
      carry = Buffer.alloc(0);
      return rest.length ? run(rest, true) : rest;
    },
  };
}
