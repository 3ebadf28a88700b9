// Naming snapshots through the real CLI on a crypt (no database): a unique prefix, a label, latest and
// previous work for rollback, delete and pin; an ambiguous or unknown name lists the candidates and
// changes nothing; delete --dry-run changes nothing; delete without --yes off a terminal refuses (exit 3)
// with the exact command to run.
import { describe, expect, test } from 'vitest';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { makeCryptFixture } from '../helpers/crypt-fixture.js';
import { cli, cliChild } from '../helpers/snap.js';
import { cliSuite, scratchSuite } from '../helpers/suite.js';
import { openTerminal } from '../helpers/tmux.js';

const skip = skipReason('root', 'btrfs', 'loop');
const scratches = scratchSuite();
let scratch: Scratch | undefined;

describe.skipIf(skip)(`snapshot names: prefix, label, latest, previous ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test('rollback, delete and pin resolve names one way; ambiguous and unknown names change nothing', async () => {
    scratch = await scratches.scratch();
    const fx = await makeCryptFixture(scratch, { postgres: false, sizeMiB: 300 });
    const data = path.join(fx.paths.active, 'data.txt');
    const take = async (content: string, label: string): Promise<string> => {
      await writeFile(data, content);
      const r = await cli(fx.root, ['--json', 'snapshot', '--label', label]);
      expect(r.code, r.stderr).toBe(0);
      return r.json.snapshot.name;
    };
    const a = await take('v1', 'alpha');
    const b = await take('v2', 'nightly');
    const c = await take('v3', 'nightly');
    await writeFile(data, 'v4');
    const entries = async (): Promise<string[]> => (await readdir(fx.paths.snapshots)).sort();
    const before = await entries();

    // Ambiguous label, ambiguous prefix, unknown name: exit 2, the candidates listed, nothing changed.
    const ambiguous = await cli(fx.root, ['rollback', 'nightly', '--yes']);
    expect(ambiguous.code, ambiguous.stderr).toBe(2);
    expect(ambiguous.stderr).toContain(`lychd-crypt: "nightly" matches 2 snapshots: ${c}, ${b}; give more of the name`);
    const prefix = await cli(fx.root, ['delete', a.slice(0, 8), '--yes']);
    expect(prefix.code).toBe(2);
    expect(prefix.stderr).toMatch(new RegExp(`"${a.slice(0, 8)}" matches 3 snapshots: `));
    const typo = await cli(fx.root, ['delete', 'alpah', '--yes']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain(`lychd-crypt: no such snapshot: alpah; did you mean ${a}?`);
    // The same wording from every command.
    for (const cmd of [['rollback', 'alpah', '--yes'], ['pin', 'alpah'], ['label', 'alpah', 'x']]) {
      const r = await cli(fx.root, cmd);
      expect(r.code, cmd.join(' ')).toBe(2);
      expect(r.stderr.split('\n')[0]).toBe(`lychd-crypt: no such snapshot: alpah; did you mean ${a}?`);
    }
    expect(await entries()).toEqual(before);
    expect(await readFile(data, 'utf8')).toBe('v4');

    // A label and a unique prefix.
    const byLabel = await cli(fx.root, ['--json', 'rollback', 'alpha', '--yes']);
    expect(byLabel.code, byLabel.stderr).toBe(0);
    expect(byLabel.json.target).toBe(a);
    expect(await readFile(data, 'utf8')).toBe('v1');
    const pre = byLabel.json.preRollback as string;
    // c is <time>-nightly or (in b's second) <time>-nightly-2: without its last letter it is still unique.
    const byPrefix = await cli(fx.root, ['--json', 'rollback', c.slice(0, -1), '--yes']);
    expect(byPrefix.code, byPrefix.stderr).toBe(0);
    expect(byPrefix.json.target).toBe(c);
    expect(await readFile(data, 'utf8')).toBe('v3');

    // latest / previous: by time. pin takes them too.
    const list = async (): Promise<string[]> => (await cli(fx.root, ['--json', 'list'])).json.snapshots.map((s: { name: string }) => s.name);
    const [latest, previous] = await list();
    const pin = await cli(fx.root, ['--json', 'pin', 'previous']);
    expect(pin.code, pin.stderr).toBe(0);
    expect(pin.json.name).toBe(previous);

    // delete --dry-run: what would go, nothing changed.
    const now = await entries();
    const dry = await cli(fx.root, ['--json', 'delete', 'latest', 'alpha', '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json).toEqual({ ok: true, dryRun: true, wouldDelete: [latest, a], pinned: [] });
    const dryHuman = await cli(fx.root, ['delete', 'latest', '--dry-run']);
    expect(dryHuman.stdout).toMatch(new RegExp(`^would delete ${latest} \\(`));
    expect(dryHuman.stdout).toMatch(/\(dry run: nothing was changed\)\n$/);
    expect(await entries()).toEqual(now);

    // Without --yes and without a terminal: refused (exit 3) with the exact command, nothing changed.
    const refused = await cli(fx.root, ['delete', 'alpha']);
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain(`give consent with: lychd-crypt --registry ${process.env.LYCHD_CRYPT_REGISTRY} --crypt ${fx.root} delete ${a} --yes`);
    expect(await entries()).toEqual(now);

    // With --yes: the label and latest resolve and go; the rest stays.
    const del = await cli(fx.root, ['--json', 'delete', 'alpha', 'latest', '--yes']);
    expect(del.code, del.stderr).toBe(0);
    expect(del.json.deleted).toEqual([a, latest]);
    expect(await list()).not.toContain(a);
    expect(await list()).toContain(pre === latest ? c : pre);
    expect(await readdir(fx.paths.active)).toContain('data.txt');
  });

  const termSkip = skipReason('tmux');
  describe.skipIf(termSkip)(`delete at a terminal ${termSkip ? `(skipped: ${termSkip})` : ''}`, () => {
    const suite = cliSuite();

    test('the confirmation lists what goes and defaults to No (exit 3, nothing deleted); y + Enter deletes', async () => {
      const term = await suite.scratch();
      const fx = await makeCryptFixture(term, { postgres: false, sizeMiB: 300 });
      const snap = await cliChild(suite.bundle, fx.root, ['--json', 'snapshot', '--label', 'doomed']);
      expect(snap.code, snap.stderr).toBe(0);
      const name: string = snap.json.snapshot.name;
      const before = (await readdir(fx.paths.snapshots)).sort();

      const no = openTerminal(term, ['node', suite.bundle, '--crypt', fx.root, 'delete', 'doomed']);
      const screen = await no.waitFor(/Delete /);
      expect(screen).toContain(name);
      expect(screen).toMatch(/cannot be undone/);
      no.keys('Enter');
      expect(await no.exitCode()).toBe(3);
      expect((await readdir(fx.paths.snapshots)).sort()).toEqual(before);

      const yes = openTerminal(term, ['node', suite.bundle, '--crypt', fx.root, 'delete', 'latest']);
      await yes.waitFor(/Delete /);
      yes.keys('y');
      yes.keys('Enter');
      expect(await yes.exitCode()).toBe(0);
      expect(await readdir(fx.paths.snapshots)).toEqual([]);
    }, 120_000);
  });
});
