// The one way to run external commands: argv arrays through execa, never a shell string.
import type { Options } from 'execa';
import type { Readable, Writable } from 'node:stream';
import { unanchor } from './anchors.js';
import { CommandError, NOT_RUN } from './errors.js';

export interface RunOptions {
  /** Text fed to stdin (never a secret on argv). */
  input?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  timeoutMs?: number;
  /** Open descriptors of ours the child gets as its fds 3, 4, … (a directory root checked, for a child that must not resolve its path). */
  fds?: number[];
}

export interface RunResult {
  argv: string[];
  /** -1 when the program never ran (see `notRun`) or was killed. */
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Why the program could not be started at all (not found, a working directory it cannot enter, …). */
  notRun?: string;
}

/** The error for a result that failed: could not run, killed, or its exit status. */
export const failedCommand = (r: RunResult): CommandError =>
  new CommandError(r.argv, r.notRun !== undefined ? NOT_RUN : r.exitCode === -1 ? undefined : r.exitCode, r.notRun ?? r.stderr);

export interface SpawnOptions {
  /** pipe: the caller writes to `stdin` (a stream to send); default ignore. */
  stdin?: 'pipe' | 'ignore';
  /** pipe: the caller reads `stdout` as a stream (bytes, never buffered here); default pipe. */
  stdout?: 'pipe' | 'ignore';
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** A program running with its byte streams in the caller's hands (a `btrfs send` feeding ssh). */
export interface Spawned {
  readonly argv: string[];
  readonly pid: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  /** Its end: exit status and (at most the last 64 KiB of) stderr; never rejects. */
  readonly done: Promise<RunResult>;
  kill(signal?: NodeJS.Signals): void;
}

export interface Runner {
  run(argv: string[], opts?: RunOptions): Promise<RunResult>;
  /** Starts argv with streams: what moves a stream of any size (send, receive, ssh, zstd) goes through here. */
  spawn(argv: string[], opts?: SpawnOptions): Promise<Spawned>;
}

export type RunLogger = (argv: readonly string[]) => void;

/** The PATH every child gets (root's own PATH is not passed on). */
export const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The environment of every child: a minimal, explicit one — never the caller's whole environment (a
 * password in it would end up in a long-running postmaster's environment). `LC_ALL=C` so the output we
 * parse is not translated; HOME and XDG_RUNTIME_DIR so `systemctl --user` and friends find the caller's
 * own instance.
 */
export function childEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const base: Record<string, string | undefined> = {
    PATH: SAFE_PATH,
    HOME: process.env.HOME,
    USER: process.env.USER,
    LOGNAME: process.env.LOGNAME,
    XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR,
    ...extra,
    LC_ALL: 'C',
  };
  return Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined));
}

