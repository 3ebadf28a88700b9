// Doctor's output: the stable JSON document and the grouped text for people.
import { painter, type Colour } from '../base/output/style.js';
import type { Check } from './findings.js';
import { summarize } from './doctor.js';

const GROUP_TITLES: Record<string, string> = {
  mount: 'Mount',
  persist: 'Persisted mount',
  journal: 'Interrupted operations',
  layout: 'Layout',
  snapshots: 'Snapshots',
  pgdata: 'PostgreSQL data directory',
  owners: 'Owners and modes',
  space: 'Free space',
  runtime: 'Runtime command',
};

const MARK = { ok: 'ok ', problem: 'BAD', 'cannot-check': ' ? ', advice: ' i ' } as const;
const MARK_COLOUR: Record<keyof typeof MARK, Colour> = { ok: 'green', problem: 'red', 'cannot-check': 'yellow', advice: 'cyan' };

export function checkToJson(c: Check): object {
  return { id: c.id, group: c.group, status: c.status, finding: c.finding, fix: c.fix };
}

export function doctorJson(crypt: string, checks: Check[]): object {
  const s = summarize(checks);
  return { version: 1, crypt, healthy: s.healthy, problems: s.problems, cannotCheck: s.cannotCheck, checks: checks.map(checkToJson) };
}

/** colour: only for a terminal (cli decides: NO_COLOR, FORCE_COLOR, pipes). */
export function doctorHuman(crypt: string, checks: Check[], colour = false): string {
  const paint = painter(colour);
  const lines = [`lychd-crypt doctor: ${crypt}`];
  const order = Object.keys(GROUP_TITLES);
  const rank = (g: string) => (order.includes(g) ? order.indexOf(g) : order.length);
  const groups = [...new Set(checks.map((c) => c.group))].sort((a, b) => rank(a) - rank(b));
  for (const g of groups) {
    lines.push('', paint('bold', GROUP_TITLES[g] ?? g));
    for (const c of checks.filter((x) => x.group === g)) {
      lines.push(`  [${paint(MARK_COLOUR[c.status], MARK[c.status])}] ${c.finding}  ${paint('dim', `(${c.id})`)}`);
      if (c.fix && 'repair' in c.fix) lines.push(`        fix: lychd-crypt repair will ${c.fix.repair}`);
      if (c.fix && 'manual' in c.fix) lines.push(`        ${c.status === 'advice' ? 'proposal' : 'fix (manual)'}: ${c.fix.manual}`);
    }
  }
  const s = summarize(checks);
  const found = [s.problems ? `${s.problems} problem(s) found` : '', s.cannotCheck ? `${s.cannotCheck} check(s) could not run, so the crypt is not known to be healthy` : '']
    .filter(Boolean)
    .join('; ');
  lines.push('', s.healthy ? paint('green', 'healthy') : `${paint(s.problems ? 'red' : 'yellow', found)}${checks.some((c) => c.fix && 'repair' in c.fix) ? ': run `lychd-crypt repair --dry-run` to see the plan' : ''}`);
  return lines.join('\n');
}
