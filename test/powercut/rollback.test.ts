// Power cuts inside `rollback` (PostgreSQL running, stopped and started again by the rollback). At
// each durable state, besides the checks of every state (rig.ts): active/ is wholly the old state (B)
// or wholly the snapshot's (A), files and rows agreeing; once rolled back, the replaced state is kept
// as a read-only pre-rollback snapshot holding B.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { powercutSkipReason } from '../helpers/powercut.js';
import { expectOk, powercutSuite, recordOperation, replayAndCheck, setGeneration } from './rig.js';

const skip = powercutSkipReason('root', 'btrfs', 'loop', 'pg15');

describe.skipIf(skip)(`power cut inside rollback ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = powercutSuite();

  it('every durable state: active/ wholly old or wholly new, the replaced state kept, the database consistent', async () => {
    const rig = await suite.rig();
    const snap = expectOk(rig.c.cli('snapshot', '--label', 'base', '--json'), 'snapshot');
    const target: string = snap.json.snapshot.name;
    await setGeneration(rig, 'B');
    const { rec, states } = await recordOperation(rig, async () => {
      expectOk(rig.c.cli('rollback', target, '--yes', '--json'), 'rollback');
    });
    const { failures, visited } = await replayAndCheck(rig, rec, states, {
      generations: ['A', 'B'],
      judge: () => {
        if (readFileSync(rig.marker, 'utf8') !== 'A') return [];
        const list = rig.c.cli('list', '--json');
        const kept = (list.json?.snapshots ?? []).filter((s: { origin: string }) => s.origin === 'pre-rollback');
        if (kept.length !== 1) return [`rolled back, but ${kept.length} pre-rollback snapshots are listed`];
        const held = readFileSync(path.join(rig.c.crypt, 'snapshots', kept[0].name, 'app/marker.txt'), 'utf8');
        return held === 'B' ? [] : [`the pre-rollback snapshot holds ${held}, not the replaced state B`];
      },
    });
    console.log(`rollback: ${states.length} durable states (${rec.records.filter((r) => r.kind === 'flush').length} flushes), replayed ${visited}`);
    expect(failures).toEqual([]);
  }, 3_600_000);
});
