// When a command fails for an expected reason (full or read-only filesystem, I/O error, a server that
// crashed or is recovering), the message also says what happened to the database: running, restarting,
// down — and how to bring it back. Unexpected failures pass through unchanged.
import { readWritability } from '../btrfs/fs-state.js';
import { classifyError, EnvironmentError, hintFor, makeEnvironmentError } from '../expected-errors.js';
import { databaseAftermath, probeDatabase } from '../pg/db-state.js';
import type { OpenCrypt } from './open.js';
import { pgdataPath } from './paths.js';
import type { OpContext } from '../context.js';

export async function explainFailure(crypt: OpenCrypt, ctx: OpContext, err: unknown): Promise<unknown> {
  const typed = classifyError(err);
  if (!(typed instanceof EnvironmentError)) return typed;
  let kind = typed.kind;
  const lines = [typed.message];
  let hint = typed.hint;
  // A write that fails with EIO or EROFS on a crypt Btrfs forced read-only: name the real cause.
  if (kind === 'io-error' || kind === 'read-only') {
    const w = await readWritability(ctx.runner, crypt.paths.root, '--target').catch(() => null);
    if (w?.kind === 'forced-ro') {
      kind = 'read-only';
      lines.push('Btrfs has forced the crypt read-only after a write error (on a loopback crypt: usually the host filesystem holding the image ran full).');
      hint = hintFor('read-only');
    }
  }
  const pg = crypt.config.postgres;
  const state = pg ? await probeDatabase(pg, pgdataPath(crypt.paths.root, pg.dir), ctx.env).catch(() => null) : null;
  if (state) {
    lines.push(databaseAftermath(state));
    // The server died under us: say so, unless the filesystem already explains it.
    if (state.kind === 'crashed' && kind !== 'no-space' && kind !== 'read-only') kind = 'server-crashed';
  }
  if (kind === 'server-crashed' && !/^PostgreSQL crashed/.test(lines[0]!)) lines[0] = `PostgreSQL crashed or was shut down during the command: ${lines[0]}`;
  return makeEnvironmentError(kind, lines.join('\n'), { cause: typed.cause ?? err, hint: kind === 'server-crashed' ? hintFor(kind) : hint });
}
