// The answers-file sections of "set and forget": `retention:`, `space:` and `schedule:` (zod, unknown keys
// rejected), and how each resolves into the stored configuration. Pure.
import { z } from 'zod';
import { formatFloor, parseFloor, type RetentionConfig, type ScheduleConfig, type SpaceConfig } from '../../model/settings.js';
import { parseAge } from '../../model/units.js';
import { DEFAULTS } from './defaults.js';
// The stored forms live in model/settings.ts (no zod): runtime commands load that, not this schema.

const count = z
  .number({ error: 'expected a whole number (0 or more)' })
  .int({ error: 'expected a whole number (0 or more)' })
  .nonnegative({ error: 'expected a whole number (0 or more)' });
const age = z
  .string({ error: 'expected an age like 30d, 12h, 2w or 90m' })
  .refine((s) => parseAge(s) !== undefined, { error: 'expected an age like 30d, 12h, 2w or 90m' });

export const retentionAnswers = z.strictObject({
  keepLast: count.optional(),
  within: age.optional(),
  hourly: count.optional(),
  daily: count.optional(),
  weekly: count.optional(),
  monthly: count.optional(),
  yearly: count.optional(),
});

/** `15%` (of the filesystem) or a size (`2G`). */
const floor = z
  .union([z.string(), z.number()], { error: 'expected a percentage like 15% or a size like 2G' })
  .refine((s) => parseFloor(s) !== undefined, { error: 'expected a percentage like 15% (above 0, below 100) or a size like 2G' });

export const spaceAnswers = z.strictObject({ minFree: floor.optional() });

/**
 * A systemd calendar expression (systemd.time(7)): `hourly`, `daily`, `*-*-* 03:00:00`, `Mon..Fri 02:30`.
 * Only the characters such expressions use: it is written into a unit file, where a newline or a `%`
 * specifier would change its meaning. systemd-analyze checks the rest when init verifies the units.
 */
const calendar = z
  .string({ error: 'expected a systemd calendar expression like hourly or "*-*-* 03:00"' })
  .regex(/^[A-Za-z0-9*:,./~+ -]{1,100}$/, { error: 'expected a systemd calendar expression like hourly or "*-*-* 03:00" (letters, digits, spaces and * : , . / ~ + - only)' });

export const scheduleAnswers = z.strictObject({
  calendar: calendar.default(DEFAULTS['schedule.calendar']),
  /** When to verify the newest snapshot; false: never. */
  verify: z.union([calendar, z.literal(false)]).default(DEFAULTS['schedule.verify']),
  /** A node_exporter textfile each scheduled run refreshes (status --prometheus). */
  prometheus: z
    .string({ error: 'expected an absolute path' })
    .refine((p) => p.startsWith('/') && !/[\n\r]/.test(p), { error: 'expected an absolute path (starting with /)' })
    .optional(),
});

export interface SetAndForget {
  retention: RetentionConfig | null;
  space: SpaceConfig | null;
  schedule: ScheduleConfig | null;
}

/**
 * Answers -> config. Each section is what the answers say, or absent: an answers file is the whole
 * description, so removing `schedule:` removes the timer on the next init (it converges).
 */
export function resolveSetAndForget(a: {
  retention?: z.output<typeof retentionAnswers>;
  space?: z.output<typeof spaceAnswers>;
  schedule?: z.output<typeof scheduleAnswers>;
}): SetAndForget {
  const retention = a.retention ? Object.fromEntries(Object.entries(a.retention).filter(([, v]) => v !== undefined)) : null;
  return {
    retention,
    space: a.space ? { minFree: a.space.minFree !== undefined ? parseFloor(a.space.minFree)! : null } : null,
    schedule: a.schedule ? { calendar: a.schedule.calendar, verify: a.schedule.verify, ...(a.schedule.prometheus ? { prometheus: a.schedule.prometheus } : {}) } : null,
  };
}

/** Config -> answers (for --write-answers), so a replay yields the same sections. */
export function setAndForgetAnswers(c: Partial<SetAndForget>): {
  retention?: z.input<typeof retentionAnswers>;
  space?: z.input<typeof spaceAnswers>;
  schedule?: z.input<typeof scheduleAnswers>;
} {
  return {
    ...(c.retention ? { retention: { ...c.retention } } : {}),
    ...(c.space ? { space: c.space.minFree ? { minFree: formatFloor(c.space.minFree) } : {} } : {}),
    ...(c.schedule ? { schedule: { ...c.schedule } } : {}),
  };
}
