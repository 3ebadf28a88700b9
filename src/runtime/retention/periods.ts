// The calendar periods a retention level counts in: UTC only, so there is no DST hour that occurs twice
// or never, and a snapshot's bucket does not depend on the machine's time zone. Weeks are ISO 8601
// (Monday first; week 1 holds the year's first Thursday), as btrbk and date +%G-W%V count them.

export type Level = 'hourly' | 'daily' | 'weekly' | 'monthly' | 'yearly';
export const LEVELS: readonly Level[] = ['hourly', 'daily', 'weekly', 'monthly', 'yearly'];

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** ISO week-year and week number of a UTC instant. */
export function isoWeek(d: Date): { year: number; week: number } {
  // The Thursday of d's week decides the year; count weeks from that year's January 1st.
  const day = (d.getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const thursday = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3);
  const year = new Date(thursday).getUTCFullYear();
  const week = 1 + Math.floor((thursday - Date.UTC(year, 0, 1)) / 604_800_000);
  return { year, week };
}

/** The period of `level` that holds `d`, as a readable key that also sorts by time: `2026-11-23T20`, `2026-W48`. */
export function periodKey(level: Level, d: Date): string {
  const y = pad(d.getUTCFullYear(), 4);
  const m = pad(d.getUTCMonth() + 1);
  const day = pad(d.getUTCDate());
  switch (level) {
    case 'hourly':
      return `${y}-${m}-${day}T${pad(d.getUTCHours())}`;
    case 'daily':
      return `${y}-${m}-${day}`;
    case 'weekly': {
      const w = isoWeek(d);
      return `${pad(w.year, 4)}-W${pad(w.week)}`;
    }
    case 'monthly':
      return `${y}-${m}`;
    case 'yearly':
      return y;
  }
}
