// The ssh client's argv for an ssh:// target: every file it may read is named (the key, the known_hosts
// file), and nothing else is read: `-F none` (no /etc/ssh/ssh_config, no ~/.ssh/config), no agent, no
// root's ~/.ssh/known_hosts, strict host key checking, batch mode (never a prompt), no connection sharing.
// The remote side is a forced command that reads the request words from SSH_ORIGINAL_COMMAND; the words are
// plain ([A-Za-z0-9._:-]), so nothing needs quoting on the way.

export interface SshEndpoint {
  user: string;
  host: string;
  port: number | null;
}

export interface SshFiles {
  identity: string;
  knownHosts: string;
}

/** ssh's own failures (connect, authentication, host key, timeout) all exit 255; anything else is the remote command's. */
export const SSH_FAILED = 255;

/**
 * `ssh … USER@HOST -- WORDS`. aliveSeconds: how long a link that stopped answering is waited for
 * (ServerAliveInterval × ServerAliveCountMax), so a stalled network ends the transfer instead of hanging it.
 */
export function sshArgv(to: SshEndpoint, files: SshFiles, words: string[], opts: { aliveSeconds?: number; connectTimeout?: number } = {}): string[] {
  for (const w of words) if (!/^[A-Za-z0-9._:-]+$/.test(w)) throw new Error(`not a plain request word: ${JSON.stringify(w)}`);
  const alive = Math.max(4, opts.aliveSeconds ?? 60);
  const interval = Math.max(1, Math.floor(alive / 4));
  return [
    'ssh',
    '-F', 'none',
    '-o', `IdentityFile=${files.identity}`,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', `UserKnownHostsFile=${files.knownHosts}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'UpdateHostKeys=no',
    '-o', 'CheckHostIP=no',
    '-o', 'BatchMode=yes',
    '-o', 'ControlMaster=no',
    '-o', 'ControlPath=none',
    '-o', 'ForwardAgent=no',
    '-o', 'ForwardX11=no',
    '-o', 'RequestTTY=no',
    '-o', 'ClearAllForwardings=yes',
    '-o', `ConnectTimeout=${opts.connectTimeout ?? 20}`,
    '-o', `ServerAliveInterval=${interval}`,
    '-o', `ServerAliveCountMax=${Math.ceil(alive / interval)}`,
    // LogLevel stays INFO (the default): ERROR would hide "Timeout, server … not responding".
    ...(to.port !== null ? ['-p', String(to.port)] : []),
    `${to.user}@${to.host.replace(/^\[(.*)\]$/, '$1')}`,
    '--',
    ...words,
  ];
}

/** `ssh-keyscan` of the target's host key (what `--trust-host` shows before writing known_hosts). */
export function keyscanArgv(to: SshEndpoint): string[] {
  return ['ssh-keyscan', '-T', '10', '-t', 'ed25519,ecdsa,rsa', ...(to.port !== null ? ['-p', String(to.port)] : []), '--', to.host.replace(/^\[(.*)\]$/, '$1')];
}
