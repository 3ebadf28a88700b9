// stop-database: deinit stops the database that runs from the crypt (it holds the filesystem busy, and
// would lose its files under it) through postgres.service, and confirms the postmaster is gone.
import { readPostmaster } from '../../base/pg/postmaster.js';
import { stopDatabase } from '../../runtime/service/control.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from '../../install/steps/module.js';

type Stop = StepOf<'stop-database'>;

const how = (s: Stop): string => {
  const k = s.postgres.service;
  return k.kind === 'systemd' ? `systemctl${k.user ? ' --user' : ''} stop ${k.unit}` : k.kind === 'command' ? k.stop.join(' ') : k.kind === 'pg_ctl' ? `pg_ctl stop -D ${s.pgdata} as ${s.postgres.osUser}` : 'nothing can (postgres.service is none)';
};

export const stopDatabaseStep: StepModule<Stop> = {
  describe: (s) => seq(`stop PostgreSQL, which runs from the crypt (${how(s)})`, { op: `stop the server through postgres.service (${s.postgres.service.kind}) and wait until its postmaster is gone` }),
  probe: async (s) => ((await readPostmaster(s.pgdata).catch(() => null))?.running ? wouldChange('it runs') : satisfied('not running')),
  async apply(s, ctx) {
    const stopped = await stopDatabase(ctx.runner, s.postgres, s.pgdata, s.crypt);
    return stopped ? changed('stopped') : unchanged('not running');
  },
};
