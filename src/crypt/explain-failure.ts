// When a command fails for an expected reason (full or read-only filesystem, I/O error, a server that
// crashed or is recovering), the message also says what happened to the database: running, restarting,
// down — and how to bring it back. Unexpected failures pass through unchanged.
import type { CommandContext } from '../commands/context.js';
import { classifyError, EnvironmentError, makeEnvironmentError } from '../core/expected-errors.js';
import { databaseAftermath, probeDatabase } from '../pg/db-state.js';
import type { OpenCrypt } from './open.js';
import { pgdataPath } from './paths.js';

export async function explainFailure(crypt: OpenCrypt, ctx: CommandContext, err: unknown): Promise<unknown> {
  const typed = classifyError(err);
  const pg = crypt.config.postgres;
  if (!(typed instanceof EnvironmentError) || !pg) return typed;
  const state = await probeDatabase(pg, pgdataPath(crypt.paths.root, pg.dir), ctx.env).catch(() => null);
  if (!state) return typed;
  const message = `${typed.message}\n${databaseAftermath(state)}`;
  // The server died under us: say so first, whatever the step saw (often only a lost connection).
  const kind = state.kind === 'crashed' && typed.kind !== 'no-space' && typed.kind !== 'read-only' ? 'server-crashed' : typed.kind;
  return makeEnvironmentError(kind, message, { cause: typed.cause ?? err, hint: typed.hint });
}
