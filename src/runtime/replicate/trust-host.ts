// `replicate --target NAME --trust-host --fingerprint SHA256:…`: the first contact with an ssh target.
// ssh-keyscan fetches the host's keys; only a key whose fingerprint the administrator read on the target
// itself (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` there) is written to the target's known_hosts.
import { CryptError, RefusedError } from '../../base/errors.js';
import type { Runner } from '../../base/runner.js';
import { keyscanArgv } from '../../base/ssh.js';
import { writeFileAtomic } from '../../base/sys/fs.js';
import type { TargetUrl } from '../../model/replicate.js';

export interface ScannedKey {
  line: string;
  fingerprint: string;
  type: string;
}

export async function scanHostKeys(runner: Runner, url: Extract<TargetUrl, { kind: 'ssh' }>): Promise<ScannedKey[]> {
  const r = await runner.run(keyscanArgv(url), { allowFailure: true, timeoutMs: 30_000 });
  const lines = r.stdout.split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  if (!lines.length) throw new CryptError(`ssh-keyscan found no host key at ${url.host}${url.port ? `:${url.port}` : ''}: ${r.stderr.trim() || 'no answer'}`);
  const out: ScannedKey[] = [];
  for (const line of lines) {
    const fp = await runner.run(['ssh-keygen', '-l', '-E', 'sha256', '-f', '-'], { input: `${line}\n`, allowFailure: true });
    const m = /^\d+\s+(SHA256:\S+)\s+.*\((\w+)\)\s*$/.exec(fp.stdout.trim());
    if (m) out.push({ line, fingerprint: m[1]!, type: m[2]! });
  }
  return out;
}

/** Writes the key whose fingerprint is `fingerprint` as the target's known_hosts; refuses when none matches. */
export async function trustHost(runner: Runner, url: Extract<TargetUrl, { kind: 'ssh' }>, knownHosts: string, fingerprint: string | undefined): Promise<ScannedKey> {
  const keys = await scanHostKeys(runner, url);
  const listed = keys.map((k) => `  ${k.type} ${k.fingerprint}`).join('\n');
  if (!fingerprint) {
    throw new RefusedError(`the host keys of ${url.host} are:\n${listed}\nnothing was trusted yet`, {
      hint: `Compare with \`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub\` on the target itself, then run again with --fingerprint SHA256:…`,
    });
  }
  const k = keys.find((x) => x.fingerprint === fingerprint);
  if (!k) throw new RefusedError(`no host key of ${url.host} has the fingerprint ${fingerprint}; it has:\n${listed}\nnothing was trusted`, { hint: 'Someone may be in between, or the fingerprint was mistyped.' });
  await writeFileAtomic(knownHosts, `${k.line}\n`, { mode: 0o644 });
  return k;
}
