// Power cuts inside repair's nocow rewrite (PGDATA copied without the C attribute, rewritten by
// `repair --yes` with the database running). At each durable state the rewrite could leave, besides the
// checks of every state (rig.ts): the next `repair` says truly whether it finished or undid the rewrite
// (PGDATA was the +C copy, or the original, before it ran), and PGDATA has C afterwards.
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { problems } from '../helpers/doctor.js';
import { sh } from '../helpers/host.js';
import { powercutSkipReason } from '../helpers/powercut.js';
import { expectOk, powercutSuite, recordOperation, replayAndCheck } from './rig.js';

const skip = powercutSkipReason('root', 'btrfs', 'loop', 'pg15');
const hasC = (p: string) => /^\S*C/.test(sh(['lsattr', '-d', p]));

describe.skipIf(skip)(`power cut inside repair's nocow rewrite ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = powercutSuite();

  it('every durable state heals to a whole PGDATA with C, a true report and no leftovers', async () => {
    const rig = await suite.rig();
    rig.server.stop();
    // PGDATA the way a hand copy leaves it: the same files in a directory without C.
    const { pgdata } = rig;
    renameSync(pgdata, `${pgdata}.old`);
    mkdirSync(pgdata);
    sh(['cp', '-a', '--reflink=never', '--', `${pgdata}.old/.`, `${pgdata}/`]);
    rmSync(`${pgdata}.old`, { recursive: true });
    expect(problems(rig.c.cli('doctor', '--json'))).toEqual(['pgdata.nocow']);

    const { rec, states } = await recordOperation(rig, async () => {
      expectOk(rig.c.cli('repair', '--yes', '--json'), 'repair');
    });
    const { failures, visited } = await replayAndCheck(rig, rec, states, {
      generations: ['A'],
      inspect: () => ({ swapped: hasC(pgdata) }),
      // The swap window (finding 6 of issue 10): always replayed, also in the quick sample.
      journalProbe: (j) => j?.op === 'nocow-rewrite' && (j.phase === 'verified' || j.phase === 'swapped'),
      judge: ({ before, repair }) => {
        const said = repair.stdout + repair.stderr;
        const out: string[] = [];
        if (/finished \(PGDATA/.test(said) && !before.swapped) out.push('repair said the rewrite finished, but PGDATA was the original');
        if (/undone \(PGDATA/.test(said) && before.swapped) out.push('repair said the rewrite was undone, but PGDATA was the +C copy');
        if (!hasC(pgdata)) out.push('PGDATA still lacks C after repair');
        return out;
      },
    });
    console.log(`nocow rewrite: ${states.length} durable states (${rec.records.filter((r) => r.kind === 'flush').length} flushes), replayed ${visited}`);
    expect(failures).toEqual([]);
  }, 3_600_000);
});
