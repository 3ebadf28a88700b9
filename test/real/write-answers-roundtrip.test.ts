// --write-answers writes everything the run used, from any source (issue 24): the first init takes its
// registry and state directory from the environment (LYCHD_CRYPT_REGISTRY, LYCHD_CRYPT_STATE) and the rest
// from defaults; the written answers, replayed where that environment names another registry, find the same
// crypt and have nothing to do — for every method (native on a Btrfs host, partition on a loop device,
// loopback) and both profiles (system: PostgreSQL as postgres; rootless: PostgreSQL as the owner).
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { makeLoopDevice, makeUser, mountScratchFs } from '../helpers/host.js';
import { runCli } from '../helpers/init.js';
import { cliSuite } from '../helpers/suite.js';
import type { Scratch } from '../helpers/scratch.js';
import { readRegistry } from '../../src/base/registry/store.js';

const skip = skipReason('root', 'btrfs', 'loop');

type Method = 'native' | 'partition' | 'loopback';
type Profile = 'system' | 'rootless';

/** What the first init is told: only where things go on this scratch host, the rest left to defaults. */
async function firstAnswers(scratch: Scratch, method: Method, profile: Profile): Promise<Record<string, unknown>> {
  const user = profile === 'rootless' ? makeUser(scratch) : null;
  const host = scratch.path('host');
  let crypt = user ? path.join(user.home, '.local/share/lychd') : scratch.path('crypt');
  const answers: Record<string, unknown> = {
    version: 1,
    method,
    persist: { fstab: scratch.path('etc/fstab'), unitDir: scratch.path('etc/systemd/system') },
    install: { binDir: scratch.path('bin') },
  };
  if (method === 'native') {
    await mountScratchFs(scratch, 'btrfs', host);
    crypt = path.join(host, user ? user.name : 'crypt');
  }
  if (method === 'partition') answers.partition = { device: makeLoopDevice(scratch, 300), wipe: true };
  if (method === 'loopback') answers.loopback = { image: scratch.path('img/crypt.img'), size: '256M' };
  answers.crypt = { path: crypt, ...(user ? { user: user.name } : {}) };
  if (user) answers.postgres = { osUser: user.name };
  return answers;
}

describe.skipIf(skip)(`--write-answers replays to "nothing to do" ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  const cases: [Method, Profile][] = [
    ['native', 'system'],
    ['native', 'rootless'],
    ['partition', 'system'],
    ['partition', 'rootless'],
    ['loopback', 'system'],
    ['loopback', 'rootless'],
  ];
  it.each(cases)('%s, %s profile', { timeout: 180_000 }, async (method, profile) => {
    const scratch = await suite.scratch();
    const first = scratch.path('first.yaml');
    writeFileSync(first, stringify(await firstAnswers(scratch, method, profile)));
    const written = scratch.path('written.yaml');
    // The registry and root's state directory come from the environment (as a packaged host sets them).
    const env = { LYCHD_CRYPT_REGISTRY: scratch.path('registry'), LYCHD_CRYPT_STATE: scratch.path('state') };
    const made = runCli(suite.bundle, ['--json', 'init', '--answers', first, '--yes', '--write-answers', written], env);
    expect(made.code, made.stderr).toBe(0);
    expect(made.json.config.profile).toBe(profile);
    const registered = await readRegistry(scratch.path('registry'));
    expect(registered.map((e) => e.config.crypt.path)).toEqual([made.json.config.crypt.path]);

    // Replayed with another registry in the environment: the answers name theirs, and all is as asked.
    const elsewhere = { LYCHD_CRYPT_REGISTRY: scratch.path('other-registry'), LYCHD_CRYPT_STATE: scratch.path('other-state') };
    const replay = runCli(suite.bundle, ['--json', 'init', '--answers', written, '--yes'], elsewhere);
    expect(replay.code, replay.stderr).toBe(0);
    expect(replay.json.changed, JSON.stringify(replay.json.steps.filter((s: { status: string }) => s.status === 'done'))).toBe(0);
    expect(replay.json.config).toEqual(made.json.config);
    expect(await readRegistry(scratch.path('other-registry'))).toEqual([]);
    const human = runCli(suite.bundle, ['init', '--answers', written, '--yes'], elsewhere);
    expect(human.stdout).toMatch(/^nothing to do: the crypt at .* is already set up as asked$/m);
  });
});
