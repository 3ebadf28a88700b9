// A second administrator's hour with the wizard (issue 24), in a real terminal (tmux): an interactive init
// on a registered crypt — the registry named with --registry on the command line, another one in the
// environment — starts from the registry entry: every question pre-filled with the registered value, the
// preview says "nothing to change", and the registry file stays as it was; a changed answer shows as the
// one registry change and is the only one made. A new crypt of a user other than root gets the rootless
// defaults: PostgreSQL as that user, its role, and "No" asks for role and database; the preview shows the
// profile and the connection. The dry run shows the registry diff.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { makeUser, mountScratchFs, type TestUser } from '../helpers/host.js';
import { runCli } from '../helpers/init.js';
import { cliSuite } from '../helpers/suite.js';
import type { Scratch } from '../helpers/scratch.js';
import { openTerminal, plainTerminalEnv, type Terminal } from '../helpers/tmux.js';

const skip = skipReason('root', 'btrfs', 'loop', 'tmux');

interface Host {
  scratch: Scratch;
  registry: string;
  crypt: string;
  user: TestUser;
  /** The answers file of the first, unattended init. */
  answers: Record<string, unknown>;
  entry: () => string;
}

/** alice's crypt, made unattended with settings the wizard does not ask about and a connection it does. */
async function registeredCrypt(scratch: Scratch, bundle: string): Promise<Host> {
  const host = scratch.path('host');
  await mountScratchFs(scratch, 'ext4', host, 512);
  const user = makeUser(scratch);
  const registry = scratch.path('registry');
  const crypt = path.join(host, 'crypt');
  const answers = {
    version: 1,
    crypt: { path: crypt, user: user.name },
    method: 'loopback',
    loopback: { image: path.join(host, 'img/crypt.img'), size: '256M' },
    persist: { via: 'fstab', fstab: scratch.path('etc/fstab'), unitDir: scratch.path('etc/systemd/system') },
    install: { binDir: scratch.path('bin') },
    registry: { dir: registry, state: scratch.path('state') },
    postgres: { osUser: user.name, connection: { port: 5433, user: 'app' } },
    retention: { keepLast: 5, daily: 7 },
    hooks: { preSnapshot: [['true']], timeout: 30 },
  };
  writeFileSync(scratch.path('first.yaml'), stringify(answers));
  const r = runCli(bundle, ['init', '--answers', scratch.path('first.yaml'), '--yes']);
  expect(r.code, r.stderr).toBe(0);
  return { scratch, registry, crypt, user, answers, entry: () => readFileSync(path.join(registry, `${user.name}.json`), 'utf8') };
}

/** `sudo lychd-crypt --registry DIR init …` for alice, with another registry in the environment. */
function wizard(h: Host, bundle: string, args: string[] = []): Terminal {
  return openTerminal(h.scratch, ['node', bundle, '--registry', h.registry, 'init', ...args], {
    ...plainTerminalEnv(),
    SUDO_USER: h.user.name,
    LYCHD_CRYPT_REGISTRY: h.scratch.path('another-registry'),
  });
}

const enter = (t: Terminal) => t.keys('Enter');

