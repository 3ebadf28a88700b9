// The plan on one screen (the interactive preview): the profile and the connection, what changes in the
// registry (or that nothing does), what is formatted, what is mounted where, which host files change, what
// is installed. The full plan (every command, every file) stays behind --dry-run or "Show the full plan".
// Pure: built from the steps, and — when the host was probed — only from the steps that would change, so
// a live cluster is never announced as something the plan "Creates".
import path from 'node:path';
import { formatSize } from '../../model/units.js';
import type { InitStep, Plan } from '../../model/steps.js';
import type { Config } from '../../model/config.js';
import type { Probe } from '../steps/module.js';
import { configChanges, describeChanges } from './config-diff.js';

type S<K extends InitStep['kind']> = Extract<InitStep, { kind: K }>;
const of = <K extends InitStep['kind']>(plan: Plan, kind: K): S<K>[] => plan.steps.filter((s): s is S<K> => s.kind === kind);
const uniq = (xs: string[]) => [...new Set(xs)];

/** Who runs what: the profile, in words. */
export function describeProfile(c: Config): string {
  return c.profile === 'rootless'
    ? `profile rootless: ${c.crypt.user} runs snapshot, rollback and the rest without root`
    : 'profile system: the runtime commands need root';
}

/** How the tool reaches the database: as which OS user it runs, the socket or host, port, role and database. */
export function describeConnection(c: Config): string {
  const pg = c.postgres;
  if (!pg) return 'no database (snapshots use mode none)';
  const n = pg.connection;
  return `PostgreSQL runs as ${pg.osUser} (uid ${pg.uid}); connects to ${n.host}${n.host.startsWith('/') ? ` port ${n.port}` : `:${n.port}`} as role ${n.user}, database ${n.database}`;
}

/** The registry's side of a plan: its changes, "nothing to change" (an existing crypt), or nothing (a new one). */
export function registryLines(plan: Plan): string[] {
  if (!plan.registered) return [];
  const changes = describeChanges(configChanges(plan.registered, plan.config));
  // Released by deinit with its data: registered again from its last entry (and what changed since).
  if (plan.released) return ['registered again: deinit released this crypt with its data, which it takes back', ...changes];
  return changes.length ? changes : ['nothing to change'];
}

/**
 * The preview's lines: a head, then short sections; at most a few lines each. probes (what --dry-run
 * learns of each step on this host): the steps already satisfied are left out of the sections.
 */
export function summarizePlan(whole: Plan, probes?: readonly Probe[]): string[] {
  const c = whole.config;
  const pending = probes ? whole.steps.filter((_, i) => probes[i]?.status !== 'satisfied') : whole.steps;
  const plan = { ...whole, steps: pending };
  const done = whole.steps.length - pending.length;
  const lines = [
    `crypt ${c.crypt.path} for ${c.crypt.user}, method ${c.method}, ${whole.steps.length} steps${done ? ` (${done} already satisfied)` : ''}`,
    describeProfile(c),
    describeConnection(c),
  ];
  const section = (title: string, items: string[]) => {
    if (items.length) lines.push('', `${title}:`, ...items.map((i) => `  ${i}`));
  };
  section(`Registry (crypt "${c.crypt.name}" in ${c.registry.dir})`, registryLines(whole));

  section('Formats', [
    ...of(plan, 'create-image').map((s) => `new image ${s.path} (${formatSize(s.sizeBytes)}, ${s.preallocate ? 'preallocated' : 'sparse'})`),
    ...of(plan, 'grow-image').map((s) => `grows the image ${s.path} to ${formatSize(s.sizeBytes)}`),
    ...of(plan, 'mkfs-btrfs').map((s) => `${s.device} as Btrfs (label ${s.label})${s.wipe ? ': ERASES what it holds' : ''}`),
  ]);

  // The crypt's own mount (a migration's temporary mount is an inner detail).
  const where = c.crypt.path;
  const mounts = [...of(plan, 'mount').map((s) => s.spec), ...of(plan, 'enable-mount-unit').flatMap((s) => (s.start ? [s.start] : []))].filter((m) => m.where === where);
  const via = c.persist.via === 'fstab' ? `at boot via ${c.persist.fstab}` : c.persist.via === 'systemd' ? 'at boot via a systemd mount unit' : 'not at boot (persist.via: none)';
  section('Mounts', [
    ...uniq(mounts.map((m) => `${m.what} at ${m.where}`)),
    ...(c.method !== 'native' && (mounts.length || of(plan, 'write-fstab-line').length || of(plan, 'write-mount-unit').length) ? [via] : []),
  ]);

  const copies = of(plan, 'copy-data');
  const aside = of(plan, 'move-aside');
  section(
    'Moves data',
    copies.map((s) => `copies ${s.entries.length} existing ${s.entries.length === 1 ? 'entry' : 'entries'} into active/${aside[0] ? `; the original is kept as ${aside[0].to}` : ''}`),
  );

  section('Creates', [
    // Named as in the crypt, also when made on a migration's temporary mount.
    ...of(plan, 'create-subvolume').map((s) => `subvolume ${where}/${path.basename(s.path)}`),
    ...of(plan, 'create-pgdata').map((s) => `PGDATA ${where}/active/${c.postgres?.dir ?? path.basename(s.path)} (nodatacow, mode 0${s.mode.toString(8)}${s.taken ? '; the container takes it at its first start' : ''})`),
  ]);

  section(
    'Host files',
    uniq([
      ...of(plan, 'write-fstab-line').map((s) => `${s.file} (one line, tagged x-lychd-crypt; backup kept)`),
      ...of(plan, 'remove-fstab-line').map((s) => `${s.file} (our line removed)`),
      ...of(plan, 'write-mount-unit').map((s) => s.path),
      ...of(plan, 'remove-mount-unit').map((s) => `${s.path} (removed)`),
      ...of(plan, 'write-unit').map((s) => s.path),
      ...of(plan, 'remove-unit').map((s) => `${s.path} (removed)`),
      ...of(plan, 'register').map((s) => `${s.dir}/${s.name}.json (registry entry)`),
    ]),
  );

  section('Installs', [
    ...of(plan, 'install-runtime').map((s) => `${s.target}${s.link ? ' (link to the packaged runtime)' : ''}`),
    ...of(plan, 'enable-timer').map((s) => `timer ${s.unit}${s.user ? ` (user ${s.user.name})` : ''}`),
  ]);

  section('Notes', plan.notes);
  return lines;
}
