// systemd's path escaping for unit names (systemd.unit(5) "String Escaping", unit_name_path_escape):
// the reference is `systemd-escape --path --suffix=mount`.
import path from 'node:path';

const VALID = /[A-Za-z0-9:_.]/;

/** Escapes an absolute path the way `systemd-escape --path` does. */
export function escapeSystemdPath(p: string): string {
  if (!p.startsWith('/')) throw new Error(`not an absolute path: ${p}`);
  if (p.split('/').includes('..')) throw new Error(`path is not normalized: ${p}`);
  // path_simplify: drop duplicate slashes and "." components; strip the slashes at both ends.
  const trimmed = path.posix.normalize(p).replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '-';
  let out = '';
  const bytes = Buffer.from(trimmed, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    const c = String.fromCharCode(b);
    if (c === '/') out += '-';
    else if ((i === 0 && c === '.') || b >= 0x80 || !VALID.test(c)) out += `\\x${b.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return out;
}

/** The name of the .mount unit for a mount point: systemd requires exactly this name. */
export function unitNameForPath(where: string): string {
  return `${escapeSystemdPath(where)}.mount`;
}
