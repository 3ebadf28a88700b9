// Helpers for the real init tests: an answers file whose host paths all point into the scratch dir,
// a private build of the CLI (parallel test files must not rebuild dist/ under each other), and checks.
import { spawnSync } from 'node:child_process';
import { lstatSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { REPO } from './env.js';
import { sh } from './host.js';
import type { Scratch } from './scratch.js';

/** Answers with persist.fstab, persist.unitDir, install.binDir (and the image) inside the scratch dir. */
export function writeAnswers(scratch: Scratch, answers: Record<string, unknown>, name = 'answers.yaml'): string {
  const full = {
    version: 1,
    ...answers,
    persist: { fstab: scratch.path('etc/fstab'), unitDir: scratch.path('etc/systemd/system'), ...(answers.persist as object) },
    install: { binDir: scratch.path('bin'), ...(answers.install as object) },
    registry: { dir: scratch.path('registry'), state: scratch.path('state'), ...(answers.registry as object) },
  };
  // The runtime commands these tests run (in this process or as children) find the same registry.
  process.env.LYCHD_CRYPT_REGISTRY = full.registry.dir;
  const file = scratch.path(name);
  writeFileSync(file, stringify(full));
  return file;
}

/** Builds the runtime directory into the scratch dir (like `npm run build`, private to this test); its entry. */
export function buildCli(scratch: Scratch): string {
  const out = scratch.path('dist/lychd-crypt');
  sh(['node', `${REPO}/scripts/build.mjs`, `${REPO}/src/main.ts`, out]);
  return `${out}/lychd-crypt.js`;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** --json: the envelope's data, or for a failure (data null) the whole envelope (so json.error is there). */
  json: any;
  /** --json: the whole envelope (docs/json.md). */
  envelope?: any;
}

/** Parses --json output: one envelope { version, command, ok, exit, data, error } (docs/json.md). */
export function parseJsonOutput(stdout: string): { json: any; envelope: any } {
  let envelope: any;
  try {
    envelope = JSON.parse(stdout);
  } catch {
    return { json: undefined, envelope: undefined };
  }
  const isEnvelope = envelope && typeof envelope === 'object' && envelope.version === 1 && 'ok' in envelope && 'data' in envelope && 'error' in envelope;
  if (!isEnvelope) return { json: envelope, envelope: undefined };
  return { json: envelope.data ?? envelope, envelope };
}

export function runCli(cli: string, args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync('node', [cli, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, cwd: '/' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, ...parseJsonOutput(r.stdout) };
}

export function fstypeAt(mountPoint: string): string | null {
  const r = spawnSync('findmnt', ['-n', '-o', 'FSTYPE', '--mountpoint', mountPoint], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

export function attrs(p: string): string {
  return sh(['lsattr', '-d', p]).split(' ')[0]!;
}

export function owner(p: string): { uid: number; gid: number; mode: number } {
  const st = lstatSync(p);
  return { uid: st.uid, gid: st.gid, mode: st.mode & 0o7777 };
}

/** A subvolume's root directory has inode 256. */
export function isSubvolume(p: string): boolean {
  return lstatSync(p).ino === 256;
}
