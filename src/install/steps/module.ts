// What a step kind is: one module that says what the step does (describe: its title, the exact commands
// and the files it writes), checks it without acting (probe: for --dry-run) and does it (apply). The three
// sit side by side and build their commands with the same local functions, so the preview cannot drift
// from what apply runs. Init's kinds live in install/steps/, repair's own in care/steps/; both run through
// one engine (./engine.ts).
import type { Step } from '../../model/steps.js';
import type { StepContext } from './context.js';

export interface FileWrite {
  path: string;
  content: string;
  mode: number;
}

export type Action = { run: string[] } | { write: FileWrite } | { op: string };

export interface StepActions {
  title: string;
  commands: string[][];
  files: FileWrite[];
  /** Filesystem operations that are not commands (mkdir, rename, chown), in words. */
  ops: string[];
  /** Everything above in the order it happens. */
  sequence: Action[];
}

/** Builds StepActions from the ordered sequence. */
export function seq(title: string, ...sequence: (Action | false)[]): StepActions {
  const list = sequence.filter((a): a is Action => a !== false);
  return {
    title,
    sequence: list,
    commands: list.flatMap((a) => ('run' in a ? [a.run] : [])),
    files: list.flatMap((a) => ('write' in a ? [a.write] : [])),
    ops: list.flatMap((a) => ('op' in a ? [a.op] : [])),
  };
}

/** What apply found: it acted, or the step was already done (and why). */
export type Outcome = { changed: true; detail?: string } | { changed: false; detail: string };

export const changed = (detail?: string): Outcome => ({ changed: true, detail });
export const unchanged = (detail: string): Outcome => ({ changed: false, detail });

export type ProbeStatus = 'satisfied' | 'would-change';

/** What --dry-run learned of one step on this host, without acting. */
export interface Probe {
  status: ProbeStatus;
  /** Why it is satisfied, or what would change. */
  detail?: string;
  /** For a file: unified diff of its current content → what the step writes. */
  diff?: string;
}

export const satisfied = (detail: string): Probe => ({ status: 'satisfied', detail });
export const wouldChange = (detail?: string, diff?: string): Probe => ({ status: 'would-change', ...(detail ? { detail } : {}), ...(diff ? { diff } : {}) });

export interface StepModule<S extends Step> {
  describe(s: S): StepActions;
  /** Only reads (files, findmnt, blkid, wipefs --no-act, systemctl is-enabled/show): the same checks apply makes first. */
  probe(s: S, ctx: StepContext): Promise<Probe>;
  apply(s: S, ctx: StepContext): Promise<Outcome>;
}

/** One module per kind: a missing kind is a type error. */
export type StepTable<S extends Step> = { [K in S['kind']]: StepModule<Extract<S, { kind: K }>> };

/** The module of a step's kind. */
export function moduleOf<S extends Step>(table: StepTable<S>, step: S): StepModule<S> {
  const m = (table as Record<string, StepModule<S> | undefined>)[step.kind];
  if (!m) throw new Error(`no module for step kind ${step.kind}`);
  return m;
}

export const octal = (mode: number) => `0${mode.toString(8)}`;

/** The step of one kind. */
export type StepOf<K extends Step['kind']> = Extract<Step, { kind: K }>;

/** After a unit file or fstab changed: systemd reads them again (it generates mount units from fstab). */
export const DAEMON_RELOAD = ['systemctl', 'daemon-reload'];
