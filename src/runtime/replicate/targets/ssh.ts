// An ssh:// target: `lychd-crypt receive` on the other host, reached with an ssh argv that reads only the
// key and known_hosts files named for this target (base/ssh.ts). One request per ssh session; the exit
// code says who failed: 255 ssh itself (connection, key, host key), 3 the receiver refused, 4 it is busy.
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { BusyError, CryptError, RefusedError } from '../../../base/errors.js';
import type { Runner } from '../../../base/runner.js';
import { SSH_FAILED, sshArgv, type SshFiles } from '../../../base/ssh.js';
import { formatTargetUrl, type TargetUrl } from '../../../model/replicate.js';
import { MAX_HEADER_BYTES, type CopyHeader } from '../stream/header.js';
import { copyOf } from '../receiver/store.js';
import { requestWords, type ReceiverRequest } from '../receiver/request.js';
import type { Copy, Inventory, OpenedCopy, Received, ReplicaTarget, SendJob } from '../stream/target.js';
import { collectText, parseAnswer, readFirstLine } from '../stream/wire.js';
import { Meter } from '../../../base/pump.js';
import { zstdThrough, type Zstd } from '../stream/zstd.js';

type SshUrl = Extract<TargetUrl, { kind: 'ssh' }>;

const MAX_ANSWER = 32 * 1024 * 1024;

export interface SshOptions {
  /** How long a link that stopped answering is waited for before the transfer is given up. */
  aliveSeconds: number;
  /** On the link's (compressed) bytes. */
  rateBytesPerS: number | null;
}

const lastLines = (text: string): string => text.trim().split('\n').filter(Boolean).slice(-3).join(' / ');

export class SshTarget implements ReplicaTarget {
  readonly kind = 'ssh' as const;
  readonly shown: string;

  constructor(
    private readonly url: SshUrl,
    private readonly files: SshFiles,
    private readonly runner: Runner,
    private readonly opts: SshOptions,
  ) {
    this.shown = formatTargetUrl(url);
  }

  private argv(req: ReceiverRequest): string[] {
    return sshArgv(this.url, this.files, requestWords(req), { aliveSeconds: this.opts.aliveSeconds });
  }

  /** Why an ssh session failed, as the error the sender reports (with the receiver's own message when it gave one). */
  private failure(exitCode: number, stdout: string, stderr: string, what: string): CryptError {
    let answer: Record<string, unknown> | null = null;
    try {
      answer = parseAnswer(stdout);
    } catch {
      /* no answer: ssh's own failure, or the receiver died */
    }
    const said = typeof answer?.message === 'string' ? answer.message : lastLines(stderr) || `exit ${exitCode}`;
    if (exitCode === SSH_FAILED) {
      if (/HOST IDENTIFICATION HAS CHANGED|Host key verification failed|No .* host key is known/i.test(stderr)) {
        return new RefusedError(`${what}: the host key of ${this.url.host} is not the one in ${this.files.knownHosts}; nothing was sent`, {
          hint: `If the target really changed its key, check its fingerprint and run \`lychd-crypt replicate --trust-host\` for this target; otherwise someone may be in between.`,
        });
      }
      return new CryptError(`${what}: ssh to ${this.url.host} failed: ${lastLines(stderr) || 'no message'}`, {
        hint: `Check the network, the key ${this.files.identity} (its public half must be in root's authorized_keys on the target: \`lychd-crypt init --receiver ${this.url.path} --authorize '…'\` there; docs/replicate.md), and ${this.files.knownHosts}.`,
      });
    }
    if (exitCode === 3) return new RefusedError(`${what}: the receiver on ${this.url.host} refused: ${said}`);
    if (exitCode === 4) return new BusyError(`${what}: the receiver on ${this.url.host} is busy: ${said}`, { hint: 'Another transfer into that directory is running (or a stalled one has not timed out yet): try again later.' });
    if (exitCode === 2) return new CryptError(`${what}: the receiver on ${this.url.host} did not understand the request (${said}): is its lychd-crypt older than this one?`);
    return new CryptError(`${what}: ${said}`);
  }

