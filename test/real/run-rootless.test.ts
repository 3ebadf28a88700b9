// `run` on a rootless crypt: its owner runs it without root; root running it acts as the owner, so
// COMMAND runs with the owner's uid (seen in the failed state kept by the rollback).
import { beforeAll, describe, expect, it } from 'vitest';
import { chmod, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { cliAs } from '../helpers/as-user.js';
import { skipReason } from '../helpers/env.js';
import { makeUser, type TestUser } from '../helpers/host.js';
import { buildCli } from '../helpers/init.js';
import { fileScratch } from '../helpers/suite.js';
import { cryptWithServer, type CryptWithServer } from '../helpers/snap.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');

describe.skipIf(skip)(`run on a rootless crypt ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const shared = fileScratch();
  let owner: TestUser;
  let bundle: string;
  let c: CryptWithServer;

  beforeAll(async () => {
    owner = makeUser(shared.scratch);
    c = await cryptWithServer(shared.scratch, 15, {
      fixture: { owner, rootless: true, root: path.join(owner.home, '.local/share/lychd'), socketDir: shared.scratch.path('sock-owner') },
    });
    bundle = buildCli(shared.scratch);
    await chmod(path.dirname(bundle), 0o755);
    await c.server.query('create table marker (v text)');
  });

  it('the owner runs a guarded change; root running one runs COMMAND as the owner', async () => {
    const uidFile = path.join(c.fx.paths.active, 'uid');
    const ok = await cliAs(owner, bundle, ['--crypt', c.fx.root, '--json', 'run', '--check-sql', 'select true', '--', 'sh', '-c', `id -u > ${uidFile}`]);
    expect(ok.code, ok.stderr).toBe(0);
    expect((await readFile(uidFile, 'utf8')).trim()).toBe(String(owner.uid));

    const failed = await cliAs(null, bundle, ['--crypt', c.fx.root, '--json', 'run', '--', 'sh', '-c', `id -u > ${uidFile}.root && exit 3`]);
    expect(failed.code, failed.stderr).toBe(3);
    expect(failed.json).toMatchObject({ rolledBack: true, failure: { kind: 'command', exitCode: 3 } });
    await expect(stat(`${uidFile}.root`)).rejects.toThrow();
    const kept = path.join(c.fx.paths.snapshots, failed.json.preRollback, 'uid.root');
    expect((await readFile(kept, 'utf8')).trim()).toBe(String(owner.uid));
    expect((await stat(path.join(c.fx.paths.snapshots, failed.json.snapshot))).uid).toBe(owner.uid);
    expect(c.server.isRunning()).toBe(true);
  }, 240_000);
});
