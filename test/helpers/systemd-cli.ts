// Runs the bundled CLI (see buildCli in ./init.js) inside a systemd container, as root there, and parses
// its --json output; plus small probes of what systemd says about a unit.
import type { Container, ExecResult } from './systemd.js';
import { parseJsonOutput } from './init.js';

export interface BoxCliResult extends ExecResult {
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export async function cliIn(box: Container, bundle: string, args: string[], env: Record<string, string> = {}): Promise<BoxCliResult> {
  const r = await box.exec([process.execPath, bundle, ...args], { env: { HOME: '/root', LYCHD_CRYPT_REGISTRY: process.env.LYCHD_CRYPT_REGISTRY ?? '', ...env } });
  return { ...r, ...parseJsonOutput(r.stdout) };
}

/** `systemctl show -p NAME --value UNIT` for each name, as an object. */
export async function unitProps(box: Container, unit: string, names: string[], user?: string): Promise<Record<string, string>> {
  const scope = user ? ['--user', '-M', `${user}@`] : [];
  const r = await box.exec(['systemctl', ...scope, 'show', unit, ...names.map((n) => `-p${n}`)]);
  return Object.fromEntries(
    r.stdout
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

/** Source and filesystem type of the mount at `where` inside the container, or null. */
export async function mountIn(box: Container, where: string): Promise<{ source: string; fstype: string } | null> {
  const r = await box.exec(['findmnt', '-n', '-o', 'SOURCE,FSTYPE', '--mountpoint', where]);
  if (r.code !== 0) return null;
  const [source, fstype] = r.stdout.trim().split(/\s+/);
  return { source: source!, fstype: fstype! };
}