  /** One request; `feed` writes the request's input to ssh's stdin. The answer object on success. */
  private async call(req: ReceiverRequest, what: string, feed?: (stdin: NodeJS.WritableStream) => Promise<void>): Promise<Record<string, unknown>> {
    const child = await this.runner.spawn(this.argv(req), { stdin: feed ? 'pipe' : 'ignore' });
    const out = collectText(child.stdout!, MAX_ANSWER).catch(() => '');
    const fed = feed ? feed(child.stdin!).then(() => null, (e: unknown) => e) : Promise.resolve(null);
    const [r, stdout, feedError] = await Promise.all([child.done, out, fed]);
    if (r.notRun !== undefined) throw new CryptError(`${what}: could not run ssh: ${r.notRun}`, { hint: 'Install the OpenSSH client (Debian: openssh-client).' });
    if (r.exitCode !== 0) throw this.failure(r.exitCode, stdout, r.stderr, what);
    if (feedError) throw new CryptError(`${what}: ${(feedError as Error).message}`);
    try {
      const answer = parseAnswer(stdout);
      if (answer.ok !== true) throw new Error(String(answer.message ?? 'not ok'));
      return answer;
    } catch (e) {
      throw new CryptError(`${what}: the receiver's answer could not be read: ${(e as Error).message}`);
    }
  }

  async inventory(): Promise<Inventory> {
    const a = await this.call({ verb: 'list' }, `listing ${this.shown}`);
    if (a.protocol !== 1) throw new CryptError(`listing ${this.shown}: the receiver speaks protocol ${String(a.protocol)}, this version 1`, { hint: 'Install the same lychd-crypt version on both hosts.' });
    const { parseSidecar } = await import('../stream/header-schema.js');
    const copies: Copy[] = [];
    for (const raw of Array.isArray(a.copies) ? a.copies : []) {
      const p = await parseSidecar(raw);
      if ('problem' in p) throw new CryptError(`listing ${this.shown}: a copy's sidecar is not one this version reads (${p.problem})`);
      copies.push(copyOf(p.sidecar));
    }
    return {
      copies,
      broken: [],
      chainIndex: {},
      cleaned: Array.isArray(a.cleaned) ? a.cleaned.map(String) : [],
      freeBytes: typeof a.freeBytes === 'number' ? a.freeBytes : null,
    };
  }

  async receive(job: SendJob, stream: Readable): Promise<Received> {
    // After the header line the stream travels zstd-compressed (protocol 1); the rate limit holds on the link.
    const wire = new Meter({ rateBytesPerS: this.opts.rateBytesPerS });
    let zstd: Zstd | null = null;
    try {
      await this.call({ verb: 'receive', name: job.name, origin: job.originUuid, parent: job.parentOriginUuid }, `sending ${job.name} to ${this.shown}`, async (stdin) => {
        await new Promise<void>((resolve, reject) => stdin.write(`${JSON.stringify(job.header)}\n`, (e) => (e ? reject(e) : resolve())));
        zstd = await zstdThrough(this.runner, stream, 'compress');
        await Promise.all([pipeline(zstd.output, wire, stdin), zstd.done]);
      });
    } finally {
      (zstd as Zstd | null)?.kill();
    }
    return { name: job.name, originUuid: job.originUuid, bytes: wire.bytes };
  }

  async remove(copy: Copy): Promise<void> {
    await this.call({ verb: 'delete', name: copy.name, origin: copy.originUuid }, `deleting ${copy.name} on ${this.shown}`);
  }

  async open(copy: Copy, parent: Copy | null): Promise<OpenedCopy> {
    const what = `fetching ${copy.name} from ${this.shown}`;
    const child = await this.runner.spawn(this.argv({ verb: 'send', name: copy.name, origin: copy.originUuid, parent: parent?.originUuid ?? null }));
    const stdout = child.stdout!;
    let line: string;
    let rest: Readable;
    try {
      ({ line, rest } = await readFirstLine(stdout, MAX_HEADER_BYTES));
    } catch {
      const r = await child.done;
      throw this.failure(r.exitCode === 0 ? 1 : r.exitCode, '', r.stderr, what);
    }
    let header: CopyHeader;
    try {
      header = await (await import('../stream/header-schema.js')).parseHeaderText(line);
    } catch (e) {
      child.kill('SIGKILL');
      throw new CryptError(`${what}: ${(e as Error).message}`);
    }
    const z = await zstdThrough(this.runner, rest, 'decompress');
    const done = Promise.all([
      child.done.then((r) => {
        if (r.exitCode !== 0) throw this.failure(r.exitCode, '', r.stderr, what);
      }),
      z.done,
    ]).then(() => {});
    done.catch(() => {}); // awaited by the caller; a failure after an abort is not news
    return {
      header,
      stream: z.output,
      done,
      abort: () => {
        child.kill('SIGKILL');
        z.kill();
      },
    };
  }

  async close(): Promise<void> {}
}
