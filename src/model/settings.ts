// The stored forms of `retention:`, `space:` and `schedule:` and what the runtime commands do with them.
// No zod here: the answers schema (install/answers/set-and-forget.ts) is init's, and runtime commands must
// not load it.
import { formatSize, parseSize } from './units.js';

export type FreeFloor = { percent: number } | { bytes: number };

export function parseFloor(text: string | number): FreeFloor | undefined {
  if (typeof text === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(text);
    if (m) {
      const percent = Number(m[1]);
      return percent > 0 && percent < 100 ? { percent } : undefined;
    }
  }
  const bytes = parseSize(text);
  return bytes === undefined ? undefined : { bytes };
}

export interface ScheduleConfig {
  calendar: string;
  verify: string | false;
  prometheus?: string;
}

export interface SpaceConfig {
  minFree: FreeFloor | null;
}

/** The stored form of a retention policy: JSON-friendly, `within` kept as the text the administrator wrote. */
export interface RetentionConfig {
  keepLast?: number;
  within?: string;
  hourly?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
  yearly?: number;
}

export function formatFloor(f: FreeFloor): string {
  return 'percent' in f ? `${f.percent}%` : formatSize(f.bytes);
}
