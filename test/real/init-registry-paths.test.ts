// Validation covers every directory init creates outside the crypt: a registry.state or registry.dir whose
// parent does not exist is refused before anything changes (exit 2, at the answers' file:line:col) — it
// used to pass validation and fail at step 13 of 17 of init (issue 29, finding 4).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { skipReason } from '../helpers/env.js';
import { mountScratchFs } from '../helpers/host.js';
import { runCli, writeAnswers } from '../helpers/init.js';
import { cliSuite } from '../helpers/suite.js';

const skip = skipReason('root', 'btrfs', 'loop');

describe.skipIf(skip)(`init: the registry's directories ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  for (const key of ['state', 'dir'] as const) {
    it(`registry.${key} in a directory that does not exist: exit 2 at its line, nothing created (also --dry-run)`, async () => {
      const scratch = await suite.scratch();
      const host = scratch.path('host');
      await mountScratchFs(scratch, 'ext4', host, 300);
      const missing = path.join(host, 'no-such-dir', key);
      const answers = writeAnswers(scratch, {
        crypt: { path: path.join(host, 'crypt') },
        method: 'loopback',
        loopback: { image: path.join(host, 'images/crypt.img'), size: '200M' },
        persist: { via: 'fstab' },
        registry: { [key]: missing },
      });
      const line = readFileSync(answers, 'utf8').split('\n').findIndex((l) => l.includes(missing)) + 1;
      for (const args of [['--dry-run'], ['--yes']]) {
        const r = runCli(suite.bundle, ['init', '--answers', answers, ...args]);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`${answers}:${line}:\\d+: registry\\.${key}: ${path.dirname(missing)} does not exist \\(init makes ${missing} in an existing directory\\)`));
      }
      expect(readdirSync(host)).toEqual(['lost+found']);
      expect(existsSync(scratch.path('etc/fstab'))).toBe(false);
      expect(existsSync(path.join(host, 'no-such-dir'))).toBe(false);
    });
  }
});
