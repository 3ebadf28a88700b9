// runtime.installed: `<install.binDir>/lychd-crypt` exists, every file of its runtime directory is there
// and unaltered (the build's manifest.json), and it runs and is this version.
// runtime.codecache: the code cache of the user running doctor can be used (else every command compiles
// its code again, about a third slower to start: docs/performance.md, "Start-up"); advice, never a problem.
import { access, realpath } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import type { DoctorEnv } from './doctor-env.js';
import { manifestProblems } from '../base/bundle/manifest.js';
import { untrustedRuntimeReason } from '../base/registry/trust.js';
import { codeCacheDir, untrustedCacheDir } from '../base/bundle/code-cache.js';
import { advice, fixable, manual, ok, type Check } from './findings.js';
import { findRuntime } from '../install/detect/probes.js';
import { PACKAGED_RUNTIME } from '../base/bundle/packaged.js';

export async function checkRuntime(env: DoctorEnv): Promise<Check> {
  const id = 'runtime.installed';
  const target = path.join(env.config!.install.binDir, 'lychd-crypt');
  // What repair would install: this version's runtime, found now (it only looks; null: none, and repair says so).
  const source = await findRuntime();
  const step = [{ kind: 'install-runtime' as const, source, target, mode: 0o755, link: source === PACKAGED_RUNTIME }];
  try {
    await access(target, constants.X_OK);
  } catch {
    return fixable(id, `the runtime command ${target} is not installed`, `install this version as ${target}`, step);
  }
  // Root never runs a program another user could have replaced: not the entry, not main.js or a vendored file beside it.
  const why = process.getuid?.() === 0 ? await untrustedRuntimeReason(target) : null;
  if (why) return manual(id, `${target} is not run: ${why}`, `install it where only root can write (install.binDir such as /usr/local/bin), then \`lychd-crypt repair\``);
  const dir = path.dirname(await realpath(target));
  const damaged = await manifestProblems(dir);
  if (damaged.length) return fixable(id, `the runtime ${dir}/ of ${target} is not whole: ${damaged.join('; ')}`, `reinstall this version as ${target}`, step);
  const r = await env.runner.run([target, '--version'], { allowFailure: true, timeoutMs: 30_000 });
  const got = r.stdout.trim();
  if (r.exitCode !== 0) return fixable(id, `${target} --version fails (exit ${r.exitCode})`, `reinstall this version as ${target}`, step);
  if (got !== env.version) return fixable(id, `${target} is version ${got || '(none)'}, this is ${env.version}`, `install this version as ${target}`, step);
  return ok(id, `${target} is version ${env.version}`);
}

export function checkCodeCache(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? -1): Check {
  const id = 'runtime.codecache';
  const dir = codeCacheDir(env, uid);
  if (!dir) return ok(id, env.LYCHD_CRYPT_COMPILE_CACHE === '0' ? 'no code cache (LYCHD_CRYPT_COMPILE_CACHE=0)' : 'no code cache (no HOME to keep it in)');
  const why = untrustedCacheDir(dir, uid); // a missing one is made on first use: its parent is judged
  if (why) return advice(id, `the code cache ${dir} is not used: ${why}; every command compiles its code again and starts about a third slower`, `make each directory on the way yours or root's and writable by no one else (chmod go-w), or point LYCHD_CRYPT_COMPILE_CACHE at such a directory`);
  return ok(id, `code cache in ${dir}`);
}
