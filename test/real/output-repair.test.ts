// Output that can be trusted, and repair that helps, on real crypts: the --json envelope of list, snapshot,
// doctor, verify, a usage error and a runtime failure; a follow-up command pasted as is from a root shell
// whose PATH lacks the install directory; repair applying safe steps without consent (each shown once),
// rebuilding the metadata a complete snapshot lost (verify then passes, pg_amcheck found beside the real
// pg_ctl behind a directory of wrappers), and moving back a snapshots/ moved by hand.
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipReason, PG_BIN } from '../helpers/env.js';
import { sh } from '../helpers/host.js';
import { runCli } from '../helpers/init.js';
import { makeCryptFixture } from '../helpers/crypt-fixture.js';
import { type Scratch } from '../helpers/scratch.js';
import { cliSuite } from '../helpers/suite.js';
import { initCrypt } from '../helpers/doctor.js';
import { cli, cryptWithServer } from '../helpers/snap.js';
import { openTerminal } from '../helpers/tmux.js';

const skip = skipReason('root', 'btrfs', 'loop', 'pg15', 'tmux');
/** A root shell's PATH without the crypt's install directory. */
const ROOT_PATH = '/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin';

const problems = (r: { json: { checks?: { id: string; status: string }[] } }) => (r.json.checks ?? []).filter((c) => c.status === 'problem').map((c) => c.id);

