// Without systemd, init prints the equivalent /etc/cron.d lines instead of installing timers (pure).
// Only calendars with an exact cron form are translated; for others the caller says so.

const SHORTHANDS: Record<string, string> = {
  minutely: '* * * * *',
  hourly: '0 * * * *',
  daily: '0 0 * * *',
  weekly: '0 0 * * 1', // systemd's weekly is Monday 00:00
  monthly: '0 0 1 * *',
  yearly: '0 0 1 1 *',
  annually: '0 0 1 1 *',
};

/** systemd calendar -> cron's five fields, or null when there is no exact equivalent. */
export function cronFields(calendar: string): string | null {
  const c = calendar.trim().toLowerCase();
  if (SHORTHANDS[c]) return SHORTHANDS[c]!;
  // `*-*-* 03:30` or `*-*-* 03:30:00`: every day at that time.
  const m = /^(?:\*-\*-\*\s+)?(\d{1,2}):(\d{2})(?::00)?$/.exec(c);
  if (m && Number(m[1]) < 24 && Number(m[2]) < 60) return `${Number(m[2])} ${Number(m[1])} * * *`;
  return null;
}

/** A word for /bin/sh (cron runs the command through it); % is escaped, cron reads it as a newline. */
function shellWord(v: string): string {
  const q = /^[A-Za-z0-9_./=:-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`;
  return q.replace(/%/g, '\\%');
}

/** One /etc/cron.d line running `argv` as `user` (root, or a rootless crypt's owner) at `calendar`, or null when cron cannot say it. */
export function cronLine(calendar: string, argv: readonly string[], user = 'root'): string | null {
  const fields = cronFields(calendar);
  return fields ? `${fields} ${user} ${argv.map(shellWord).join(' ')}` : null;
}
