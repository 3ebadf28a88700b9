// Replication to a second host over ssh, with the real restricted receiver (`lychd-crypt receive` as the
// forced command of the key): an incremental chain of five under pgbench (each incremental far smaller
// than the full), the copies matched by received UUID and read-only, the client reading none of root's
// own ssh files; and a key that is good for the receiver's words only.
import { describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { PG_BIN, skipReason } from '../helpers/env.js';
import { sh } from '../helpers/host.js';
import { runPgbench } from '../helpers/pg.js';
import { cliSuite } from '../helpers/suite.js';
import { cli, cryptWithServer } from '../helpers/snap.js';
import { makeCryptFixture, reconfigure } from '../helpers/crypt-fixture.js';
import { remoteEntries, remoteSubvolume, sshTarget, startReceiver } from '../helpers/replica.js';

const skip = skipReason('root', 'btrfs', 'loop', 'sshd', 'pg15', 'pgbench');
const uuidOf = (p: string): string => /^\s*UUID:\s*(\S+)/m.exec(sh(['btrfs', 'subvolume', 'show', p]))![1]!;

describe.skipIf(skip)(`replicate over ssh ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  test('an incremental chain of five under pgbench: each incremental far smaller than the full, copies by received UUID', async () => {
    const scratch = await suite.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15);
    const conn = ['-h', server.socketDir, '-p', String(server.port), '-U', 'postgres'];
    execFileSync(path.join(PG_BIN[15], 'pgbench'), ['-i', '-s', '5', '-q', ...conn, 'postgres'], { stdio: 'ignore' });
    const r = await startReceiver(scratch, suite.bundle, { sizeMiB: 1024 });
    await reconfigure(fx, { ...fx.config, replicate: { schedule: false, targets: [sshTarget(r)] } });

    const sent: { name: string; kind: string; bytes: number; rawBytes: number }[] = [];
    const first = await cli(fx.root, ['--json', 'snapshot']);
    expect(first.code, first.stderr).toBe(0);
    // The ssh client reads no file of root's own (~/.ssh, /etc/ssh/ssh_config, the host's known_hosts).
    const trace = scratch.path('replicate.trace');
    const traced = await execa('strace', ['-f', '-qq', '-e', 'trace=%file', '-o', trace, 'node', suite.bundle, '--crypt', fx.root, '--json', 'replicate'], { reject: false, env: { ...process.env } });
    expect(traced.exitCode, traced.stderr).toBe(0);
    const opened = readFileSync(trace, 'utf8');
    expect(opened).toContain(r.remote.knownHosts);
    expect(opened).not.toMatch(/"\/root\/\.ssh|"\/etc\/ssh\/ssh_config|"\/etc\/ssh\/ssh_known_hosts/);
    sent.push(...JSON.parse(traced.stdout).data.targets[0].sent);

    for (let i = 0; i < 5; i++) {
      // A steady, modest load (100 transactions a second), as a live service has between two snapshots.
      const bench = await runPgbench(['-c', '2', '-R', '100', '-T', '2', '--no-vacuum', ...conn, 'postgres']);
      expect(bench.code, bench.out).toBe(0);
      const s = await cli(fx.root, ['--json', 'snapshot']);
      expect(s.code, s.stderr).toBe(0);
      const rep = await cli(fx.root, ['--json', 'replicate']);
      expect(rep.code, rep.stderr + rep.stdout).toBe(0);
      expect(rep.json.targets[0].sent).toMatchObject([{ name: s.json.snapshot.name, kind: 'incremental' }]);
      sent.push(...rep.json.targets[0].sent);
    }
    expect(sent.map((s) => s.kind)).toEqual(['full', 'incremental', 'incremental', 'incremental', 'incremental', 'incremental']);
    // Compared as btrfs streams, and as what crossed the link (zstd).
    for (const inc of sent.slice(1)) {
      expect(inc.rawBytes).toBeLessThan(sent[0]!.rawBytes / 4);
      expect(inc.bytes).toBeLessThan(sent[0]!.bytes / 8);
      expect(inc.bytes).toBeLessThan(inc.rawBytes / 4);
    }
    console.log(`replication over ssh, pgbench scale 5: stream full ${sent[0]!.rawBytes} B, incrementals ${sent.slice(1).map((s) => s.rawBytes).join(', ')} B; on the link ${sent.map((s) => s.bytes).join(', ')} B`);

    // Six read-only copies, each with the sender's UUID as its received UUID, and its sidecar.
    const names = sent.map((s) => s.name);
    expect(await remoteEntries(r.remote, r.dir)).toEqual(names.flatMap((n) => [n, `${n}.json`]).sort());
    for (const n of names) {
      expect(await remoteSubvolume(r.remote, path.join(r.dir, n))).toEqual({ receivedUuid: uuidOf(path.join(fx.paths.snapshots, n)), readonly: true });
    }
    // status shows the target's newest copy.
    const st = await cli(fx.root, ['--json', 'status']);
    expect(st.json.replication).toMatchObject([{ target: 'offsite', kind: 'ssh', copies: 6, newest: { name: names.at(-1) }, lastRun: { ok: true } }]);
  });

  test('the key is good for the receiver\'s words only: other commands, shell tricks, verbs outside its mode, forwarding', async () => {
    const scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const r = await startReceiver(scratch, suite.bundle);
    await reconfigure(fx, { ...fx.config, replicate: { schedule: false, targets: [sshTarget(r)] } });
    expect((await cli(fx.root, ['snapshot'])).code).toBe(0);
    const rep = await cli(fx.root, ['--json', 'replicate']);
    expect(rep.code, rep.stderr + rep.stdout).toBe(0);
    const copy = rep.json.targets[0].sent[0].name as string;
    const origin = uuidOf(path.join(fx.paths.snapshots, copy));

    const ssh = (words: string[], input = '') => {
      const argv = r.remote.sshArgv(words);
      return execa(argv[0]!, argv.slice(1), { reject: false, input });
    };
    for (const words of [
      ['cat', '/etc/shadow'],
      ['sh', '-c', 'id'],
      ['list;', 'id'],
      ['receive', '../x', origin],
      ['btrfs', 'subvolume', 'delete', r.dir],
      ['send', copy, origin], // a push key may not read copies back
      ['list', '$(id)'],
      [],
    ]) {
      const res = await ssh(words);
      expect(res.exitCode, `${words.join(' ')}: ${res.stdout}${res.stderr}`).toBe(3);
      expect(res.stderr).toMatch(/^receive: refused: /m);
      expect(JSON.parse(res.stdout)).toMatchObject({ ok: false, refused: true });
    }
    // An allowed verb with malformed words: exit 2; deleting the newest (the next incremental's base): refused.
    expect((await ssh(['delete', copy])).exitCode).toBe(2);
    const del = await ssh(['delete', copy, origin]);
    expect(del.exitCode).toBe(3);
    expect(del.stderr).toMatch(/newest copy .* never deleted/);
    // A receive whose header lies about the stream: refused, nothing kept.
    const lie = await ssh(['receive', '20300101T000000Z', origin], '{"format":1}\n');
    expect(lie.exitCode).toBe(3);
    // Forwarding and a terminal: nothing.
    const forward = await execa('ssh', [...r.remote.sshOptions(), '-p', String(r.remote.port), '-W', '127.0.0.1:22', `root@${r.remote.address}`], { reject: false, input: '' });
    expect(forward.exitCode).not.toBe(0);
    expect(r.remote.log()).toMatch(/refused local port forward/);
    expect(await remoteEntries(r.remote, r.dir)).toEqual([copy, `${copy}.json`]);

    // A pull-only key (a restore host's) lists and sends, and may not receive or delete.
    const pull = await startReceiver(scratch, suite.bundle, { receiveArgs: ['--pull-only'] });
    const list = await execa(pull.remote.sshArgv(['list'])[0]!, pull.remote.sshArgv(['list']).slice(1), { reject: false });
    expect(list.exitCode, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toMatchObject({ ok: true, protocol: 1, copies: [] });
    for (const words of [['receive', copy, origin], ['delete', copy, origin]]) {
      const res = await execa(pull.remote.sshArgv(words)[0]!, pull.remote.sshArgv(words).slice(1), { reject: false, input: '' });
      expect(res.exitCode, res.stderr).toBe(3);
      expect(res.stderr).toMatch(/is not a request this key may make; this key may ask: list, send/);
    }
  });
});
