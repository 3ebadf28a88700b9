// The free-space trend, pure: from the usage each snapshot's metadata recorded (space.usedBytes at
// createdAt) and today's, the growth per day (least squares over the last 30 days) and when the crypt is
// full at that pace; below 30 days, "grow soon" with the command that adds about 90 days of room.
import type { Config } from '../../model/config.js';
import { approxSize, formatSize } from '../../model/units.js';

const DAY = 86_400_000;
const GiB = 2 ** 30;
/** Points older than this are not the current pace. */
export const TREND_WINDOW_DAYS = 30;
/** Fewer days left than this: grow soon. */
export const GROW_SOON_DAYS = 30;

export interface UsagePoint {
  at: number;
  usedBytes: number;
}

export interface SpaceTrend {
  /** Points used (snapshots in the window, and now) and the days they span. */
  points: number;
  spanDays: number;
  /** Growth of the used space per day (negative: shrinking). */
  bytesPerDay: number;
  /** Days until full at that pace; null when not growing. */
  daysLeft: number | null;
  /** "grow soon": what to run, when fewer than GROW_SOON_DAYS are left; else null. */
  advice: string | null;
}

/** What to do when the crypt will be full soon, by how it is stored. */
export function growAdvice(config: Pick<Config, 'method'>, bytesPerDay: number): string {
  const more = Math.max(GiB, Math.ceil((bytesPerDay * 90) / GiB) * GiB);
  if (config.method === 'loopback') return `grow it: \`sudo lychd-crypt resize --size +${formatSize(more)}\` (about 90 days at this pace), or move it to a partition: \`sudo lychd-crypt migrate --to-device DEV\``;
  if (config.method === 'partition') return `enlarge the partition by about ${formatSize(more)} (growpart, parted), then \`sudo lychd-crypt resize\``;
  return `free space on the host's Btrfs filesystem (about ${formatSize(more)} for 90 days at this pace), or prune snapshots`;
}

/** null: too little history (fewer than two points an hour apart in the window). */
export function spaceTrend(points: UsagePoint[], now: number, freeBytes: number, config: Pick<Config, 'method'>): SpaceTrend | null {
  const recent = points.filter((p) => p.at <= now && now - p.at <= TREND_WINDOW_DAYS * DAY).sort((a, b) => a.at - b.at);
  if (recent.length < 2) return null;
  const span = recent.at(-1)!.at - recent[0]!.at;
  if (span < DAY / 24) return null;
  // Least squares: a burst between two snapshots does not swing it as much as first-to-last would.
  const n = recent.length;
  const mx = recent.reduce((a, p) => a + p.at, 0) / n;
  const my = recent.reduce((a, p) => a + p.usedBytes, 0) / n;
  const sxy = recent.reduce((a, p) => a + (p.at - mx) * (p.usedBytes - my), 0);
  const sxx = recent.reduce((a, p) => a + (p.at - mx) ** 2, 0);
  const bytesPerDay = (sxy / sxx) * DAY;
  const daysLeft = bytesPerDay > 0 ? freeBytes / bytesPerDay : null;
  return {
    points: n,
    spanDays: Math.round((span / DAY) * 10) / 10,
    bytesPerDay: Math.round(bytesPerDay),
    daysLeft: daysLeft === null ? null : Math.round(daysLeft * 10) / 10,
    advice: daysLeft !== null && daysLeft < GROW_SOON_DAYS ? growAdvice(config, bytesPerDay) : null,
  };
}

/** "+1.2G/day over 6.5 days: full in ~12 days". */
const days = (n: number | string) => `${n} ${n === 1 || n === '<1' ? 'day' : 'days'}`;

export function describeTrend(t: SpaceTrend): string {
  const pace = `${t.bytesPerDay >= 0 ? '+' : '-'}${approxSize(Math.abs(t.bytesPerDay))}/day over ${days(t.spanDays)} (${t.points} points)`;
  return t.daysLeft === null ? `${pace}: not filling up` : `${pace}: full in ~${days(t.daysLeft < 1 ? '<1' : Math.round(t.daysLeft))}`;
}
