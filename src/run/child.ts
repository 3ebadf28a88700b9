// Runs the guarded COMMAND: an argv (no shell) with the caller's terminal, a time limit (SIGTERM, then
// SIGKILL after a grace period), and lychd-crypt staying alive through a Ctrl-C or a TERM so that it can
// roll back afterwards: the terminal's SIGINT reaches COMMAND itself, a TERM or HUP sent to lychd-crypt is
// passed on to it.
import { spawn, type StdioOptions } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';

export const KILL_GRACE_MS = 5_000;

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

export function runChild(argv: string[], opts: ChildOptions): Promise<ChildOutcome> {
  const [file, ...args] = argv;
  const stdio: StdioOptions = ['inherit', opts.stdoutToStderr ? 2 : 'inherit', 'inherit'];
  return new Promise((resolve) => {
    const child = spawn(file!, args, { stdio, env: opts.env });
    let timedOut = false;
    let spawnError: string | null = null;
    const timers: NodeJS.Timeout[] = [];
    let started: Promise<void> = Promise.resolve();
    const forward = (sig: NodeJS.Signals) => () => {
      child.kill(sig);
    };
    const onInt = (): void => {}; // the terminal sent SIGINT to COMMAND too: wait for it to end
    const onTerm = forward('SIGTERM');
    const onHup = forward('SIGHUP');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    process.on('SIGHUP', onHup);
    const done = (outcome: ChildOutcome): void => {
      for (const t of timers) clearTimeout(t);
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      process.off('SIGHUP', onHup);
      resolve(outcome);
    };
    child.on('error', (e) => {
      spawnError = e.message;
    });
    child.on('spawn', () => {
      if (opts.timeoutMs !== null) {
        timers.push(
          setTimeout(() => {
            timedOut = true;
            child.kill('SIGTERM');
            timers.push(setTimeout(() => child.kill('SIGKILL'), opts.graceMs ?? KILL_GRACE_MS));
          }, opts.timeoutMs),
        );
      }
      if (opts.onStart) started = opts.onStart(child.pid!).catch(() => {});
    });
    child.on('close', (code, signal) => {
      const exitCode = code ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 127);
      // The journal write for the pid finishes before anything else touches the journal.
      void started.then(() => done({ exitCode: spawnError ? 127 : exitCode, signal, timedOut, spawnError }));
    });
  });
}
