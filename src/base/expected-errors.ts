// Failures the environment causes (a full or read-only filesystem, a missing permission, a disk error, a
// database that is recovering or crashed) are expected: each becomes a typed error with its own message,
// hint and exit code, never a stack trace. classifyError finds the cause anywhere in an error's chain —
// a Node errno, a failed command's stderr, or a PostgreSQL SQLSTATE.
import { CryptError, type ErrorDetails } from './errors.js';

export type EnvironmentKind = 'no-space' | 'read-only' | 'permission' | 'io-error' | 'server-recovering' | 'server-crashed';

/** Base of the expected environment errors; `kind` is stable and goes into the --json envelope. */
export class EnvironmentError extends CryptError {
  constructor(
    readonly kind: EnvironmentKind,
    message: string,
    details: ErrorDetails = {},
  ) {
    super(message, details);
  }
}

export class NoSpaceError extends EnvironmentError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('no-space', message, details);
  }
}
export class ReadOnlyFsError extends EnvironmentError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('read-only', message, details);
  }
}
export class PermissionError extends EnvironmentError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('permission', message, details);
  }
}
export class IoError extends EnvironmentError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('io-error', message, details);
  }
}
/** The server answers but is in crash recovery or starting up (SQLSTATE 57P03): not a configuration problem. */
export class ServerRecoveringError extends EnvironmentError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('server-recovering', message, details);
  }
}
/** The server died while we talked to it (a PANIC, a killed postmaster, a crash of another backend). */
export class ServerCrashedError extends EnvironmentError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('server-crashed', message, details);
  }
}

interface Chained {
  code?: unknown;
  errno?: unknown;
  message?: unknown;
  stderr?: unknown;
  cause?: unknown;
  errors?: unknown;
}

/** Every error in the chain (cause, AggregateError members), the outermost first, at most 10. */
export function errorChain(err: unknown): Chained[] {
  const out: Chained[] = [];
  const visit = (e: unknown): void => {
    if (!e || typeof e !== 'object' || out.length >= 10 || out.includes(e as Chained)) return;
    out.push(e as Chained);
    visit((e as Chained).cause);
    if (Array.isArray((e as Chained).errors)) for (const x of (e as Chained).errors as unknown[]) visit(x);
  };
  visit(err);
  return out;
}

// The same causes as text: a command's stderr (btrfs, cp, pg_ctl) or a server message quoting errno.
const TEXT: [EnvironmentKind, RegExp][] = [
  ['no-space', /No space left on device|ENOSPC|Disk quota exceeded|EDQUOT/i],
  ['read-only', /Read-only file system|EROFS|forced readonly/i],
  ['io-error', /Input\/output error|\bEIO\b/],
  ['permission', /Permission denied|Operation not permitted|EACCES|EPERM/],
];

const ERRNO: Record<string, EnvironmentKind> = {
  ENOSPC: 'no-space',
  EDQUOT: 'no-space',
  EROFS: 'read-only',
  EIO: 'io-error',
  EACCES: 'permission',
  EPERM: 'permission',
};

// PostgreSQL: 57P03 cannot_connect_now (starting up, in recovery, shutting down); 57P01/57P02 a shutdown
// or crash that ended our session; 53100 disk_full; 58030 io_error.
const SQLSTATE: Record<string, EnvironmentKind> = {
  '57P03': 'server-recovering',
  '57P01': 'server-crashed',
  '57P02': 'server-crashed',
  '53100': 'no-space',
  '58030': 'io-error',
};

const CRASH_TEXT = /Connection terminated unexpectedly|terminating connection because of crash|server closed the connection unexpectedly|the database system is in recovery mode|the database system is starting up|the database system is shutting down/i;

/** What caused an error, when it is one of the expected environment failures; undefined otherwise. */
export function environmentKind(err: unknown): EnvironmentKind | undefined {
  const chain = errorChain(err);
  for (const e of chain) {
    if (e instanceof EnvironmentError) return e.kind;
    if (typeof e.code === 'string' && SQLSTATE[e.code]) return SQLSTATE[e.code];
    if (typeof e.code === 'string' && ERRNO[e.code]) return ERRNO[e.code];
  }
  // Text last: the server's own ENOSPC ("could not write … No space left on device") says why it crashed.
  for (const e of chain) {
    const text = `${typeof e.stderr === 'string' ? e.stderr : ''}\n${typeof e.message === 'string' ? e.message : ''}`;
    for (const [kind, re] of TEXT) if (re.test(text)) return kind;
    if (CRASH_TEXT.test(text)) return /recovery mode|starting up|shutting down/i.test(text) ? 'server-recovering' : 'server-crashed';
  }
  return undefined;
}

