// The single executable (what the packages ship) running itself again as a rootless crypt's owner: root
// runs a runtime command on the owner's crypt, and the command must be carried out by the owner's process
// (src/base/bundle/self.ts: the executable alone, its argv[1] being itself again). What it makes is the
// owner's; without a terminal nothing is relayed; an owner's own call needs no re-run at all.
import { describe, expect, it } from 'vitest';
import { chmodSync, copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { runAs } from '../helpers/as-user.js';
import { makeCryptFixture } from '../helpers/crypt-fixture.js';
import { REPO, skipReason } from '../helpers/env.js';
import { makeUser } from '../helpers/host.js';
import { scratchSuite } from '../helpers/suite.js';

const SEA = path.join(REPO, 'dist/sea');
const seaMissing = (): string | undefined => {
  if (existsSync(path.join(SEA, 'lychd-crypt'))) return undefined;
  const reason = 'dist/sea/lychd-crypt is not built (npm run build)';
  if (process.env.CI === 'true') throw new Error(`CI: prerequisite missing: ${reason} (scripts/setup.sh builds it)`);
  return reason;
};
const skip = skipReason('root', 'btrfs', 'loop') ?? seaMissing();

describe.skipIf(skip)(`the single executable on a rootless crypt ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const scratches = scratchSuite();

  it("root's command is carried out by the owner's process; the owner's own call runs directly", { timeout: 180_000 }, async () => {
    const scratch = await scratches.scratch();
    const owner = makeUser(scratch);
    // The executable where root alone may write (as /usr/lib/lychd-crypt is), readable by the owner.
    const dir = scratch.path('usr/lib/lychd-crypt');
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    for (const f of ['lychd-crypt', 'koffi.node', 'manifest.json']) copyFileSync(path.join(SEA, f), path.join(dir, f));
    chmodSync(path.join(dir, 'lychd-crypt'), 0o755);
    const sea = path.join(dir, 'lychd-crypt');
    const fx = await makeCryptFixture(scratch, { owner, rootless: true, root: path.join(owner.home, '.local/share/lychd'), sizeMiB: 300, postgres: false });

    const byRoot = await runAs(null, [sea, '--crypt', owner.name, '--json', 'snapshot', '--label', 'by-root']);
    expect(byRoot.code, byRoot.stderr).toBe(0);
    const name = byRoot.json.snapshot.name as string;
    // The owner's process made it: the snapshot and its metadata are the owner's, not root's.
    expect((await lstat(path.join(fx.paths.snapshots, name))).uid).toBe(owner.uid);
    expect((await lstat(path.join(fx.paths.snapshots, `${name}.json`))).uid).toBe(owner.uid);

    const byOwner = await runAs(owner, [sea, '--crypt', owner.name, '--json', 'list']);
    expect(byOwner.code, byOwner.stderr).toBe(0);
    expect((byOwner.json.snapshots as { name: string }[]).map((s) => s.name)).toContain(name);

    // The same as root through the executable: what it reports comes from the owner's process too.
    const listed = await runAs(null, [sea, '--crypt', owner.name, '--json', 'list']);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.json).toEqual(byOwner.json);
  });
});
