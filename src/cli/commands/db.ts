// `lychd-crypt db start|stop|restart|status`: the crypt's PostgreSQL through its configured postgres.service,
// so an administrator never needs pg_ctl's incantation (user, -D, log, socket options) after an incident.
// start, stop and restart take the crypt lock (never in the middle of a rollback or a rewrite) and finish an
// interrupted operation first; status is a reader: no lock, and it shows the server log's tail.
import { CryptError, UsageError } from '../../base/errors.js';
import { mutateCrypt } from '../frame/mutate.js';
import { withCrypt, type OpenCrypt } from '../../base/crypt/open.js';
import { pgdataPath } from '../../base/crypt/paths.js';
import { probeDatabase } from '../../base/pg/db-state.js';
import { pgLogFile } from '../../runtime/service/argv.js';
import { startDatabase, stopDatabase, serviceOwner } from '../../runtime/service/control.js';
import { readLogTail } from '../../runtime/service/log-tail.js';
import { waitForPrimary } from '../../runtime/service/ready.js';
import { cryptRequest, type CommandContext, type CommandOutput } from '../frame/context.js';
import { showing } from '../../base/context.js';
import { DB_VERBS } from '../../runtime/service/db-verbs.js';

const VERBS = DB_VERBS;
type Verb = (typeof VERBS)[number];

function postgresOf(crypt: OpenCrypt) {
  const pg = crypt.config.postgres;
  if (!pg) throw new UsageError(`the crypt at ${crypt.paths.root} has no database configured`, { hint: 'Configure postgres with `lychd-crypt init`.' });
  return { pg, pgdata: pgdataPath(crypt.paths.root, pg.dir), who: serviceOwner(crypt) };
}

function needService(crypt: OpenCrypt, verb: Verb): void {
  if (crypt.config.postgres?.service.kind === 'none') {
    throw new CryptError(`postgres.service is none: lychd-crypt has no way to ${verb} the database`, {
      hint: 'Start or stop it the way you run it, or configure postgres.service (pg_ctl, systemd, command or container) with init.',
    });
  }
}

async function status(crypt: OpenCrypt, ctx: CommandContext): Promise<CommandOutput> {
  const { pg, pgdata } = postgresOf(crypt);
  const state = await probeDatabase(pg, pgdata, ctx.env);
  const logFile = pg.service.kind === 'pg_ctl' ? pgLogFile(crypt.paths.pgLog) : null;
  const log = logFile ? await readLogTail(logFile, pg.uid, 15) : null;
  const tail = log?.text ?? '';
  const service =
    pg.service.kind === 'systemd' ? `systemd unit ${pg.service.unit}${pg.service.user ? ' (user)' : ''}` : pg.service.kind === 'container' ? `podman container ${pg.container?.name}` : pg.service.kind;
  const lines = [`${state.text}`, `service: ${service}; PGDATA ${pgdata}`];
  if (log?.problem) lines.push(`pg_ctl's log: ${log.problem}`);
  else if (logFile) lines.push(tail ? `last lines of ${logFile}:\n${tail.replace(/^/gm, '  ')}` : `no log at ${logFile}`);
  else if (pg.service.kind === 'systemd') lines.push(`log: journalctl ${pg.service.user ? '--user ' : ''}-u ${pg.service.unit}`);
  else if (pg.container) lines.push(`log: podman logs ${pg.container.name}`);
  return {
    json: { ok: state.kind === 'running', state: state.kind, pid: state.pid, reason: state.reason ?? null, service: pg.service.kind, pgdata, logFile, logTail: tail || null, logProblem: log?.problem ?? null },
    human: lines.join('\n'),
    exitCode: state.kind === 'running' ? 0 : 1,
  };
}

export async function runDb(args: string[], _opts: Record<string, unknown>, ctx: CommandContext): Promise<CommandOutput> {
  const verb = args[0] as Verb | undefined;
  if (!verb || !VERBS.includes(verb)) throw new UsageError(`db needs one of ${VERBS.join(', ')}${verb ? `, got "${verb}"` : ''}`);
  if (verb === 'status') return withCrypt(ctx, cryptRequest(ctx), (crypt) => status(crypt, ctx));
  return mutateCrypt(ctx, async (crypt) => {
    const { pg, pgdata, who } = postgresOf(crypt);
    needService(crypt, verb);
    if (verb === 'stop') {
      const was = await showing(ctx, 'stopping PostgreSQL', () => stopDatabase(ctx.runner, pg, pgdata, who));
      return { json: { ok: true, state: 'stopped', wasRunning: was }, human: was ? 'PostgreSQL stopped' : 'PostgreSQL was not running' };
    }
    if (verb === 'restart') {
      const was = await showing(ctx, 'stopping PostgreSQL', () => stopDatabase(ctx.runner, pg, pgdata, who));
      const ready = await start(crypt, ctx);
      return {
        json: { ok: true, state: ready.state, pid: ready.pid, wasRunning: was, started: true, recoveryMs: ready.recoveryMs },
        human: `PostgreSQL ${was ? 'restarted' : 'was not running; started'} and accepts connections (recovery ${ready.recoveryMs} ms)`,
      };
    }
    const before = await probeDatabase(pg, pgdata, ctx.env);
    if (before.kind === 'running') return { json: { ok: true, state: 'running', pid: before.pid, started: false }, human: `${before.text}; nothing to do` };
    const ready = await start(crypt, ctx);
    return { json: { ok: true, state: ready.state, pid: ready.pid, started: true, recoveryMs: ready.recoveryMs }, human: `PostgreSQL started and accepts connections (recovery ${ready.recoveryMs} ms)` };
  });
}

/** Starts the server and waits until it takes connections as a primary (crash recovery may take a while: shown). */
async function start(crypt: OpenCrypt, ctx: CommandContext): Promise<{ state: string; pid: number | null; recoveryMs: number }> {
  const { pg, pgdata, who } = postgresOf(crypt);
  await showing(ctx, 'starting PostgreSQL', () => startDatabase(ctx.runner, pg, pgdata, who));
  const ready = await showing(ctx, 'waiting for PostgreSQL to accept connections', () => waitForPrimary(pg, ctx.env, 120_000));
  const now = await probeDatabase(pg, pgdata, ctx.env);
  return { state: now.kind, pid: now.pid, recoveryMs: ready.recoveryMs };
}
