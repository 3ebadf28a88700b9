// Runs the guarded COMMAND (and the hooks): an argv (no shell) with the caller's terminal, in its own
// process group, a time limit for the whole group (SIGTERM, then SIGKILL after a grace period), and
// lychd-crypt staying alive through a Ctrl-C or a TERM so that it can roll back afterwards.
import { readdir, readFile, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { signalName } from '../../base/die-by-signal.js';
import { resolveCommand } from '../../base/command-path.js';
import { foregroundTerminal, giveTerminal, ownGroup, pollChild, signalGroup, spawnInGroup } from '../../base/sys/process-group.js';

export const KILL_GRACE_MS = 5_000;
/** How often COMMAND's state is polled (waitpid WNOHANG: libuv reaps only the children it started). */
const POLL_MS = 25;

export interface ChildOutcome {
  /** Exit status; a signal is reported as 128 + its number, like a shell does. */
  exitCode: number;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Could not be started at all (ENOENT, EACCES): the message. */
  spawnError: string | null;
}

export interface ChildOptions {
  env: NodeJS.ProcessEnv;
  timeoutMs: number | null;
  /** --json: COMMAND's stdout goes to stderr so that stdout stays one JSON document. */
  stdoutToStderr: boolean;
  /** Called once COMMAND has a pid (to journal it). */
  onStart?: (pid: number) => Promise<void>;
  graceMs?: number;
}

/** The process's start time (field 22 of /proc/PID/stat): a pid plus this names one process, never a reused pid. */
export async function processStart(pid: number): Promise<string | null> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether the process `pid` that started at `start` still runs (a zombie, dead but not yet reaped, does not). */
export async function stillRunning(pid: number, start: string): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] === start && fields[0] !== 'Z' && fields[0] !== 'X';
  } catch {
    return false;
  }
}

/**
 * The guarded run's id in COMMAND's environment: inherited by everything COMMAND starts, it finds them
 * after a crash — also one before COMMAND's pid reached the journal.
 */
export const RUN_ID_ENV = 'LYCHD_RUN_ID';

/**
 * The processes (not zombies) whose environment carries `LYCHD_RUN_ID=<id>`. Only processes of root or of
 * this process's user count: nobody else can read the journal's id, or should be able to hold a crypt.
 */
export async function processesOfRun(id: string): Promise<number[]> {
  const marker = Buffer.from(`${RUN_ID_ENV}=${id}\0`);
  const uid = process.getuid?.() ?? 0;
  const found: number[] = [];
  for (const name of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const owner = (await stat(`/proc/${name}`)).uid;
      if (owner !== 0 && owner !== uid) continue;
      const env = await readFile(`/proc/${name}/environ`);
      if (!env.includes(marker)) continue;
      const state = (await readFile(`/proc/${name}/stat`, 'utf8')).split(') ').pop()?.[0];
      if (state !== 'Z' && state !== 'X') found.push(Number(name));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return found;
}

/**
 * COMMAND leads its own process group (src/base/sys/process-group.ts): the time limit stops the whole group
 * (SIGTERM, SIGKILL after the grace period), not only COMMAND itself. A signal sent to lychd-crypt (SIGINT,
 * SIGTERM, SIGHUP, SIGQUIT) is passed on to the group. On a terminal whose foreground is the caller's, the
 * group becomes the foreground while it runs: Ctrl-C reaches COMMAND and not lychd-crypt (which stays to
 * roll back); Ctrl-Z stops COMMAND, and lychd-crypt then stops too so that the shell gets the terminal back
 * (`fg` continues both). The terminal goes back to the caller when COMMAND ends.
 */
export async function runChild(argv: string[], opts: ChildOptions): Promise<ChildOutcome> {
  const [file, ...rest] = argv;
  const resolved = resolveCommand(file!, opts.env);
  if (!resolved) return { exitCode: 127, signal: null, timedOut: false, spawnError: `${file}: command not found` };
  const terminal = await foregroundTerminal();
  let pid: number;
  try {
    pid = await spawnInGroup(resolved, [file!, ...rest], { env: opts.env, stdoutToStderr: opts.stdoutToStderr, terminal });
  } catch (e) {
    if (terminal !== null) await giveTerminal(terminal, await ownGroup());
    return { exitCode: 127, signal: null, timedOut: false, spawnError: (e as Error).message };
  }
  const started = opts.onStart ? opts.onStart(pid).catch(() => {}) : Promise.resolve();

  let timedOut = false;
  let killed = false;
  const timers: NodeJS.Timeout[] = [];
  const forward = (sig: NodeJS.Signals) => () => void signalGroup(pid, sig);
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const).map((sig) => [sig, forward(sig)] as const);
  for (const [sig, h] of handlers) process.on(sig, h);
  if (opts.timeoutMs !== null) {
    timers.push(
      setTimeout(() => {
        timedOut = true;
        signalGroup(pid, 'SIGTERM');
        signalGroup(pid, 'SIGCONT'); // a stopped process acts on the TERM only once continued
        timers.push(
          setTimeout(() => {
            killed = true;
            signalGroup(pid, 'SIGKILL');
          }, opts.graceMs ?? KILL_GRACE_MS),
        );
      }, opts.timeoutMs),
    );
  }
  try {
    for (;;) {
      const st = await pollChild(pid);
      if (st === null) {
        await sleep(POLL_MS);
        continue;
      }
      if (st.kind === 'stopped') {
        if (terminal !== null) {
          // Ctrl-Z: the shell's job is lychd-crypt; stop it too, and hand COMMAND the terminal again on `fg`.
          await giveTerminal(terminal, await ownGroup());
          process.kill(-(await ownGroup()), 'SIGSTOP');
          await giveTerminal(terminal, pid);
          signalGroup(pid, 'SIGCONT');
        }
        // Without a terminal a stop is someone's deliberate SIGSTOP: COMMAND stays stopped until continued.
        continue;
      }
      if (timedOut) {
        // What is left of the group (COMMAND's children) gets the rest of the grace period, then SIGKILL.
        while (!killed && signalGroup(pid, 0)) await sleep(POLL_MS);
      }
      await started; // the journal write for the pid finishes before anything else touches the journal
      if (st.kind === 'exited') return { exitCode: st.code, signal: null, timedOut, spawnError: null };
      return { exitCode: 128 + st.signal, signal: signalName(st.signal), timedOut, spawnError: null };
    }
  } finally {
    for (const t of timers) clearTimeout(t);
    for (const [sig, h] of handlers) process.off(sig, h);
    if (terminal !== null) await giveTerminal(terminal, await ownGroup());
  }
}
