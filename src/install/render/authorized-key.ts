// The receiver's authorized_keys line (pure): `command="BIN receive --dir DIR[ --pull|--pull-only]",restrict
// KEY`. sshd runs the forced command through the login shell, so BIN and DIR are refused unless every
// character is one a shell takes literally; the key is one public key line (type, base64, comment), never
// options of its own.
export type ReceiverMode = 'push' | 'pull' | 'pull-only';

export interface PublicKey {
  type: string;
  blob: string;
  comment: string;
}

const KEY_TYPES = new Set([
  'ssh-ed25519',
  'ssh-rsa',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

/** Characters a shell reads literally: no quoting needed, no expansion possible. */
const SHELL_SAFE_PATH = /^\/[A-Za-z0-9._/+@-]*$/;

/** A path that goes into the forced command: absolute, shell-safe, not "/", no "..". */
export function forcedCommandPathProblem(p: string): string | null {
  if (!SHELL_SAFE_PATH.test(p)) return `must be an absolute path of letters, digits and . _ / + @ - only (the forced command runs through the login shell), got "${p}"`;
  if (p === '/' || p.split('/').includes('..')) return `must not be "/" or hold "..", got "${p}"`;
  return null;
}

export function parsePublicKey(text: string): PublicKey | { problem: string } {
  const t = text.trim();
  if (/[\0-\x1f\x7f"]/.test(t)) return { problem: 'a public key is one line without control characters or "' };
  const [type = '', blob = '', ...rest] = t.split(/ +/);
  if (!KEY_TYPES.has(type)) return { problem: `expected a public key line like "ssh-ed25519 AAAA… comment" (the .pub file), got one starting "${t.slice(0, 24)}"` };
  if (!/^[A-Za-z0-9+/]+={0,3}$/.test(blob) || blob.length < 40) return { problem: `the key data of the ${type} key is not base64` };
  return { type, blob, comment: rest.join(' ') };
}

export function renderAuthorizedKey(spec: { bin: string; dir: string; mode: ReceiverMode; key: PublicKey }): string {
  for (const [what, p] of [['the program', spec.bin], ['the directory', spec.dir]] as const) {
    const problem = forcedCommandPathProblem(p);
    if (problem) throw new Error(`${what} ${problem}`);
  }
  const flag = spec.mode === 'pull' ? ' --pull' : spec.mode === 'pull-only' ? ' --pull-only' : '';
  const k = spec.key;
  return `command="${spec.bin} receive --dir ${spec.dir}${flag}",restrict ${k.type} ${k.blob}${k.comment ? ` ${k.comment}` : ''}`;
}

/** authorized_keys with the line for this key: a line with the same key data replaced, every other line kept as it is. */
export function withKeyLine(current: string, line: string, blob: string): string {
  const lines = current.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const hasBlob = (l: string) => l.split(/\s+/).includes(blob);
  const at = lines.findIndex(hasBlob);
  const kept = lines.filter((l, i) => i === at || !hasBlob(l));
  if (at < 0) kept.push(line);
  else kept[kept.findIndex(hasBlob)] = line;
  return `${kept.join('\n')}\n`;
}
