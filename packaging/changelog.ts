// CHANGELOG.md is the one changelog: parse its entries, render the Debian changelog from them.
export interface Release {
  version: string;
  /** YYYY-MM-DD */
  date: string;
  /** The bullet points, each joined onto one line. */
  changes: string[];
}

/** Parses `## <version> - <YYYY-MM-DD>` sections and their `- ` bullets (continuation lines indented). */
export function parseChangelog(text: string): Release[] {
  const releases: Release[] = [];
  for (const line of text.split('\n')) {
    const head = /^## (\S+) - (\d{4}-\d{2}-\d{2})\s*$/.exec(line);
    if (head) {
      releases.push({ version: head[1]!, date: head[2]!, changes: [] });
      continue;
    }
    const current = releases.at(-1);
    if (!current) continue;
    if (line.startsWith('- ')) current.changes.push(line.slice(2).trim());
    else if (/^\s+\S/.test(line) && current.changes.length) current.changes[current.changes.length - 1] += ` ${line.trim()}`;
  }
  if (releases.length === 0) throw new Error('CHANGELOG.md has no "## <version> - <YYYY-MM-DD>" entry');
  return releases;
}

/** RFC 2822 date at noon UTC of a YYYY-MM-DD day (the changelog records days, Debian wants a time). */
export function debianDate(day: string): string {
  const d = new Date(`${day}T12:00:00Z`);
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const dd = String(d.getUTCDate()).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${dd} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} 12:00:00 +0000`;
}

/** Wraps text at 76 columns for a changelog bullet (`  * ` then `    `). */
function wrap(text: string, first: string, rest: string, width = 80): string[] {
  const lines: string[] = [];
  let line = first;
  for (const word of text.split(/\s+/)) {
    if (line.length > first.length && line !== rest && `${line} ${word}`.length > width) {
      lines.push(line);
      line = `${rest}${word}`;
    } else line = line === first || line === rest ? `${line}${word}` : `${line} ${word}`;
  }
  lines.push(line);
  return lines;
}

/** debian/changelog format (deb-changelog(5)); the package is native, so the version is the upstream one. */
export function renderDebianChangelog(releases: Release[], pkg: string, maintainer: string, distribution = 'unstable'): string {
  return releases
    .map((r) =>
      [
        `${pkg} (${r.version}) ${distribution}; urgency=medium`,
        '',
        ...r.changes.flatMap((c) => wrap(c.replace(/`/g, ''), '  * ', '    ')),
        '',
        ` -- ${maintainer}  ${debianDate(r.date)}`,
        '',
      ].join('\n'),
    )
    .join('\n');
}
