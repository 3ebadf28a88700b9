// What the helpers that run things in namespaces of their own share (systemd.ts: a throw-away systemd;
// remote-host.ts: a second host): running a command inside through nsenter, finding the namespace's PID 1
// under its launcher, waiting for a launcher to end.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';

/** The PATH commands inside get (root's usual one). */
export const PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ExecResult {
  code: number;
  signal: string | undefined;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  env?: Record<string, string>;
  input?: string;
  /** Throw when the command fails (default: return the result). */
  check?: boolean;
  timeoutMs?: number;
}

/**
 * Runs argv with `nsenter -t PID NSFLAGS` (e.g. ['-a'], or ['-m', '-u', '-p']) as root, with a minimal
 * environment (PATH, LC_ALL=C); `where` names the place in the error a failing `check` throws.
 */
export async function nsExec(pid: number, nsFlags: string[], argv: string[], o: ExecOptions, where: string, defaultTimeoutMs: number): Promise<ExecResult> {
  const r = await execa('nsenter', ['-t', String(pid), ...nsFlags, '--', ...argv], {
    env: { PATH, LC_ALL: 'C', ...o.env },
    extendEnv: false,
    input: o.input,
    stdin: o.input === undefined ? 'ignore' : undefined,
    reject: false,
    stripFinalNewline: false,
    timeout: o.timeoutMs ?? defaultTimeoutMs,
    cwd: '/',
  });
  const res = { code: r.exitCode ?? -1, signal: r.signal, stdout: String(r.stdout), stderr: String(r.stderr) };
  if (o.check && res.code !== 0) throw new Error(`${argv.join(' ')} failed ${where} (exit ${res.code}${res.signal ? `, ${res.signal}` : ''}): ${res.stderr}${res.stdout}`);
  return res;
}

/** The children of a process (a launcher's child is the namespace's PID 1). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r()));
}
