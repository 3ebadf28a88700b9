// Stock Debian hosts for the package's install tests: a root made by `debootstrap --variant=minbase`
// (bookworm, trixie) from the machine's own mirror, built once and cached outside the checkout by
// debian-root.sh, then used as the read-only lower layer of a throw-away root, so every test starts from
// the same clean system with only Debian's archive behind it (and the PACKAGEs asked for waiting, downloaded
// but not installed, in its apt cache).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Scratch } from './scratch.js';
import { toolSkipReason } from './env.js';
import { makeThrowawayRoot, type ThrowawayRoot } from './throwaway-root.js';

export type Suite = 'bookworm' | 'trixie';

/** Why the roots cannot be made here (no debootstrap), or undefined; in CI a missing tool fails instead. */
export const debianRootSkipReason = (): string | undefined => toolSkipReason('debootstrap');

/** The cached root of `suite` with `packages` in its apt cache: made on first use (about a minute), then reused. */
export function cachedDebianRoot(suite: Suite, packages: string[] = []): string {
  const script = path.join(import.meta.dirname, 'debian-root.sh');
  return execFileSync('bash', [script, suite, ...packages], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 15 * 60_000 }).trim();
}

/** A throw-away root over the cached stock root of `suite`: the host's /dev and /sys, its own /proc. */
export async function makeDebianRoot(scratch: Scratch, suite: Suite, packages: string[] = []): Promise<ThrowawayRoot> {
  return makeThrowawayRoot(scratch, { lower: cachedDebianRoot(suite, packages) });
}
