// The one way to run external commands: argv arrays through execa, never a shell string.
import { execa } from 'execa';
import { CommandError } from './errors.js';

export interface RunOptions {
  /** Text fed to stdin (never a secret on argv). */
  input?: string;
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  timeoutMs?: number;
}

export interface RunResult {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Runner {
  run(argv: string[], opts?: RunOptions): Promise<RunResult>;
}

export type RunLogger = (argv: readonly string[]) => void;

/** The real runner. `LC_ALL=C` so the output we parse is not translated. */
export function createRunner(log?: RunLogger): Runner {
  return {
    async run(argv, opts = {}) {
      const [file, ...args] = argv;
      if (!file) throw new Error('empty argv');
      log?.(argv);
      const r = await execa(file, args, {
        input: opts.input,
        stdin: opts.input === undefined ? 'ignore' : 'pipe',
        env: { ...opts.env, LC_ALL: 'C' },
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
      };
      if (r.exitCode !== 0 && !opts.allowFailure) {
        throw new CommandError(argv, r.exitCode, result.stderr || (r.failed && !r.exitCode ? String(r.message) : ''), {
          cause: r.cause,
        });
      }
      return result;
    },
  };
}

/**
 * Wraps argv so it runs as another OS user. setpriv takes numeric ids, so a sub-UID of a rootless
 * container works as well as a named account.
 */
export function asUser(ids: { uid: number; gid: number }, argv: string[]): string[] {
  return ['setpriv', `--reuid=${ids.uid}`, `--regid=${ids.gid}`, '--clear-groups', '--', ...argv];
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
}
