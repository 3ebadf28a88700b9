// A private copy of the repository's tracked files (node_modules linked, not copied) for packaging tests:
// `npm pack` and `npm run package:deb` rebuild dist/, which must not race the other test files' builds.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { REPO } from './env.js';
import type { Scratch } from './scratch.js';

export function copyTree(scratch: Scratch, name = 'repo'): string {
  const dest = scratch.path(name);
  // Tracked files plus new, not yet committed ones (a work tree under development), without ignored ones.
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: REPO, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const f of files) {
    mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    try {
      cpSync(path.join(REPO, f), path.join(dest, f));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // deleted in the work tree
    }
  }
  symlinkSync(path.join(REPO, 'node_modules'), path.join(dest, 'node_modules'));
  // The Node.js the single executable embeds (packaging/sea-node: a project of its own).
  symlinkSync(path.join(REPO, 'packaging/sea-node/node_modules'), path.join(dest, 'packaging/sea-node/node_modules'));
  return dest;
}
