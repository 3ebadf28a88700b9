// Power cuts inside `snapshot` (the Ritual, PostgreSQL running). At each durable state, besides the
// checks of every state (rig.ts): active/ is untouched (generation A), and the new snapshot is either
// absent or listed whole (read-only, with the marker), never half there.
import { describe, expect, it } from 'vitest';
import { powercutSkipReason } from '../helpers/powercut.js';
import { expectOk, powercutSuite, recordOperation, replayAndCheck } from './rig.js';

const skip = powercutSkipReason('root', 'btrfs', 'loop', 'pg15');

describe.skipIf(skip)(`power cut inside snapshot ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = powercutSuite();

  it('every durable state: active/ untouched, the snapshot absent or whole, the database consistent', async () => {
    const rig = await suite.rig();
    const { rec, states } = await recordOperation(rig, async () => {
      expectOk(rig.c.cli('snapshot', '--label', 'powercut', '--json'), 'snapshot');
    });
    const { failures, visited } = await replayAndCheck(rig, rec, states, {
      generations: ['A'],
      judge: () => {
        const list = rig.c.cli('list', '--json');
        const n = (list.json?.snapshots ?? list.json ?? []).length;
        return n <= 1 ? [] : [`${n} snapshots listed after one snapshot`];
      },
    });
    console.log(`snapshot: ${states.length} durable states (${rec.records.filter((r) => r.kind === 'flush').length} flushes), replayed ${visited}`);
    expect(failures).toEqual([]);
  }, 3_600_000);
});