describe.skipIf(skip)(`init again on a registered crypt, in a terminal ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  it('starts from the registry entry: every answer pre-filled, "nothing to change", the entry untouched; one change is the one made', { timeout: 240_000 }, async () => {
    const h = await registeredCrypt(await suite.scratch(), suite.bundle);
    const before = h.entry();

    let t = wizard(h, suite.bundle);
    // The registered crypt is the proposed path: recognised through --registry, no new image proposed.
    const where = await t.waitFor(/◆ {2}Where should the crypt live\?/);
    expect(where).toContain(h.crypt);
    enter(t);
    expect(await t.waitFor(/◆ {2}Image size/)).toMatch(/registered crypt "\w+" \(method loopback on [^)]*\): each question starts from its registered value/);
    expect(t.screen()).toMatch(/◆ {2}Image size[^\n]*\n[^\n]*256M/);
    enter(t);
    expect(await t.waitFor(/◆ {2}How should the mount be made permanent\?/)).toMatch(/● line in fstab/);
    enter(t);
    await t.waitFor(/◆ {2}Will the crypt hold a PostgreSQL data directory/);
    enter(t);
    expect(await t.waitFor(/◆ {2}PostgreSQL OS user/)).toMatch(new RegExp(`◆ {2}PostgreSQL OS user[^\\n]*\\n[^\\n]*${h.user.name}`));
    enter(t);
    await t.waitFor(/◆ {2}How should a rollback stop and start PostgreSQL\?/);
    enter(t);
    await t.waitFor(/◆ {2}Connect through \/var\/run\/postgresql, port 5433, as role app \(database postgres\)\?/);
    enter(t);
    await t.waitFor(/◆ {2}Keep the live WAL/);
    enter(t);
    const preview = await t.waitFor(/◆ {2}Apply this plan\?[^◆]*Cancel/);
    expect(preview).toMatch(/profile rootless/);
    expect(preview).toMatch(new RegExp(`PostgreSQL runs as ${h.user.name} \\(uid ${h.user.uid}\\); connects to /var/run/postgresql port 5433 as role app`));
    expect(preview).toMatch(/Registry \(crypt "\w+" in [^)]*\):[\s│]*nothing to change/);
    // A live crypt: nothing is "created".
    expect(preview).not.toMatch(/Creates:/);
    expect(t.history()).not.toMatch(/How should the crypt get its Btrfs filesystem|already a mount point/);
    await t.choose('Apply');
    expect(await t.exitCode()).toBe(0);
    expect(t.history()).toContain(`nothing to do: the crypt at ${h.crypt} is already set up as asked`);
    expect(h.entry()).toBe(before);

    // One answer changed (the port): the preview names that one change, and it is the only one made.
    t = wizard(h, suite.bundle);
    for (const q of [/Where should the crypt live/, /Image size/, /made permanent/, /PostgreSQL data directory/, /PostgreSQL OS user/, /stop and start PostgreSQL/]) {
      await t.waitFor(new RegExp(`◆ {2}[^\\n]*${q.source}`));
      enter(t);
    }
    await t.waitFor(/◆ {2}Connect through/);
    t.type('n');
    enter(t);
    await t.waitFor(/◆ {2}Socket directory or host/);
    enter(t);
    await t.waitFor(/◆ {2}Port/);
    t.type('5434');
    enter(t);
    expect(await t.waitFor(/◆ {2}Role/)).toMatch(/◆ {2}Role[^\n]*\n[^\n]*app/);
    enter(t);
    await t.waitFor(/◆ {2}Database/);
    enter(t);
    await t.waitFor(/◆ {2}Keep the live WAL/);
    enter(t);
    const changed = await t.waitFor(/◆ {2}Apply this plan\?[^◆]*Cancel/);
    expect(changed).toMatch(/postgres\.connection\.port: 5433 → 5434/);
    expect(changed.match(/ → /g)).toHaveLength(1);
    await t.choose('Apply');
    expect(await t.exitCode()).toBe(0);
    const after = JSON.parse(h.entry());
    const was = JSON.parse(before);
    expect(after.config.postgres.connection).toEqual({ ...was.config.postgres.connection, port: 5434 });
    expect({ ...after.config, postgres: null }).toEqual({ ...was.config, postgres: null });
    expect(after.config.retention).toEqual({ keepLast: 5, daily: 7 });
    expect(after.config.hooks).toMatchObject({ preSnapshot: [['true']], timeout: 30 });
  });

  it('--write-answers keeps what came from --defaults (registry: too): the replay elsewhere has nothing to do', { timeout: 240_000 }, async () => {
    const scratch = await suite.scratch();
    const host = scratch.path('host');
    await mountScratchFs(scratch, 'ext4', host, 512);
    const defaults = scratch.path('defaults.yaml');
    mkdirSync(scratch.path('from-defaults')); // init makes the registry and state inside an existing directory
    writeFileSync(
      defaults,
      stringify({
        version: 1,
        crypt: { path: path.join(host, 'crypt') },
        loopback: { image: path.join(host, 'img/crypt.img'), size: '256M' },
        persist: { fstab: scratch.path('etc/fstab'), unitDir: scratch.path('etc/systemd/system') },
        install: { binDir: scratch.path('bin') },
        registry: { dir: scratch.path('from-defaults/registry'), state: scratch.path('from-defaults/state') },
        retention: { keepLast: 3 },
      }),
    );
    const written = scratch.path('written.yaml');
    const t = openTerminal(scratch, ['node', suite.bundle, 'init', '--defaults', defaults, '--write-answers', written], plainTerminalEnv());
    const answers: [RegExp, (t: Terminal) => Promise<void> | void][] = [
      [/Where should the crypt live/, enter],
      [/How should the crypt get its Btrfs filesystem/, (x) => x.choose('loopback image')],
      [/Image file/, enter],
      [/Image size/, enter],
      [/made permanent/, (x) => x.choose('line in fstab')],
      [/PostgreSQL data directory/, (x) => (x.type('n'), enter(x))],
    ];
    for (const [q, a] of answers) {
      await t.waitFor(new RegExp(`◆ {2}[^\\n]*${q.source}`));
      await a(t);
    }
    await t.waitFor(/◆ {2}Apply this plan\?/);
    await t.choose('Apply');
    expect(await t.exitCode()).toBe(0);
    expect(readFileSync(written, 'utf8')).toContain(scratch.path('from-defaults/registry'));
    // Replayed where the environment names another registry: the written answers name the right one.
    const replay = runCli(suite.bundle, ['--json', 'init', '--answers', written, '--yes'], { LYCHD_CRYPT_REGISTRY: scratch.path('elsewhere') });
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.json.changed).toBe(0);
    expect(replay.json.config.retention).toEqual({ keepLast: 3 });
  });

  it('the dry run shows the registry diff, or "nothing to change"', { timeout: 120_000 }, async () => {
    const h = await registeredCrypt(await suite.scratch(), suite.bundle);
    const same = runCli(suite.bundle, ['init', '--answers', h.scratch.path('first.yaml'), '--dry-run']);
    expect(same.stdout).toMatch(/^registry entry "\w+": nothing to change$/m);
    // Without the connection in the answers, the defaults would replace the registered one: shown, key by key.
    const { connection: _c, ...pg } = h.answers.postgres as Record<string, unknown>;
    writeFileSync(h.scratch.path('other.yaml'), stringify({ ...h.answers, postgres: pg }));
    const diff = runCli(suite.bundle, ['init', '--answers', h.scratch.path('other.yaml'), '--dry-run']);
    expect(diff.stdout).toMatch(/^registry entry "\w+" changes:\n {2}postgres\.connection\.port: 5433 → 5432\n {2}postgres\.connection\.user: app → \w+$/m);
    const json = runCli(suite.bundle, ['--json', 'init', '--answers', h.scratch.path('other.yaml'), '--dry-run']);
    expect(json.json.plan.registryChanges.map((c: { key: string }) => c.key)).toEqual(['postgres.connection.port', 'postgres.connection.user']);
  });

  it('a new crypt of a user who is not root: PostgreSQL as that user, its role; "No" asks role and database; the preview shows profile and connection', { timeout: 240_000 }, async () => {
    const scratch = await suite.scratch();
    const host = scratch.path('host');
    await mountScratchFs(scratch, 'ext4', host, 512);
    const user = makeUser(scratch);
    const defaults = scratch.path('defaults.yaml');
    writeFileSync(
      defaults,
      stringify({
        version: 1,
        crypt: { path: path.join(host, 'crypt') },
        loopback: { image: path.join(host, 'img/crypt.img'), size: '256M' },
        persist: { fstab: scratch.path('etc/fstab'), unitDir: scratch.path('etc/systemd/system') },
        install: { binDir: scratch.path('bin') },
      }),
    );
    const t = openTerminal(scratch, ['node', suite.bundle, 'init', '--defaults', defaults], { ...plainTerminalEnv(), SUDO_USER: user.name });
    await t.waitFor(/◆ {2}Where should the crypt live\?/);
    enter(t);
    await t.waitFor(/◆ {2}How should the crypt get its Btrfs filesystem\?/);
    await t.choose('loopback image');
    await t.waitFor(/◆ {2}Image file/);
    enter(t);
    await t.waitFor(/◆ {2}Image size/);
    enter(t);
    await t.waitFor(/◆ {2}How should the mount be made permanent\?/);
    await t.choose('line in fstab');
    await t.waitFor(/◆ {2}Will the crypt hold a PostgreSQL data directory/);
    enter(t);
    expect(await t.waitFor(/◆ {2}PostgreSQL OS user/)).toMatch(new RegExp(`◆ {2}PostgreSQL OS user[^\\n]*\\n[^\\n]*${user.name}`));
    enter(t);
    await t.waitFor(/◆ {2}How should a rollback stop and start PostgreSQL\?/);
    await t.choose('pg_ctl');
    await t.waitFor(new RegExp(`◆ {2}Connect through /var/run/postgresql, port 5432, as role ${user.name} \\(database postgres\\)\\?`));
    t.type('n');
    enter(t);
    await t.waitFor(/◆ {2}Socket directory or host/);
    enter(t);
    await t.waitFor(/◆ {2}Port/);
    enter(t);
    await t.waitFor(/◆ {2}Role/);
    enter(t);
    await t.waitFor(/◆ {2}Database/);
    t.type('lychd');
    enter(t);
    await t.waitFor(/◆ {2}Keep the live WAL/);
    enter(t);
    const preview = await t.waitFor(/◆ {2}Apply this plan\?[^◆]*Cancel/);
    expect(preview).toMatch(new RegExp(`profile rootless: ${user.name} runs snapshot, rollback and the rest without root`));
    expect(preview).toMatch(new RegExp(`connects to /var/run/postgresql port 5432 as role ${user.name}, database lychd`));
    await t.choose('Apply');
    expect(await t.exitCode()).toBe(0);
    const entry = JSON.parse(readFileSync(path.join(scratch.path('registry'), `${user.name}.json`), 'utf8'));
    expect(entry.config).toMatchObject({ profile: 'rootless', postgres: { osUser: user.name, uid: user.uid, connection: { user: user.name, database: 'lychd' } } });
  });
});
