// Directories no crypt may take over: migrating them aside (or mounting over them) would break the host.
// One list for the answers (src/install/resolve.ts) and the interactive question (src/cli/ui/wizard.ts).
export const SYSTEM_DIRS: ReadonlySet<string> = new Set(['/', '/bin', '/boot', '/dev', '/etc', '/home', '/lib', '/lib64', '/opt', '/proc', '/root', '/run', '/sbin', '/srv', '/sys', '/tmp', '/usr', '/var', '/var/lib', '/var/tmp', '/mnt', '/media']);

/** Why `p` cannot be a crypt path (a system directory, or the user's whole home), or undefined. */
export function systemDirRefusal(p: string, home: string): string | undefined {
  const clean = p.length > 1 ? p.replace(/\/+$/, '') : p;
  if (SYSTEM_DIRS.has(clean)) return `${clean} is a system directory`;
  if (clean === home.replace(/\/+$/, '')) return `${clean} is the home directory itself`;
  return undefined;
}
