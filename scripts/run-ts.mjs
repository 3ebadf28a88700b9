// Runs a TypeScript module's `main(args)` (packaging/*.ts) with plain node: bundles it like the runtime
// into a private temporary directory, calls main with the remaining arguments from the repository root,
// removes the bundle.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [entry, ...args] = process.argv.slice(2);
if (!entry) throw new Error('usage: node scripts/run-ts.mjs ENTRY.ts [ARGS...]');
const root = path.resolve(import.meta.dirname, '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-run-ts-'));
try {
  const built = spawnSync(process.execPath, [path.join(root, 'scripts/build.mjs'), path.resolve(entry), dir], { stdio: 'inherit' });
  // The build writes the module as main.mjs (beside a CommonJS launcher that would only import it).
  const out = path.join(dir, 'main.mjs');
  if (built.status !== 0) process.exit(built.status ?? 1);
  process.chdir(root);
  const mod = await import(pathToFileURL(out).href);
  await mod.main(args);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