/** The real runner. */
export function createRunner(log?: RunLogger): Runner {
  return {
    async run(argv, opts = {}) {
      const [file, ...args] = argv;
      if (!file) throw new Error('empty argv');
      log?.(argv);
      // Loaded on the first command run, not at start: a command that runs none does not parse it.
      const { execa } = await import('execa');
      const stdin = opts.input === undefined ? 'ignore' : 'pipe';
      const r = await execa(file, args, {
        input: opts.input,
        // execa passes a number through as that descriptor (its types only list the streams it makes).
        ...(opts.fds?.length ? { stdio: [stdin, 'pipe', 'pipe', ...opts.fds] as unknown as Options['stdio'] } : { stdin }),
        env: childEnv(opts.env),
        extendEnv: false,
        cwd: opts.cwd,
        reject: false,
        timeout: opts.timeoutMs,
        stripFinalNewline: false,
      });
      const result: RunResult = {
        argv,
        exitCode: r.exitCode ?? -1,
        stdout: String(r.stdout ?? ''),
        stderr: String(r.stderr ?? ''),
        ...(r.failed && r.exitCode === undefined && !r.signal && !r.timedOut ? { notRun: String(r.shortMessage ?? r.message) } : {}),
      };
      if (r.exitCode !== 0 && !opts.allowFailure) {
        const status = result.notRun !== undefined ? NOT_RUN : r.exitCode;
        throw new CommandError(argv, status, result.notRun ?? (result.stderr || (r.failed && !r.exitCode ? String(r.message) : '')), {
          cause: r.cause,
        });
      }
      return result;
    },
    async spawn(argv, opts = {}) {
      const [file, ...args] = argv;
      if (!file) throw new Error('empty argv');
      log?.(argv);
      const { execa } = await import('execa');
      const child = execa(file, args, {
        stdin: opts.stdin ?? 'ignore',
        stdout: opts.stdout ?? 'pipe',
        stderr: 'pipe',
        // The streams are the caller's; only stderr is kept, for the message.
        buffer: { stdout: false, stderr: true },
        maxBuffer: { stderr: 64 * 1024 },
        env: childEnv(opts.env),
        extendEnv: false,
        cwd: opts.cwd,
        reject: false,
        stripFinalNewline: false,
      });
      const done: Promise<RunResult> = child.then(
        (r) => ({
          argv,
          exitCode: r.exitCode ?? -1,
          stdout: '',
          stderr: String(r.stderr ?? ''),
          ...(r.failed && r.exitCode === undefined && !r.signal && !r.isTerminated ? { notRun: String(r.shortMessage ?? r.message) } : {}),
        }),
        (e: unknown) => ({ argv, exitCode: -1, stdout: '', stderr: '', notRun: String((e as Error).message) }),
      );
      // execa resumes an unconsumed stdout one tick after the start (its bytes would flow to nowhere): it is
      // piped into a stream of ours at once, which holds them (with backpressure) until the caller reads.
      const { PassThrough } = await import('node:stream');
      const stdout = child.stdout ? child.stdout.pipe(new PassThrough()) : null;
      return {
        argv,
        pid: child.pid,
        stdin: child.stdin,
        stdout,
        done,
        kill: (signal = 'SIGTERM') => void child.kill(signal),
      };
    },
  };
}

/**
 * Wraps argv so it runs as another OS user. setpriv takes numeric ids, so a sub-UID of a rootless
 * container works as well as a named account. setsid first, still as root: the other user's process
 * leads a session of its own, so it has no controlling terminal — with root's it could open /dev/tty
 * and type into root's shell (TIOCSTI). Its fds 0–2 are never a terminal (stdin ignored or fed, output
 * piped).
 */
export function asUser(ids: { uid: number; gid: number }, argv: string[]): string[] {
  // The other user cannot follow root's fd anchors: give it the registered paths.
  const plain = argv.map(unanchor);
  // Already that user (the owner of a rootless crypt running pg_ctl itself): nothing to switch.
  if (process.getuid?.() === ids.uid) return plain;
  return ['setsid', 'setpriv', `--reuid=${ids.uid}`, `--regid=${ids.gid}`, '--clear-groups', '--', ...plain];
}

export interface Reply {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
}

/**
 * Records argv and answers from a table instead of running anything; unexpected commands fail the
 * test (curtin's trick), so a unit test cannot touch the host by accident.
 */
export class RecordingRunner implements Runner {
  readonly calls: string[][] = [];
  constructor(private readonly replies: (argv: string[]) => Reply | undefined = () => undefined) {}
  async run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    this.calls.push(argv);
    const reply = this.replies(argv);
    if (!reply) throw new Error(`unexpected command in test: ${argv.join(' ')}`);
    const result = { argv, exitCode: reply.exitCode ?? 0, stdout: reply.stdout ?? '', stderr: reply.stderr ?? '' };
    if (result.exitCode !== 0 && !opts.allowFailure) throw new CommandError(argv, result.exitCode, result.stderr);
    return result;
  }
  async spawn(argv: string[]): Promise<Spawned> {
    this.calls.push(argv);
    throw new Error(`unexpected streaming command in test: ${argv.join(' ')}`);
  }
}
