// Running the tool's own code inside the owner's user namespace: a PostgreSQL that runs in the owner's
// rootless container owns PGDATA as a subordinate uid (keep-id and `:U`: container uid 999 is e.g. 100999
// on the host), which the owner itself may not read, while root of the owner's namespace may. So the owner's
// process starts, once per command and only when needed, a helper: this same runtime, run by util-linux's
// `unshare` as root of a namespace that maps the owner to 0 and its subordinate ids from 1 (newuidmap,
// newgidmap: the map podman's own namespace has). The helper answers requests on its stdin, one JSON line
// each, by running one of a fixed table of operations (nsOp) and replying on stdout. It has no power beyond
// the owner's own ids, and the same code runs in-process when no namespace is needed.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { CryptError, RefusedError, UsageError } from '../errors.js';
import { createRunner, SAFE_PATH, type Runner } from '../runner.js';

/** What an operation gets besides its arguments: the runner of the process it runs in. */
export interface NsContext {
  runner: Runner;
}

/** An operation that may run in the owner's user namespace: JSON-able arguments and result. */
export interface NsOp<A extends unknown[] = never[], R = unknown> {
  name: string;
  run(ctx: NsContext, ...args: A): Promise<R>;
}

export function nsOp<A extends unknown[], R>(name: string, run: (ctx: NsContext, ...args: A) => Promise<R>): NsOp<A, R> {
  return { name, run };
}

/** The command word that makes the runtime serve operations (program.ts hands it to serveNsOps). */
export const HELPER_WORD = '__userns-helper';

interface WireError {
  message: string;
  hint?: string;
  /** errno name (ENOSPC, EACCES…): the expected-error kinds are told by it. */
  code?: string;
  /** A CryptError's exit code (2 usage, 3 refused, 1 failed); absent for any other error. */
  exitCode?: number;
}

type Reply = { id: number; ok: true; value?: unknown } | { id: number; ok: false; error: WireError };

function toWire(e: unknown): WireError {
  const err = e as { message?: string; hint?: string; code?: unknown };
  return {
    message: String(err?.message ?? e),
    ...(typeof err?.hint === 'string' ? { hint: err.hint } : {}),
    ...(typeof err?.code === 'string' ? { code: err.code } : {}),
    ...(e instanceof CryptError ? { exitCode: e.exitCode } : {}),
  };
}

/** The error again on this side: its kind (usage, refused, failed, or not ours), message, hint and errno code. */
function fromWire(w: WireError): Error {
  const details = { hint: w.hint };
  const e =
    w.exitCode === undefined ? new Error(w.message) : w.exitCode === 2 ? new UsageError(w.message, details) : w.exitCode === 3 ? new RefusedError(w.message, details) : new CryptError(w.message, details);
  if (w.code) Object.assign(e, { code: w.code });
  return e;
}

/** The helper's side: answers every request line with the operation's result, until stdin ends. */
export async function serveNsOps(table: ReadonlyMap<string, NsOp<never[], unknown>>, input: Readable, output: Writable): Promise<void> {
  const ctx: NsContext = { runner: createRunner() };
  const pending = new Set<Promise<void>>();
  const reply = (r: Reply) => output.write(`${JSON.stringify(r)}\n`);
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    if (!line.trim()) continue;
    const req = JSON.parse(line) as { id: number; op: string; args: never[] };
    const op = table.get(req.op);
    const p = (async () => {
      try {
        if (!op) throw new Error(`no operation ${req.op} in the helper`);
        reply({ id: req.id, ok: true, value: await op.run(ctx, ...req.args) });
      } catch (e) {
        reply({ id: req.id, ok: false, error: toWire(e) });
      }
    })();
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }
  await Promise.all(pending);
}

/** How to start the helper: the namespace's maps and the runtime to run in it. */
export interface HelperSpec {
  /** The owner's first subordinate uid and gid range (util-linux's unshare maps one each). */
  uids: { start: number; count: number };
  gids: { start: number; count: number };
  /** node and the runtime's entry script. */
  runtime: string[];
}

