// Smoke test of the shared real-test fixtures: a crypt on a loop image with PostgreSQL 15 in it.
import { describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { skipReason } from '../helpers/env.js';
import { makeScratch } from '../helpers/scratch.js';
import { makeCryptFixture } from '../helpers/crypt-fixture.js';
import { startTestServer } from '../helpers/pg.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

describe.skipIf(skip)(`fixtures ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('crypt fixture with a running PostgreSQL 15, cleaned up afterwards', async () => {
    const scratch = await makeScratch();
    try {
      const fx = await makeCryptFixture(scratch);
      const lsattr = execFileSync('lsattr', ['-d', fx.pgdata], { encoding: 'utf8' });
      expect(lsattr.split(' ')[0]).toContain('C');
      const server = await startTestServer(scratch, { pgdata: fx.pgdata, socketDir: fx.config.postgres!.connection.host });
      const rows = await server.query<{ v: string }>("select current_setting('server_version_num') as v");
      expect(Number(rows[0]!.v)).toBeGreaterThanOrEqual(150000);
    } finally {
      await scratch.cleanup();
    }
    const mounts = execFileSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' });
    expect(mounts).not.toContain(scratch.dir);
  });
});
