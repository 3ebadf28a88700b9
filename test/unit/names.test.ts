// Snapshot naming: UTC sortable time, slugged label, uniqueness within one second.
import { describe, expect, test } from 'vitest';
import { baseName, formatNameTime, isSnapshotName, slugLabel, uniqueName, validateLabel, MAX_NAME, MAX_SLUG, NAME_PATTERN } from '../../src/runtime/snapshots/names.js';
import { UsageError } from '../../src/base/errors.js';

describe('snapshot names', () => {
  const t = new Date('2026-11-23T20:55:12.987Z');
  test('UTC time, second precision, sortable', () => {
    expect(formatNameTime(t)).toBe('20261123T205512Z');
    expect(formatNameTime(new Date('2026-01-02T03:04:05Z'))).toBe('20260102T030405Z');
    expect([formatNameTime(new Date('2027-01-01T00:00:00Z')), formatNameTime(t)].sort()[0]).toBe('20261123T205512Z');
  });
  test('label slugs', () => {
    expect(slugLabel('pre-upgrade')).toBe('pre-upgrade');
    expect(slugLabel('Pre Upgrade!')).toBe('pre-upgrade');
    expect(slugLabel('  Café / Crème  brûlée ')).toBe('cafe-creme-brulee');
    expect(slugLabel('../../etc/passwd')).toBe('etc-passwd');
    expect(slugLabel('日本語')).toBe('');
    expect(slugLabel('---')).toBe('');
  });
  test('long labels are cut at a word boundary', () => {
    const slug = slugLabel('before the very long and complicated migration of every table in the database');
    expect(slug.length).toBeLessThanOrEqual(MAX_SLUG);
    expect(slug).toBe('before-the-very-long-and-complicated-migration');
    expect(slugLabel('x'.repeat(100))).toBe('x'.repeat(MAX_SLUG));
  });
  test('base names', () => {
    expect(baseName(t, 'pre-upgrade')).toBe('20261123T205512Z-pre-upgrade');
    expect(baseName(t, null)).toBe('20261123T205512Z');
    expect(baseName(t, '日本語')).toBe('20261123T205512Z');
  });
  test('unique within one second', () => {
    const taken = new Set(['20261123T205512Z-x', '20261123T205512Z-x-2']);
    expect(uniqueName('20261123T205512Z-x', (n) => taken.has(n))).toBe('20261123T205512Z-x-3');
    expect(uniqueName('20261123T205512Z-y', (n) => taken.has(n))).toBe('20261123T205512Z-y');
  });
  test('labels are validated', () => {
    expect(validateLabel(undefined)).toBeNull();
    expect(validateLabel('  ')).toBeNull();
    expect(validateLabel(' ok ')).toBe('ok');
    expect(() => validateLabel('a\nb')).toThrow(UsageError);
    expect(() => validateLabel('a'.repeat(201))).toThrow(/too long/);
  });
  test('the grammar: every name the tool makes is one, and nothing else', () => {
    const labels = [null, 'pre-upgrade', 'Pre Upgrade!', '  Café / Crème  brûlée ', '日本語', 'x'.repeat(300), 'before the very long and complicated migration of every table', 'scheduled', 'pre-rollback', '$(touch pwned)', '\u001b[31mred'];
    for (const label of labels) {
      const base = baseName(t, label);
      expect(isSnapshotName(base), base).toBe(true);
      expect(isSnapshotName(uniqueName(base, (n) => n === base || n === `${base}-2`)), base).toBe(true);
    }
    expect(isSnapshotName('20261123T205512Z-pre-upgrade-12')).toBe(true);
    const hostile = [
      '', '.', '..', '../active', 'a/b', '.hidden', 'x.json', '20261123T205512Z.json', 'latest', 'active',
      '20261123T205512Z-', '20261123T205512Z--x', '20261123T205512Z-UPPER', '20261123T205512z', '2026112T205512Z', '20261123T205512Z x',
      '20261123T205512Z-$(touch${IFS}pwned)', '20261123T205512Z-`id`', '20261123T205512Z-a;b', '20261123T205512Z-*', '20261123T205512Z-?', '20261123T205512Z-[a]',
      '20261123T205512Z-a\nb', '20261123T205512Z\n', '20261123T205512Z-\u001b[31m', '20261123T205512Z-\u0007', '20261123T205512Z-\u009b',
      '20261123T205512Z-\u202eexe', '20261123T205512Z-é', '20261123T205512Z-\uff10', '٢٠٢٦١١٢٣T205512Z', '20261123T205512Z-\ufffd',
      `20261123T205512Z-${'a'.repeat(MAX_NAME)}`,
    ];
    for (const bad of hostile) expect(isSnapshotName(bad), JSON.stringify(bad)).toBe(false);
  });

  test('the pattern the completions use is written without ranges or classes a locale could widen', () => {
    expect(NAME_PATTERN).not.toMatch(/\[[^\]]*-[^\]]*\]|\[:|\\d|\\w/);
    expect(NAME_PATTERN).not.toMatch(/'/); // it is put between single quotes in the scripts
  });
});
