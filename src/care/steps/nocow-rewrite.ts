// nocow-rewrite: PGDATA copied into a fresh +C directory, verified, swapped atomically (journal op
// nocow-rewrite; the work is care/nocow-rewrite.ts, its recovery care/nocow-recover.ts).
import { rewriteNocow } from '../nocow-rewrite.js';
import { needCrypt } from '../../install/steps/context.js';
import { changed, seq, wouldChange, type StepModule, type StepOf } from '../../install/steps/module.js';

export const nocowRewrite: StepModule<StepOf<'nocow-rewrite'>> = {
  describe: (s) =>
    seq(
      `rewrite PGDATA ${s.pgdata} (${s.files} entries without C) into a fresh chattr +C directory: real copies, verified byte for byte, then swapped atomically; a running database is stopped through postgres.service and started again`,
      { op: 'journal the rewrite; stop the database if it runs' },
      { run: ['chattr', '+C', '<staging directory>'] },
      { run: ['cp', '-a', '--reflink=never', '--', `${s.pgdata}/.`, '<staging directory>/'] },
      { op: 'verify the copy byte for byte; swap it with PGDATA (RENAME_EXCHANGE); remove the old files; start the database again' },
    ),
  probe: async (s) => wouldChange(`${s.files} entries`),
  apply: async (s, ctx) => changed(await rewriteNocow(needCrypt(ctx), ctx, s.pgdata)),
};
