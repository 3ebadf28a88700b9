// A scratch directory per test, and a teardown that always runs: deferred cleanups, then a sweep
// of every mount, loop device and server that lives under the directory, then the directory.
import { mkdtemp, rm, readdir, readFile, chmod } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';

export class Scratch {
  private readonly cleanups: (() => Promise<void> | void)[] = [];
  constructor(readonly dir: string) {}

  path(...parts: string[]): string {
    return path.join(this.dir, ...parts);
  }

  defer(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  async cleanup(): Promise<void> {
    const errors: unknown[] = [];
    for (const fn of this.cleanups.reverse()) {
      try {
        await fn();
      } catch (e) {
        errors.push(e);
      }
    }
    await sweep(this.dir);
    await rm(this.dir, { recursive: true, force: true });
    if (errors.length) throw new AggregateError(errors, 'scratch cleanup had errors');
  }
}

export async function makeScratch(): Promise<Scratch> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lychd-t-'));
  await chmod(dir, 0o755); // other OS users (postgres, the target user) must traverse it
  // Each test's crypts are registered in its own scratch dir (and the CLI children it starts see the same).
  process.env.LYCHD_CRYPT_REGISTRY = path.join(dir, 'registry');
  process.env.LYCHD_CRYPT_STATE = path.join(dir, 'state');
  return new Scratch(dir);
}

function quiet(argv: string[]): string {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return '';
  }
}

/** Kills servers, unmounts and detaches everything under `dir`, deepest first. */
export async function sweep(dir: string): Promise<void> {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  // PostgreSQL, a remote host's sshd (its namespace ends with it) and the like whose command line names a path
  // under dir (sshd rewrites its title into one string, "sshd: /usr/sbin/sshd -D … -f DIR/…", hence includes).
  for (const pid of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmd.split('\0').some((a) => a.startsWith(prefix) || a.includes(` ${prefix}`)) && /postgres|pg_ctl|pgbench|sshd/.test(cmd)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  await new Promise((r) => setTimeout(r, 100));
  const mounts = quiet(['findmnt', '-rn', '-o', 'TARGET'])
    .split('\n')
    .map((l) => l.replace(/\\x20/g, ' '))
    .filter((t) => t === dir || t.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) {
    if (quiet(['umount', m]) === '' && quiet(['findmnt', '-rn', m]) !== '') quiet(['umount', '-l', m]);
  }
  const loops = JSON.parse(quiet(['losetup', '-J', '-l']) || '{"loopdevices":[]}') as {
    loopdevices: { name: string; 'back-file': string | null }[];
  };
  for (const l of loops.loopdevices) {
    const back = (l['back-file'] ?? '').replace(/ \(deleted\)$/, '');
    if (back.startsWith(prefix)) quiet(['losetup', '-d', l.name]);
  }
}
