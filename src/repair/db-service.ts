// Stops and starts PostgreSQL around the nocow rewrite through the configured postgres.service, and
// confirms the old postmaster is gone. Kept small and local to repair until the rollback issue's
// src/service/ lands; then repair should call that instead (same kinds, same semantics).
import { setTimeout as sleep } from 'node:timers/promises';
import type { PostgresConfig } from '../config/config.js';
import { CryptError, RefusedError } from '../core/errors.js';
import { asUser, type Runner } from '../core/runner.js';
import { pgProgram, resolvePgBin } from '../pg/bin.js';
import { isPostgresPid, readPostmaster } from '../pg/postmaster.js';

function systemctl(verb: 'stop' | 'start', unit: string, user: boolean, crypt: { user: string }): string[] {
  return user ? ['systemctl', '--user', '-M', `${crypt.user}@`, verb, unit] : ['systemctl', verb, unit];
}

async function serviceArgv(pg: PostgresConfig, verb: 'stop' | 'start', pgdata: string, cryptUser: { user: string }): Promise<string[]> {
  const s = pg.service;
  switch (s.kind) {
    case 'pg_ctl': {
      const pgCtl = pgProgram(await resolvePgBin(pg.bin), 'pg_ctl');
      const args = verb === 'stop' ? ['-m', 'fast', 'stop'] : ['-l', '/dev/null', 'start'];
      return asUser({ uid: pg.uid, gid: pg.gid }, [pgCtl, '-D', pgdata, '-w', '-t', '300', ...args]);
    }
    case 'systemd':
      return systemctl(verb, s.unit, s.user, cryptUser);
    case 'command':
      return verb === 'stop' ? s.stop : s.start;
    case 'none':
      throw new Error('no service');
  }
}

/** Stops a running server; false when none was running. Refuses (exit 3) when no service can stop it. */
export async function stopDatabase(runner: Runner, pg: PostgresConfig | null, pgdata: string, crypt: { user: string }): Promise<boolean> {
  const pm = await readPostmaster(pgdata);
  if (!pm.running) return false;
  if (!pg || pg.service.kind === 'none') {
    throw new RefusedError(`PostgreSQL is running on ${pgdata} (pid ${pm.pid}) and no postgres.service is configured to stop it; its files cannot be rewritten while it writes them. Nothing was changed.`, {
      hint: 'Stop the database yourself, run `lychd-crypt repair` again, then start it.',
    });
  }
  await runner.run(await serviceArgv(pg, 'stop', pgdata, crypt), { timeoutMs: 330_000 });
  for (let i = 0; i < 600 && (await isPostgresPid(pm.pid!)); i++) await sleep(100);
  if (await isPostgresPid(pm.pid!)) throw new CryptError(`PostgreSQL (pid ${pm.pid}) is still running after its service stopped it; nothing was changed`);
  return true;
}

/** Starts the server again and confirms it runs on PGDATA. */
export async function startDatabase(runner: Runner, pg: PostgresConfig, pgdata: string, crypt: { user: string }): Promise<void> {
  await runner.run(await serviceArgv(pg, 'start', pgdata, crypt), { timeoutMs: 330_000 });
  for (let i = 0; i < 300 && !(await readPostmaster(pgdata)).running; i++) await sleep(100);
  if (!(await readPostmaster(pgdata)).running) throw new CryptError(`PostgreSQL did not start again on ${pgdata}`, { hint: 'Check its log and start it by hand; the data is complete.' });
}
