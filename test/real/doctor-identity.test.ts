// doctor on the registered PostgreSQL identity (issue 24): the registered OS user, its uid and PGDATA's owner
// must agree — an entry whose name says postgres and whose uid is the owner's is found, and every owner is
// printed by the name its uid has — and the database must answer as configured; a role that does not exist
// gets, for the owner who is not root, the exact root command that changes the connection.
import path from 'node:path';
import { chmod } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { cliAs } from '../helpers/as-user.js';
import { skipReason } from '../helpers/env.js';
import { makeUser } from '../helpers/host.js';
import { cliSuite } from '../helpers/suite.js';
import { reconfigure } from '../helpers/crypt-fixture.js';
import { cli, cryptWithServer } from '../helpers/snap.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

type CheckJson = { id: string; status: string; finding: string; fix: { manual?: string; repair?: string } | null };
const check = (json: { checks: CheckJson[] }, id: string) => json.checks.find((c) => c.id === id);

describe.skipIf(skip)(`doctor: PostgreSQL's user, owner and connection ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  it('a system crypt: all agree, names with their uids; a wrong role is a problem with its fix', { timeout: 120_000 }, async () => {
    const scratch = await suite.scratch();
    const { fx } = await cryptWithServer(scratch, 15);
    const good = await cli(fx.root, ['--json', 'doctor']);
    const uid = fx.config.postgres!.uid;
    expect(check(good.json, 'postgres.user')).toMatchObject({ status: 'ok', finding: `PostgreSQL's OS user postgres (uid ${uid}) is the registered one and owns PGDATA` });
    expect(check(good.json, 'owners.pgdata')!.finding).toBe(`PGDATA is owned by postgres (uid ${uid}), 0700`);
    expect(check(good.json, 'postgres.connect')).toMatchObject({ status: 'ok' });

    await reconfigure(fx, { ...fx.config, postgres: { ...fx.config.postgres!, connection: { ...fx.config.postgres!.connection, user: 'nosuchrole' } } });
    const bad = await cli(fx.root, ['--json', 'doctor']);
    expect(bad.code).toBe(1);
    const c = check(bad.json, 'postgres.connect')!;
    expect(c.status).toBe('problem');
    expect(c.finding).toMatch(/does not answer as configured \(.*role nosuchrole, database postgres\): .*role "nosuchrole" does not exist/);
    expect(c.fix!.manual).toMatch(/has no role nosuchrole.*`lychd-crypt init` changes it/);
  });

  it('rootless: an entry whose osUser says postgres and whose uid is the owner\'s; the owner is told the root command for a missing role', { timeout: 180_000 }, async () => {
    const scratch = await suite.scratch();
    const owner = makeUser(scratch);
    const { fx } = await cryptWithServer(scratch, 15, { fixture: { owner, rootless: true, root: path.join(owner.home, '.local/share/lychd'), socketDir: scratch.path('sock-owner') } });
    await chmod(path.dirname(suite.bundle), 0o755);
    const asOwner = (args: string[]) => cliAs(owner, suite.bundle, args);
    const ok = await asOwner(['--json', 'doctor']);
    expect(check(ok.json, 'postgres.user')).toMatchObject({ status: 'ok', finding: expect.stringContaining(`${owner.name} (uid ${owner.uid})`) });

    // What the old wizard left: the name reset to postgres, the uid kept.
    const pg = fx.config.postgres!;
    await reconfigure(fx, { ...fx.config, postgres: { ...pg, osUser: 'postgres' } });
    const bad = await asOwner(['--json', 'doctor']);
    expect(bad.code).toBe(1);
    expect(check(bad.json, 'postgres.user')).toMatchObject({
      status: 'problem',
      finding: expect.stringMatching(new RegExp(`postgres\\.osUser is postgres \\(uid \\d+\\), but the registry records the uid of ${owner.name} \\(uid ${owner.uid}\\): the entry contradicts itself`)),
    });
    // The owner's name for the owner's uid — never "owned by postgres" for a directory of uid 10xx.
    expect(check(bad.json, 'owners.pgdata')!.finding).toBe(`PGDATA is owned by ${owner.name} (uid ${owner.uid}), 0700`);

    // A role the server does not have: the owner (not root) is told the exact root command.
    await reconfigure(fx, { ...fx.config, postgres: { ...pg, connection: { ...pg.connection, user: 'nosuchrole' } } });
    const snap = await asOwner(['snapshot']);
    expect(snap.code).not.toBe(0);
    expect(snap.stderr).toMatch(/role "nosuchrole" does not exist/);
    expect(snap.stderr).toContain(`\`sudo lychd-crypt --registry ${fx.config.registry.dir} init\``);
    expect(snap.stderr).not.toMatch(/at .*\.js:\d+/);
  });
});