/** The path a Node fs error names, if any. */
function pathOf(err: unknown): string | undefined {
  for (const e of errorChain(err)) {
    const p = (e as { path?: unknown }).path;
    if (typeof p === 'string') return p;
  }
  return undefined;
}

const HINTS: Record<EnvironmentKind, string> = {
  'no-space':
    'Free space on the crypt: delete old snapshots (`lychd-crypt prune` / `lychd-crypt delete NAME`), or grow the filesystem; on a loopback crypt free space on the filesystem holding the image too. Then run `lychd-crypt doctor`.',
  'read-only':
    'The filesystem is read-only (mounted so, or forced read-only by Btrfs after an error such as a full host). Free space on the host if it is full, then run `lychd-crypt repair`: it remounts the crypt and starts the database.',
  // Replaced by permissionHint() for the reader: root is never told to run as root.
  permission: '',
  'io-error': 'The disk reported an I/O error: run `lychd-crypt doctor` (it shows the Btrfs device error counters) and check `dmesg`; keep a copy of your data elsewhere before anything else.',
  'server-recovering':
    'PostgreSQL is in crash recovery or starting up. Wait until it accepts connections (`lychd-crypt db status`) and run the command again; if it keeps restarting, read its log (`lychd-crypt db status` shows the tail).',
  'server-crashed':
    'If PostgreSQL is restarting, wait until `lychd-crypt db status` says it runs and run the command again. If it is down, its log tail (`lychd-crypt db status`) says why: free space if the crypt is full, then start it with `lychd-crypt db start`.',
};

const SUMMARY: Record<EnvironmentKind, string> = {
  'no-space': 'no space left on the device',
  'read-only': 'the filesystem is read-only',
  permission: 'permission denied',
  'io-error': 'an I/O error from the disk',
  'server-recovering': 'PostgreSQL is in recovery and does not accept connections yet',
  'server-crashed': 'PostgreSQL crashed or shut down during the operation',
};

/**
 * Permission denied says something else to each reader. Root was refused by something root does not
 * override; anyone else (the owner of a rootless crypt, or root's commands run as that owner) is told what
 * to check and, for what only root may change, the root command.
 */
function permissionHint(uid = process.getuid?.() ?? 0): string {
  if (uid === 0) {
    return 'Root itself was refused: look for an immutable or append-only attribute (lsattr), a read-only bind mount or a network filesystem that maps root to nobody, or a security module (dmesg); and check the owners and modes `lychd-crypt doctor` reports.';
  }
  return 'Check the owners and modes `lychd-crypt doctor` reports: on a rootless crypt everything in it must be its owner\'s. What only root can change (the mount, system files) `sudo lychd-crypt repair` fixes.';
}

export function hintFor(kind: EnvironmentKind): string {
  return kind === 'permission' ? permissionHint() : HINTS[kind];
}

const CLASSES: Record<EnvironmentKind, new (m: string, d?: ErrorDetails) => EnvironmentError> = {
  'no-space': NoSpaceError,
  'read-only': ReadOnlyFsError,
  permission: PermissionError,
  'io-error': IoError,
  'server-recovering': ServerRecoveringError,
  'server-crashed': ServerCrashedError,
};

export function makeEnvironmentError(kind: EnvironmentKind, message: string, details: ErrorDetails = {}): EnvironmentError {
  return new CLASSES[kind](message, details);
}

/**
 * Turns an expected failure into its typed error, keeping the original message (it says which step
 * failed) and adding the cause and a hint; errors that already are typed, and unexpected ones, pass
 * through unchanged.
 */
export function classifyError(err: unknown): unknown {
  if (err instanceof EnvironmentError) return err;
  const kind = environmentKind(err);
  if (!kind) return err;
  const raw = err instanceof Error ? err.message : String(err);
  const where = pathOf(err);
  // Node's own wording ("ENOSPC: no space left on device, write") says neither what nor where.
  const nodeStyle = /^E[A-Z]+: /.test(raw);
  const message = nodeStyle ? `${SUMMARY[kind]}${where ? ` (${where})` : ''}` : raw;
  // A server that is recovering or crashed is not a configuration problem: its hint replaces one that
  // says to check the connection settings; a filesystem cause adds its hint to the step's own.
  const serverKind = kind === 'server-recovering' || kind === 'server-crashed';
  const hint = err instanceof CryptError && err.hint && !serverKind ? `${err.hint}\n${hintFor(kind)}` : hintFor(kind);
  const typed = makeEnvironmentError(kind, message, { cause: err, hint });
  if (err instanceof CryptError && err.exitCode !== typed.exitCode) return err; // keep a refusal or a busy verdict
  return typed;
}