describe.skipIf(skip)(`output and repair ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();
  let scratch: Scratch | undefined;

  it('a lost metadata file is rebuilt (no consent needed), not deleted; the snapshot then verifies; every --json is one envelope', async () => {
    scratch = await suite.scratch();
    // postgres.bin is a directory of links (as PATH wrappers would be) without pg_amcheck.
    const wrap = scratch.path('wrappers');
    mkdirSync(wrap);
    for (const f of readdirSync(PG_BIN[15]).filter((f) => f !== 'pg_amcheck')) symlinkSync(path.join(PG_BIN[15], f), path.join(wrap, f));
    const { fx, server } = await cryptWithServer(scratch, 15, { fixture: { pgBin: wrap } });
    // What init would have done: the runtime command installed, the mount record written (safe: no --yes).
    mkdirSync(fx.config.install.binDir, { recursive: true });
    writeFileSync(path.join(fx.config.install.binDir, 'lychd-crypt'), `#!/bin/sh\nexec ${process.execPath} ${suite.bundle} "$@"\n`, { mode: 0o755 });
    const baseline = await cli(fx.root, ['repair']);
    expect(baseline.code, baseline.stdout + baseline.stderr).toBe(0);
    await server.query('create table t (id int primary key, v text)');
    await server.query("insert into t select g, md5(g::text) from generate_series(1, 5000) g");

    const snap = await cli(fx.root, ['--json', 'snapshot', '--label', 'before upgrade']);
    expect(snap.code, snap.stderr).toBe(0);
    expect(Object.keys(snap.envelope).sort()).toEqual(['command', 'data', 'error', 'exit', 'ok', 'version']);
    expect(snap.envelope).toMatchObject({ version: 1, command: 'snapshot', ok: true, exit: 0, error: null });
    const name = snap.json.snapshot.name as string;
    const metaFile = path.join(fx.paths.snapshots, `${name}.json`);
    const original = JSON.parse(readFileSync(metaFile, 'utf8'));
    rmSync(metaFile);

    const doctor = await cli(fx.root, ['--json', 'doctor']);
    expect(doctor.envelope).toMatchObject({ version: 1, command: 'doctor', ok: false, exit: 1, error: null });
    expect(problems(doctor)).toEqual(['snapshots.metadata-lost']);
    const dry = await cli(fx.root, ['--json', 'repair', '--dry-run']);
    expect(dry.json.plan.steps.map((s: { kind: string; needsConsent: boolean }) => [s.kind, s.needsConsent])).toEqual([['rebuild-metadata', false]]);
    expect(existsSync(metaFile)).toBe(false);

    // Not a terminal and no --yes: rebuilding is safe, so it is done anyway.
    const repair = await cli(fx.root, ['--json', 'repair']);
    expect(repair.code, repair.stdout + repair.stderr).toBe(0);
    expect(repair.json.done.map((d: { kind: string }) => d.kind)).toEqual(['rebuild-metadata']);
    const rebuilt = JSON.parse(readFileSync(metaFile, 'utf8'));
    expect(rebuilt).toMatchObject({
      name,
      label: 'before-upgrade',
      mode: 'checkpoint',
      btrfs: { uuid: original.btrfs.uuid },
      postgres: { systemIdentifier: original.postgres.systemIdentifier, major: 15 },
      rebuilt: { checkpointLsn: expect.stringMatching(/^[0-9A-F]+\/[0-9A-F]+$/), timeline: 1 },
    });
    // The subvolume's creation time is the snapshot's instant (to the second the Ritual recorded).
    expect(Math.abs(Date.parse(rebuilt.createdAt) - Date.parse(original.createdAt))).toBeLessThan(2000);

    const list = await cli(fx.root, ['--json', 'list']);
    expect(list.envelope).toMatchObject({ version: 1, command: 'list', ok: true, exit: 0, error: null });
    expect(list.json.snapshots.map((s: { name: string }) => s.name)).toEqual([name]);

    // The rebuilt snapshot restores; pg_amcheck is found beside the real pg_ctl, not in the wrapper directory.
    const verify = await cli(fx.root, ['--json', 'verify', name]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    expect(verify.envelope).toMatchObject({ version: 1, command: 'verify', ok: true, exit: 0, error: null });
    const amcheck = verify.json.checks.find((c: { name: string }) => c.name === 'amcheck');
    expect(amcheck).toMatchObject({ ok: true, detail: expect.stringContaining(path.join(PG_BIN[15], 'pg_amcheck')) });
    // Progress never reaches stdout: it stays one document.
    expect(() => JSON.parse(verify.stdout)).not.toThrow();
  }, 240_000);

  it('safe steps are applied without consent, destructive ones wait; each step is shown once; usage and runtime errors are envelopes', async () => {
    scratch = await suite.scratch();
    const c = await initCrypt(scratch, suite.bundle, { via: 'none' });
    const fx = { root: c.crypt };
    const active = path.join(c.crypt, 'active');
    chownSync(active, 0, 0);
    const stray = path.join(fx.root, '.staging-stray');
    sh(['btrfs', 'subvolume', 'create', stray]);
    const doctor = c.cli('--json', 'doctor');
    expect(problems(doctor).sort()).toEqual(['layout.staging', 'owners.active']);

    const r = c.cli('repair');
    expect(r.code, r.stdout + r.stderr).toBe(3);
    expect(lstatSync(active).uid).toBe(c.user.uid); // done without asking
    expect(existsSync(stray)).toBe(true); // waits for consent
    const all = r.stdout + r.stderr;
    expect(all.match(/chown \S+ .*\/active/g), all).toHaveLength(1);
    expect(all.match(/delete stray staging subvolume/g), all).toHaveLength(1);
    expect(r.stdout).toMatch(/not done \(no terminal and no --yes; this step needs --yes or a yes at a terminal\):\n {2}- delete stray staging subvolume \.staging-stray/);
    // Pasteable: the installed command (its directory is not on the test's PATH), the registry (not the
    // default: sudo would drop the variable) and the crypt given.
    expect(r.stdout).toContain(`to do it: \`${c.bin} --registry ${process.env.LYCHD_CRYPT_REGISTRY} --crypt ${fx.root} repair --yes\``);
    expect(all).not.toMatch(/\/proc\/\d+\/fd/);
    expect(r.stdout).not.toMatch(/repair would/);

    const yes = c.cli('--json', 'repair', '--yes');
    expect(yes.code, yes.stdout + yes.stderr).toBe(0);
    expect(yes.json.withheld).toEqual([]);
    expect(existsSync(stray)).toBe(false);

    // A usage error commander finds, through the real suite.bundle: the envelope on stdout, one line on stderr.
    const usage = runCli(suite.bundle, ['--json', '--crypt', fx.root, 'delete']);
    expect(usage.code).toBe(2);
    expect(usage.envelope).toMatchObject({ version: 1, command: 'delete', ok: false, exit: 2, data: null, error: { code: 'usage', exit: 2 } });
    expect(usage.stderr).not.toMatch(/Usage:/);
    // A runtime failure: the same envelope.
    const missing = runCli(suite.bundle, ['--json', '--crypt', fx.root, 'delete', 'nope']);
    expect(missing.code).toBe(2);
    expect(missing.envelope).toMatchObject({ version: 1, command: 'delete', ok: false, data: null, error: { code: 'usage', message: expect.stringMatching(/nope/) } });
  }, 120_000);

  it('snapshots/ moved by hand: doctor names where it went (no raw ENOENT), repair moves it back with consent', async () => {
    scratch = await suite.scratch();
    const c = await initCrypt(scratch, suite.bundle, { via: 'none' });
    const fx = { root: c.crypt, paths: { snapshots: path.join(c.crypt, 'snapshots') } };
    const snap = c.cli('--json', 'snapshot');
    expect(snap.code, snap.stderr).toBe(0);
    const moved = path.join(fx.root, 'snaps-old');
    renameSync(fx.paths.snapshots, moved);

    const doctor = c.cli('--json', 'doctor');
    expect(doctor.code).toBe(1);
    expect(problems(doctor)).toEqual(['layout.snapshots']);
    expect(JSON.stringify(doctor.json.checks)).not.toMatch(/ENOENT|scandir/);
    expect(doctor.json.checks.filter((c: { status: string }) => c.status === 'cannot-check')).toEqual([]);
    const check = doctor.json.checks.find((c: { id: string }) => c.id === 'layout.snapshots');
    expect(check.finding).toContain(`${moved} beside active/ holds 1 snapshot(s)`);
    const human = c.cli('doctor');
    expect(human.stdout).toMatch(/snaps-old/);

    const refused = c.cli('repair');
    expect(refused.code).toBe(3);
    expect(existsSync(fx.paths.snapshots)).toBe(false); // not recreated empty behind the user's back
    expect(existsSync(moved)).toBe(true);
    const yes = c.cli('--json', 'repair', '--yes');
    expect(yes.code, yes.stdout + yes.stderr).toBe(0);
    expect(existsSync(moved)).toBe(false);
    expect(c.cli('--json', 'list').json.snapshots.map((s: { name: string }) => s.name)).toEqual([snap.json.snapshot.name]);
    expect(c.cli('doctor').code).toBe(0);
  }, 120_000);

  it('"undo with: …" pastes as is into a root shell whose PATH lacks the install directory', async () => {
    scratch = await suite.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    // The installed runtime command, as init installs it into install.binDir (not on ROOT_PATH).
    const binDir = fx.config.install.binDir;
    mkdirSync(binDir, { recursive: true });
    const installed = path.join(binDir, 'lychd-crypt');
    writeFileSync(installed, `#!/bin/sh\nexec ${process.execPath} ${suite.bundle} "$@"\n`, { mode: 0o755 });
    const env = { PATH: ROOT_PATH };
    const snap = runCli(suite.bundle, ['--json', '--crypt', fx.root, 'snapshot', '--mode', 'none'], env);
    expect(snap.code, snap.stderr).toBe(0);
    writeFileSync(path.join(fx.paths.active, 'after.txt'), 'later');

    const rb = runCli(suite.bundle, ['--crypt', fx.root, 'rollback', snap.json.snapshot.name, '--yes'], env);
    expect(rb.code, rb.stderr).toBe(0);
    const undo = /undo with: (.*)$/m.exec(rb.stdout)?.[1];
    expect(undo).toMatch(new RegExp(`^${installed} --registry ${process.env.LYCHD_CRYPT_REGISTRY} --crypt ${fx.root} rollback \\S+-pre-rollback$`));
    expect(existsSync(path.join(fx.paths.active, 'after.txt'))).toBe(false);

    // Pasted into a terminal (a root shell without binDir on PATH), answered yes.
    const t = openTerminal(scratch, ['env', `PATH=${ROOT_PATH}`, 'sh', '-c', undo!]);
    await t.waitFor(/Roll back to/);
    t.keys('y');
    t.keys('Enter');
    expect(await t.exitCode(120_000)).toBe(0);
    expect(readFileSync(path.join(fx.paths.active, 'after.txt'), 'utf8')).toBe('later');
  }, 180_000);
});
