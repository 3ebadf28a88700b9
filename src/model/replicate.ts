// The stored `replicate:` (off-host copies, SPEC section 10): where each target is, and how a target URL is
// read and written back. Pure: the answers schema (install/answers/replicate.ts) checks the file, the
// runtime (runtime/replicate/) acts on this.
import type { RetentionConfig } from './settings.js';

/** Where the copies of one target live. */
export type TargetUrl =
  /** Another host: `lychd-crypt receive` runs there as root, as the forced command of the key's line. */
  | { kind: 'ssh'; user: string; host: string; port: number | null; path: string }
  /** A directory on another Btrfs filesystem of this host (a second disk). */
  | { kind: 'path'; path: string }
  /** A directory of zstd send streams with sidecars: any filesystem, an rclone or object-store mount. */
  | { kind: 'file'; path: string };

export type TargetKind = TargetUrl['kind'];

export interface TargetConfig {
  name: string;
  url: TargetUrl;
  /** The target's own retention; null: the crypt's `retention:` (none there: every copy is kept). */
  retention: RetentionConfig | null;
  /** Bytes per second; null: unlimited. */
  rateLimit: number | null;
  /** file:// only: a new full stream after this many incrementals (default DEFAULT_FULL_EVERY). */
  fullEvery: number | null;
  /** ssh only: the private key and the known_hosts file; null: the defaults in the registry (targetKeyFiles). */
  identity: string | null;
  knownHosts: string | null;
}

export interface ReplicateConfig {
  /** after-snapshot: the snapshot timer replicates after it snapshots; a calendar: a timer of its own; false: by hand only. */
  schedule: 'after-snapshot' | string | false;
  targets: TargetConfig[];
}

export const DEFAULT_FULL_EVERY = 30;
/** In a rootless crypt's state directory: the owner's request for a run of root's replication (a .path unit watches it). */
export const REPLICATE_REQUEST_FILE = 'replicate.request';
/** The grammar of a target's name: it becomes part of file names and unit names. */
export const TARGET_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** What a host may be: it becomes a word of ssh's argv, so no leading `-` (`-oProxyCommand=…`). */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\])$/;
const USER = /^[a-z_][a-z0-9_.-]{0,31}$/;

function checkPath(p: string): string | null {
  if (!p.startsWith('/') || p === '/' || /\/\/|\/\.\.?(\/|$)/.test(p) || p.endsWith('/')) return 'the path must be absolute, not "/", without "//", "." or ".." parts and without a trailing "/"';
  // A control character in a path would end up in a unit, a log line, an argv for btrfs.
  if (/[\u0000-\u001f\u007f]/.test(p)) return 'the path holds a control character';
  return null;
}

/** ssh://USER@HOST[:PORT]/ABS-PATH, an absolute path, or file:///ABS-PATH; or what is wrong with it. */
export function parseTargetUrl(text: string): TargetUrl | { problem: string } {
  if (text.startsWith('/')) {
    const bad = checkPath(text);
    return bad ? { problem: bad } : { kind: 'path', path: text };
  }
  if (text.startsWith('file://')) {
    const p = text.slice('file://'.length);
    if (!p.startsWith('/')) return { problem: `file:// takes an absolute path on this host (file:///PATH), got "${text}"` };
    const bad = checkPath(decodeURIComponent(p));
    return bad ? { problem: bad } : { kind: 'file', path: decodeURIComponent(p) };
  }
  if (text.startsWith('ssh://')) {
    const m = /^ssh:\/\/(?:([^@/]*)@)?(\[[^\]]*\]|[^:/]*)(?::([^/]*))?(\/.*)?$/.exec(text);
    if (!m) return { problem: `expected ssh://USER@HOST[:PORT]/PATH, got "${text}"` };
    const [, userPart, host = '', portText, p] = m;
    if (userPart === undefined || userPart === '') return { problem: 'ssh:// needs a user (ssh://root@HOST/PATH): receiving runs as root on the target' };
    if (userPart.includes(':')) return { problem: 'a password in the URL would end up in the registry and in process lists; use identity: (a key file)' };
    if (!USER.test(userPart)) return { problem: `"${userPart}" is not a user name` };
    if (!HOST.test(host)) return { problem: `HOST may only hold letters, digits, ".", "-" (an IPv6 address in [ ]), and may not start with "-"; got "${host}"` };
    let port: number | null = null;
    if (portText !== undefined) {
      port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
      if (!(port >= 1 && port <= 65535)) return { problem: `port must be 1–65535, got ${portText || '(empty)'}` };
    }
    if (!p) return { problem: 'ssh:// needs the directory on the target: ssh://USER@HOST[:PORT]/PATH' };
    const bad = checkPath(p);
    if (bad) return { problem: bad };
    return { kind: 'ssh', user: userPart, host, port, path: p };
  }
  return { problem: `expected ssh://USER@HOST[:PORT]/PATH, an absolute path, or file:///PATH, got "${text}"` };
}

/** The URL as people and the answers file write it (never holds a secret: there is none in it). */
export function formatTargetUrl(u: TargetUrl): string {
  switch (u.kind) {
    case 'ssh':
      return `ssh://${u.user}@${u.host}${u.port !== null ? `:${u.port}` : ''}${u.path}`;
    case 'path':
      return u.path;
    case 'file':
      return `file://${u.path}`;
  }
}

/** Where the default key and known_hosts of an ssh target live: root's registry, never ~/.ssh. */
export function targetKeyFiles(registryDir: string, crypt: string, target: string): { identity: string; knownHosts: string } {
  const dir = `${registryDir}/replicate/${crypt}`;
  return { identity: `${dir}/${target}.key`, knownHosts: `${dir}/${target}.known_hosts` };
}
