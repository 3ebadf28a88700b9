// What the off-host copy tests share: a remote host whose root login runs the real `lychd-crypt receive`
// (the bundle under test) as the forced command of the test's key, target configurations of each kind,
// and facts read on the remote.
import path from 'node:path';
import type { TargetConfig } from '../../src/model/replicate.js';
import { startRemoteHost, type Link, type RemoteHost, type RemoteHostOptions } from './remote-host.js';
import type { Scratch } from './scratch.js';

export interface Receiver {
  remote: RemoteHost;
  /** The directory of the copies on the remote. */
  dir: string;
}

/**
 * A remote host with DIR made as `lychd-crypt init --receiver` makes it (a 0700 root subvolume) and the client key authorized
 * with the forced command it writes. `receiveArgs`: more words for the forced command (--pull, timeouts).
 */
export async function startReceiver(scratch: Scratch, bundle: string, opts: RemoteHostOptions & { receiveArgs?: string[]; dirName?: string } = {}): Promise<Receiver> {
  const remote = await startRemoteHost(scratch, opts);
  const dir = path.join(remote.btrfs, 'lychd', opts.dirName ?? 'fx');
  await remote.exec(['sh', '-c', 'mkdir -p "$(dirname "$1")" && btrfs -q subvolume create "$1" && chmod 0700 "$1"', 'sh', dir], { check: true });
  // The remote shares this host's /var: no code cache written there (the forced command runs through the login shell).
  await remote.authorize(['LYCHD_CRYPT_COMPILE_CACHE=0', process.execPath, bundle, 'receive', '--dir', dir, ...(opts.receiveArgs ?? [])].join(' '));
  return { remote, dir };
}

export function sshTarget(r: Receiver, extra: Partial<TargetConfig> = {}, via?: Link): TargetConfig {
  return {
    name: 'offsite',
    url: { kind: 'ssh', user: 'root', host: via?.address ?? r.remote.address, port: via?.port ?? r.remote.port, path: r.dir },
    retention: null,
    rateLimit: null,
    fullEvery: null,
    identity: r.remote.clientKey,
    knownHosts: r.remote.knownHosts,
    ...extra,
  };
}

export function pathTarget(dir: string, extra: Partial<TargetConfig> = {}): TargetConfig {
  return { name: 'disk', url: { kind: 'path', path: dir }, retention: null, rateLimit: null, fullEvery: null, identity: null, knownHosts: null, ...extra };
}

export function fileTarget(dir: string, extra: Partial<TargetConfig> = {}): TargetConfig {
  return { name: 'bucket', url: { kind: 'file', path: dir }, retention: null, rateLimit: null, fullEvery: null, identity: null, knownHosts: null, ...extra };
}

/** `btrfs subvolume show` on the remote: its received UUID ('-' when none) and flags. */
export async function remoteSubvolume(remote: RemoteHost, p: string): Promise<{ receivedUuid: string; readonly: boolean } | null> {
  const r = await remote.exec(['btrfs', 'subvolume', 'show', p]);
  if (r.code !== 0) return null;
  return { receivedUuid: /Received UUID:\s*(\S+)/.exec(r.stdout)![1]!, readonly: /Flags:\s*.*readonly/.test(r.stdout) };
}

/** The entries of DIR on the remote (dot files left out). */
export async function remoteEntries(remote: RemoteHost, dir: string): Promise<string[]> {
  const r = await remote.exec(['ls', '-1', dir], { check: true });
  return r.stdout.split('\n').filter((n) => n && !n.startsWith('.')).sort();
}
