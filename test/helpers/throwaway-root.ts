// A throw-away root for installing packages for real (dpkg -i, dpkg -r) without touching the host's dpkg
// database, /usr or /etc: see throwaway-root.sh. Its lower layer is the host's / or, given `lower`, a stock
// Debian root (debian-root.ts). Commands run in it through nsenter, as argv arrays.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Scratch } from './scratch.js';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ThrowawayRoot {
  /** Runs argv inside the root (as root, minimal environment). */
  run(argv: string[], env?: Record<string, string>): RunResult;
  /** A path inside the root, as the host reaches it (through /proc/PID/root). */
  host(p: string): string;
}

const ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', HOME: '/root', TERM: 'dumb' };

export async function makeThrowawayRoot(scratch: Scratch, { lower = '/' }: { lower?: string } = {}): Promise<ThrowawayRoot> {
  const base = scratch.path('throwaway-root');
  mkdirSync(base);
  const script = path.join(import.meta.dirname, 'throwaway-root.sh');
  const child: ChildProcess = spawn('unshare', ['--mount', '--propagation', 'private', '--fork', 'bash', script, base, scratch.dir, lower], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pid = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    child.once('exit', (code) => reject(new Error(`the throw-away root did not start (exit ${code}): ${stderr}`)));
  });
  // Killing the waiting process ends the namespace: its mounts go, and loop devices set up with
  // autoclear (mount -o loop) with them; the scratch sweep detaches anything left.
  scratch.defer(async () => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await exited;
  });
  return {
    run(argv, env = {}) {
      const r = spawnSync('nsenter', ['--target', String(pid), '--mount', '--root', '--wd', '--', ...argv], {
        encoding: 'utf8',
        env: { ...ENV, ...env },
      });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    host: (p) => path.join(`/proc/${pid}/root`, p),
  };
}
