// The relay's filter: what a process of the owner's may show on root's terminal (src/base/output/relay-filter.ts).
import { describe, expect, it } from 'vitest';
import { relayFilter } from '../../src/base/output/relay-filter.js';

const through = (...chunks: (string | Buffer)[]): string => {
  const f = relayFilter();
  const out = chunks.map((c) => f.push(typeof c === 'string' ? Buffer.from(c, 'utf8') : c));
  return Buffer.concat([...out, f.flush()]).toString('utf8');
};

describe('relayFilter', () => {
  it('passes text, UTF-8, newlines and the sequences that only draw', () => {
    const drawing = 'a\tb\r\nü€😀 \x1b[1;31mred\x1b[0m \x1b[2K\x1b[1G\x1b[3A\x1b[?25l\x1b[?25h\x1b[?1049h\x1b[10;20H\x1b[J\x1b7\x1b8\x1b(B\b';
    expect(through(drawing)).toBe(drawing);
  });

  it.each([
    ['OSC title', '\x1b]0;pwned\x07', '\\x1b]0;pwned\\x07'],
    ['OSC 52 clipboard', '\x1b]52;c;cHduZWQ=\x1b\\', '\\x1b]52;c;cHduZWQ=\\x1b\\'],
    ['device status report', '\x1b[6n', '\\x1b[6n'],
    ['device attributes', '\x1b[c', '\\x1b[c'],
    ['window report', '\x1b[21t', '\\x1b[21t'],
    ['DECRQM (intermediate byte)', '\x1b[?2004$p', '\\x1b[?2004$p'],
    ['DCS', '\x1bPq#0\x1b\\', '\\x1bPq#0\\x1b\\'],
    ['full reset', '\x1bc', '\\x1bc'],
    ['BEL, NUL, DEL', 'a\x07b\x00c\x7f', 'a\\x07b\\x00c\\x7f'],
    ['C1 as UTF-8 (CSI)', 'x\u009b6n', 'x\\u009b6n'],
    ['raw 8-bit CSI', Buffer.from([0x78, 0x9b, 0x36, 0x6e]), 'x\\x9b6n'],
    ['bidi override', 'a\u202eb', 'a\\u202eb'],
    ['invalid UTF-8', Buffer.from([0x61, 0xc3, 0x28, 0xff]), 'a\\xc3(\\xff'],
    ['overlong CSI', `\x1b[${'1;'.repeat(40)}m`, `\\x1b[${'1;'.repeat(40)}m`],
  ])('escapes %s', (_what, input, shown) => {
    expect(through(input)).toBe(shown);
  });

  it('judges a sequence split across reads whole', () => {
    expect(through('a\x1b', '[31', 'mb')).toBe('a\x1b[31mb');
    expect(through('a\x1b]', '0;t\x07')).toBe('a\\x1b]0;t\\x07');
    const euro = Buffer.from('€', 'utf8');
    expect(through(euro.subarray(0, 1), euro.subarray(1))).toBe('€');
  });

  it('escapes an unfinished sequence at the end', () => {
    expect(through('a\x1b[3')).toBe('a\\x1b[3');
    expect(through(Buffer.from([0x61, 0xe2, 0x82]))).toBe('a\\xe2\\x82');
  });
});