/** unshare as the owner: its uid and gid become 0, the subordinate ranges 1…; then argv runs as that root. */
export function usernsArgv(spec: Pick<HelperSpec, 'uids' | 'gids'>, argv: string[]): string[] {
  return [
    'unshare',
    '--map-root-user',
    `--map-users=${spec.uids.start},1,${spec.uids.count}`,
    `--map-groups=${spec.gids.start},1,${spec.gids.count}`,
    '--',
    ...argv,
  ];
}

/** One running helper: its process and the calls waiting for it. */
interface Session {
  child: ChildProcess;
  waiting: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
  stderr: string;
}

/** The owner's side: one helper process, started on the first call, ended by close() or when we exit. */
export class NsHelper {
  /** The session being started or running; `current` once it runs (its own handlers compare against it). */
  private session: Promise<Session> | null = null;
  private current: Session | null = null;
  private next = 1;

  constructor(private readonly spec: HelperSpec) {}

  private async start(): Promise<Session> {
    // Loaded when a helper is needed, not at every command's start (child_process pulls in net and dgram).
    const { spawn } = await import('node:child_process');
    const [file, ...args] = usernsArgv(this.spec, [...this.spec.runtime, HELPER_WORD]);
    const child = spawn(file!, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      cwd: '/',
      // Nothing of ours: no password, no fault injection (a helper killed by one would only look like a bug).
      env: { PATH: SAFE_PATH, LC_ALL: 'C', LYCHD_CRYPT_COMPILE_CACHE: '0' },
    });
    const s: Session = { child, waiting: new Map(), stderr: '' };
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => {
      s.stderr = (s.stderr + d).slice(-4000);
    });
    createInterface({ input: child.stdout!, crlfDelay: Infinity }).on('line', (line) => {
      const r = JSON.parse(line) as Reply;
      const w = s.waiting.get(r.id);
      if (!w) return;
      s.waiting.delete(r.id);
      this.idle(s);
      if (r.ok) w.resolve(r.value);
      else w.reject(fromWire(r.error));
    });
    const fail = (why: string) => {
      if (this.current === s) {
        this.current = null;
        this.session = null;
      }
      if (!s.waiting.size) return;
      const err = new CryptError(`the helper in the owner's user namespace ${why}${s.stderr.trim() ? `: ${s.stderr.trim()}` : ''}`, {
        hint: "It runs `unshare --map-users` (util-linux) with newuidmap/newgidmap (package uidmap) and the owner's ranges in /etc/subuid and /etc/subgid: check that they are there.",
      });
      for (const w of s.waiting.values()) w.reject(err);
      s.waiting.clear();
    };
    child.on('error', (e) => fail(`could not start (${e.message})`));
    child.on('exit', (code, signal) => fail(`ended (${signal ?? `exit ${code}`})`));
    child.stdin!.on('error', () => {}); // a helper that died: the exit handler says so
    process.once('exit', () => child.kill('SIGKILL'));
    this.current = s;
    return s;
  }

  /** The helper keeps this process alive only while a call waits for it. */
  private idle(s: Session): void {
    if (s.waiting.size) return;
    s.child.unref();
    for (const st of [s.child.stdout, s.child.stderr, s.child.stdin]) (st as unknown as { unref?: () => void } | null)?.unref?.();
  }

  async call<A extends unknown[], R>(op: NsOp<A, R>, args: A): Promise<R> {
    const s = await (this.session ??= this.start());
    s.child.ref();
    for (const st of [s.child.stdout, s.child.stderr, s.child.stdin]) (st as unknown as { ref?: () => void } | null)?.ref?.();
    const id = this.next++;
    return new Promise<R>((resolve, reject) => {
      s.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      s.child.stdin!.write(`${JSON.stringify({ id, op: op.name, args })}\n`);
    });
  }

  /** Ends the helper (its stdin closes; it exits when its last answer is written). */
  close(): void {
    this.current?.child.stdin?.end();
    this.current = null;
    this.session = null;
  }
}
