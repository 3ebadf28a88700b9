// runtime.installed: `<install.binDir>/lychd-crypt` exists, every file of its runtime directory is there
// and unaltered (the build's manifest.json), it runs and is this version, and koffi's addon beside it loads
// (`--version --runtime`: base/bundle/self-check.ts). A command installed before the single executable (a
// Node-run lychd-crypt.js) is replaced by repair when this version is the single executable — and is a
// problem anyway when the host has no node to run it.
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
import { NODE_ENTRY, PACKAGED_RUNTIME, SEA_ENTRY } from '../base/bundle/packaged.js';
import type { RuntimeReport } from '../base/bundle/self-check.js';

/** What `--version --runtime` printed: the report, or (a runtime older than the question) the version alone. */
export function parseRuntimeReport(stdout: string): Partial<RuntimeReport> & { version: string } {
  try {
    const r = JSON.parse(stdout) as Partial<RuntimeReport>;
    if (r && typeof r === 'object' && typeof r.version === 'string') return r as RuntimeReport;
  } catch {
    /* a version line */
  }
  return { version: stdout.trim() };
}

/** `findSource`: what repair would install (the tests give their own). */
export async function checkRuntime(env: DoctorEnv, findSource: () => Promise<string | null> = () => findRuntime()): Promise<Check> {
  const id = 'runtime.installed';
  const target = path.join(env.config!.install.binDir, 'lychd-crypt');
  // What repair would install: this version's runtime, found now (it only looks; null: none, and repair says so).
  const source = await findSource();
  const step = [{ kind: 'install-runtime' as const, source, target, mode: 0o755, link: source === PACKAGED_RUNTIME }];
  try {
    await access(target, constants.X_OK);
  } catch {
    return fixable(id, `the runtime command ${target} is not installed`, `install this version as ${target}`, step);
  }
  // Root never runs a program another user could have replaced: not the entry, not main.js or a vendored file beside it.
  const why = process.getuid?.() === 0 ? await untrustedRuntimeReason(target) : null;
  if (why) return manual(id, `${target} is not run: ${why}`, `install it where only root can write (install.binDir such as /usr/local/bin), then \`lychd-crypt repair\``);
  const entry = await realpath(target);
  const dir = path.dirname(entry);
  const damaged = await manifestProblems(dir);
  if (damaged.length) return fixable(id, `the runtime ${dir}/ of ${target} is not whole: ${damaged.join('; ')}`, `reinstall this version as ${target}`, step);
  const nodeRun = path.basename(entry) === NODE_ENTRY;
  const seaAvailable = source !== null && path.basename(source) === SEA_ENTRY;
  const r = await env.runner.run([target, '--version', '--runtime'], { allowFailure: true, timeoutMs: 30_000 });
  const report = parseRuntimeReport(r.stdout);
  if (r.exitCode !== 0) {
    if (report.addon === null) return fixable(id, `${target} cannot load its native addon ${dir}/koffi.node: ${report.error ?? 'unknown error'}`, `reinstall this version as ${target}`, step);
    // `#!/usr/bin/env node` finds no node: env says so and exits 127.
    if (nodeRun && r.exitCode === 127) {
      const finding = `${target} runs on Node.js (${entry}) and this host has no node`;
      if (seaAvailable) return fixable(id, finding, `install this version's single executable as ${target} (it needs no Node.js)`, step);
      return manual(id, finding, 'install the lychd-crypt Debian package (it carries its own Node.js), then `lychd-crypt repair`; or install Node.js 20.12 or newer');
    }
    return fixable(id, `${target} --version fails (exit ${r.exitCode})`, `reinstall this version as ${target}`, step);
  }
  if (report.version !== env.version) return fixable(id, `${target} is version ${report.version || '(none)'}, this is ${env.version}`, `install this version as ${target}`, step);
  if (nodeRun && seaAvailable) return fixable(id, `${target} runs on the host's Node.js (${entry}); this version is a single executable that needs none`, `install this version's single executable as ${target}`, step);
  return ok(id, `${target} is version ${env.version}${report.sea ? ` (single executable, Node.js ${report.node})` : report.node ? ` (on Node.js ${report.node})` : ''}`);
}

export function checkCodeCache(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? -1): Check {
  const id = 'runtime.codecache';
  const dir = codeCacheDir(env, uid);
  if (!dir) return ok(id, env.LYCHD_CRYPT_COMPILE_CACHE === '0' ? 'no code cache (LYCHD_CRYPT_COMPILE_CACHE=0)' : 'no code cache (no HOME to keep it in)');
  const why = untrustedCacheDir(dir, uid); // a missing one is made on first use: its parent is judged
  if (why) return advice(id, `the code cache ${dir} is not used: ${why}; every command compiles its code again and starts about a third slower`, `make each directory on the way yours or root's and writable by no one else (chmod go-w), or point LYCHD_CRYPT_COMPILE_CACHE at such a directory`);
  return ok(id, `code cache in ${dir}`);
}
