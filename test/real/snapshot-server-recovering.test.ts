// A server that is up but does not accept connections yet (in recovery: SQLSTATE 57P03) is not a
// configuration problem: snapshot says the server is recovering and to wait (`db status`), never to fix
// postgres.connection or pg_hba.conf, and says what the database is doing. No stack trace.
import { describe, expect, test } from 'vitest';
import { appendFile, writeFile, chown } from 'node:fs/promises';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { ids } from '../helpers/host.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { cli, cryptWithServer } from '../helpers/snap.js';

const scratches = scratchSuite();
let scratch: Scratch | undefined;

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

describe.skipIf(skip)(`snapshot against a recovering server ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('a server in recovery that refuses connections: a recovering error with its own hint', async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    server.stop('fast');
    // A standby without hot standby stays in recovery and answers every connection with 57P03.
    const signal = path.join(fx.pgdata, 'standby.signal');
    await writeFile(signal, '');
    const pg = ids('postgres');
    await chown(signal, pg.uid, pg.gid);
    await appendFile(path.join(fx.pgdata, 'postgresql.conf'), '\nhot_standby = off\n');
    server.start();

    const r = await cli(fx.root, ['--json', 'snapshot']);
    expect(r.code).toBe(1);
    expect(r.json.error.code).toBe('server-recovering');
    expect(r.stderr).toMatch(/does not accept connections yet/);
    expect(r.stderr).toMatch(/No snapshot was taken/);
    expect(r.json.error.hint).toMatch(/db status/);
    expect(r.stderr).not.toMatch(/pg_hba|postgres\.connection/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const status = await cli(fx.root, ['--json', 'db', 'status']);
    expect(status.json.state).toBe('recovering');
  });
});
