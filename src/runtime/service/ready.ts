// Waits until a started server accepts connections and has left recovery: the proof that a rollback's
// state came up consistent (crash recovery to the snapshot instant is done).
import { setTimeout as sleep } from 'node:timers/promises';
import type { PostgresConfig } from '../../model/config.js';
import { CryptError } from '../../base/errors.js';
import { connectPostgres } from '../../base/pg/connect.js';

export interface Readiness {
  /** From the start of waiting until the first accepted connection out of recovery. */
  recoveryMs: number;
}

export async function waitForPrimary(pg: PostgresConfig, env: NodeJS.ProcessEnv, timeoutMs = 300_000): Promise<Readiness> {
  const start = performance.now();
  let last = '';
  while (performance.now() - start < timeoutMs) {
    try {
      const client = await connectPostgres(pg, { env, connectTimeoutMs: 5000, applicationName: 'lychd-crypt rollback' });
      try {
        const r = await client.query<{ rec: boolean }>('SELECT pg_is_in_recovery() AS rec');
        if (r.rows[0]?.rec === false) return { recoveryMs: Math.round(performance.now() - start) };
        last = 'the server is still in recovery';
      } finally {
        await client.end().catch(() => {});
      }
    } catch (e) {
      last = (e as Error).message; // "the database system is starting up" while recovery runs
    }
    await sleep(200);
  }
  throw new CryptError(`PostgreSQL did not come up out of recovery within ${timeoutMs / 1000}s: ${last}`, {
    hint: 'Look at the server log; the files are complete, and `lychd-crypt verify` can test a snapshot.',
  });
}
