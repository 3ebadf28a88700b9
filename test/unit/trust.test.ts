// Root trusts a path only when no other user could have written it (src/base/registry/trust.ts).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chmodSync, chownSync, lchownSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { untrustedReason } from '../../src/base/registry/trust.js';
import { skipReason } from '../helpers/env.js';

describe.skipIf(skipReason('root'))('untrustedReason', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-trust-'));
    chmodSync(dir, 0o755);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts root-only files and root-owned links to them; refuses what others can write or own', async () => {
    const file = path.join(dir, 'f');
    writeFileSync(file, 'x', { mode: 0o644 });
    expect(await untrustedReason(file)).toBeNull();
    symlinkSync(file, path.join(dir, 'link'));
    expect(await untrustedReason(path.join(dir, 'link'))).toBeNull();
    chmodSync(file, 0o666);
    expect(await untrustedReason(path.join(dir, 'link'))).toMatch(/writable by group or others/);
    chmodSync(file, 0o644);
    chownSync(file, 65534, 65534);
    expect(await untrustedReason(file)).toMatch(/belongs to uid 65534/);
    const userLink = path.join(dir, 'user-link');
    symlinkSync('/etc/hostname', userLink);
    lchownSync(userLink, 65534, 65534);
    expect(await untrustedReason(userLink)).toMatch(/belongs to uid 65534, not root \(a symbolic link\)/);
    chmodSync(dir, 0o777);
    expect(await untrustedReason(path.join(dir, 'missing'))).toMatch(/writable by group or others/);
  });
});
