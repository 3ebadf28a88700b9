// Random identifiers without node:crypto (src/base/ids.ts): the shape crypto.randomUUID() has, and unique.
import { describe, expect, it } from 'vitest';
import { randomHex, randomUuid } from '../../src/base/ids.js';

describe('ids', () => {
  it('randomUuid is a version 4, variant 1 UUID, different each time', () => {
    const ids = Array.from({ length: 200 }, randomUuid);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('randomHex gives two hex digits a byte', () => {
    expect(randomHex(4)).toMatch(/^[0-9a-f]{8}$/);
    expect(randomHex(32)).toHaveLength(64);
  });
});
