// What status gathered, for the pure tests of its verdicts and renderers: a healthy crypt at a fixed time,
// with what a test changes laid over it.
import type { StatusFacts } from '../../src/runtime/status/gather.js';

export const G = 2 ** 30;
export const now = new Date('2026-11-30T12:00:00Z');

export const facts = (over: Partial<StatusFacts> = {}): StatusFacts => ({
  crypt: '/srv/lychd',
  at: now.toISOString(),
  mounted: true,
  space: { sizeBytes: 20 * G, cryptFreeBytes: 10 * G, host: null, freeBytes: 10 * G },
  floor: null,
  snapshots: { count: 5, pinned: 1, newest: { name: 'n', createdAt: '2026-11-30T11:30:00.000Z' } },
  runs: {},
  postgres: { running: true },
  timer: null,
  writable: 'rw',
  operation: null,
  leftovers: null,
  deviceErrors: [],
  identity: null,
  notVisible: [],
  ...over,
});
