// `replicate:` in the answers (off-host copies, SPEC section 10): its schema, and how it resolves into the
// stored configuration (model/replicate.ts) and back (--write-answers). Every message names the key path;
// nothing is checked against the host here (that a path target is not on the crypt's own filesystem is the
// target's own check when it is used).
import { z } from 'zod';
import { DEFAULT_FULL_EVERY, TARGET_NAME, formatTargetUrl, parseTargetUrl, type ReplicateConfig, type TargetConfig } from '../../model/replicate.js';
import { formatRate, parseRate } from '../../model/units.js';
import { retentionAnswers } from './set-and-forget.js';

/** A rate limit under this is a mistake (64 KiB/s: a 1 GiB full send would take four and a half hours). */
const MIN_RATE = 64 * 1024;

const calendar = z
  .string()
  .regex(/^[A-Za-z0-9*:,./~+ -]{1,100}$/, { error: 'expected after-snapshot, false or a systemd calendar expression like "*-*-* 03:00"' });

const absFile = z
  .string({ error: 'expected an absolute path to a file' })
  .refine((p) => p.startsWith('/') && !/[\u0000-\u001f\u007f]/.test(p), { error: 'expected an absolute path to a file (starting with /, no control characters)' });

const target = z
  .strictObject({
    name: z.string({ error: 'expected a name' }).regex(TARGET_NAME, { error: 'expected a plain name: lower-case letters, digits, - and _ (at most 32), starting with a letter or digit' }),
    url: z.string({ error: 'expected a URL: ssh://USER@HOST[:PORT]/PATH, an absolute path, or file:///PATH' }).superRefine((u, ctx) => {
      const r = parseTargetUrl(u);
      if ('problem' in r) ctx.addIssue({ code: 'custom', message: r.problem });
    }),
    retention: retentionAnswers.optional(),
    rateLimit: z
      .union([z.string(), z.number()], { error: 'expected a rate like 20M (bytes per second) or 500K/s' })
      .refine((r) => parseRate(r) !== undefined, { error: 'expected a rate like 20M (bytes per second) or 500K/s' })
      .refine((r) => (parseRate(r) ?? MIN_RATE) >= MIN_RATE, { error: 'expected at least 64K (bytes per second)' })
      .optional(),
    fullEvery: z.number({ error: 'expected a whole number of 1 or more' }).int({ error: 'expected a whole number of 1 or more' }).min(1, { error: 'expected a whole number of 1 or more' }).optional(),
    identity: absFile.optional(),
    knownHosts: absFile.optional(),
  })
  .superRefine((t, ctx) => {
    const u = parseTargetUrl(t.url);
    if ('problem' in u) return;
    if (t.fullEvery !== undefined && u.kind !== 'file') ctx.addIssue({ code: 'custom', path: ['fullEvery'], message: 'only file:// targets keep stream chains (ssh:// and path targets hold whole copies); remove it' });
    for (const key of ['identity', 'knownHosts'] as const) if (t[key] !== undefined && u.kind !== 'ssh') ctx.addIssue({ code: 'custom', path: [key], message: 'only ssh:// targets use a key; remove it' });
  });

export const replicateAnswers = z
  .strictObject({
    schedule: z.union([z.literal(false), z.literal('after-snapshot'), calendar], { error: 'expected after-snapshot, false or a systemd calendar expression like "*-*-* 03:00"' }).optional(),
    targets: z.array(target, { error: 'expected a list of targets: [ { name, url } ]' }),
  })
  .superRefine((r, ctx) => {
    r.targets.forEach((t, i) => {
      const first = r.targets.findIndex((x) => x.name === t.name);
      if (first < i) ctx.addIssue({ code: 'custom', path: ['targets', i, 'name'], message: `"${t.name}" is already the name of replicate.targets[${first}]` });
    });
  });

type ReplicateAnswers = z.output<typeof replicateAnswers>;

function resolveTarget(t: ReplicateAnswers['targets'][number]): TargetConfig {
  const url = parseTargetUrl(t.url);
  if ('problem' in url) throw new Error(url.problem); // the schema refused it already
  return {
    name: t.name,
    url,
    retention: t.retention ? Object.fromEntries(Object.entries(t.retention).filter(([, v]) => v !== undefined)) : null,
    rateLimit: t.rateLimit !== undefined ? parseRate(t.rateLimit)! : null,
    fullEvery: url.kind === 'file' ? (t.fullEvery ?? DEFAULT_FULL_EVERY) : null,
    identity: t.identity ?? null,
    knownHosts: t.knownHosts ?? null,
  };
}

/** Answers -> config; absent: no replication. `schedule` defaults to after-snapshot. */
export function resolveReplicate(a: ReplicateAnswers | undefined): { replicate: ReplicateConfig | null } {
  if (!a) return { replicate: null };
  return { replicate: { schedule: a.schedule ?? 'after-snapshot', targets: a.targets.map(resolveTarget) } };
}

/** Config -> answers (for --write-answers), so a replay yields the same configuration. */
export function replicateAnswersOf(c: { replicate?: ReplicateConfig | null }): { replicate?: z.input<typeof replicateAnswers> } {
  if (!c.replicate) return {};
  return {
    replicate: {
      schedule: c.replicate.schedule,
      targets: c.replicate.targets.map((t) => ({
        name: t.name,
        url: formatTargetUrl(t.url),
        ...(t.retention ? { retention: { ...t.retention } } : {}),
        ...(t.rateLimit !== null ? { rateLimit: formatRate(t.rateLimit) } : {}),
        ...(t.url.kind === 'file' && t.fullEvery !== null ? { fullEvery: t.fullEvery } : {}),
        ...(t.identity ? { identity: t.identity } : {}),
        ...(t.knownHosts ? { knownHosts: t.knownHosts } : {}),
      })),
    },
  };
}
