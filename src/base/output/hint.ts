// Follow-up commands the tool prints ("undo with: lychd-crypt rollback …", "run `lychd-crypt repair`", the
// `sudo` line a refusal names, init's next steps, cron lines) must work when pasted as they are: into a root
// shell whose PATH lacks the install directory, by sudo (which drops LYCHD_CRYPT_REGISTRY from the
// environment), and for the crypt the user chose. Messages are written with the bare `lychd-crypt
// SUBCOMMAND`; pasteable() rewrites every such command in what reaches the user (text, error, hint, log
// line) with the one prefix built here, and what is printed past the output sink (the wizard's summary,
// cron lines) is built with hint()/commandArgv(): the one builder of commands, nothing else makes them.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { shellWord } from './text.js';

export interface HintFacts {
  /** --crypt as the user gave it (or LYCHD_CRYPT); undefined: none given. */
  crypt?: string;
  /**
   * The registry in effect when it is not the default (--registry, LYCHD_CRYPT_REGISTRY, the answers'
   * registry.dir): always written as an option, since sudo, cron and a unit drop the environment.
   */
  registry?: string;
  /** --user as given. */
  user?: string;
  /** The opened crypt's registered name, and whether the registry holds more than one crypt. */
  cryptName?: string;
  several?: boolean;
  /** The installed runtime command (<install.binDir>/lychd-crypt) of the opened crypt. */
  installed?: string;
  /** PATH of the caller. */
  pathEnv?: string;
}

const isExecutable = (file: string): boolean => {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/** `lychd-crypt` when the caller's PATH finds it, else the installed command's full path when it exists. */
export function commandWord(f: HintFacts, executable: (file: string) => boolean = isExecutable): string {
  const onPath = (f.pathEnv ?? '').split(':').filter(Boolean).some((d) => executable(path.join(d, 'lychd-crypt')));
  if (!onPath && f.installed && executable(f.installed)) return f.installed;
  return 'lychd-crypt';
}

/** One pasteable command: `hint(facts, 'rollback', name)`. */
export function hint(f: HintFacts, ...args: string[]): string {
  return [commandWord(f), ...globalsFor(args[0], f).map((w, i) => (i % 2 ? shellWord(w) : w)), ...args.map(shellWord)].join(' ');
}

/** The root command for a non-root reader: `sudo` and the same command (sudo keeps no LYCHD_* variable: the options carry them). */
export function rootHint(f: HintFacts, ...args: string[]): string {
  return `sudo ${[commandWord(f), ...globalsFor(args[0], f, true).map((w, i) => (i % 2 ? shellWord(w) : w)), ...args.map(shellWord)].join(' ')}`;
}

/**
 * The argv of a command for a place with no PATH or environment of ours (cron, a unit): the installed
 * command's full path and every global option it needs, unquoted (the caller quotes for its own syntax).
 */
export function commandArgv(f: HintFacts & { installed: string }, ...args: string[]): string[] {
  return [f.installed, ...globalsFor(args[0], f), ...args];
}

export const SUBCOMMAND_NAMES = [
  'init', 'deinit', 'crypts', 'snapshot', 'list', 'rollback', 'run', 'delete', 'prune', 'pin', 'unpin', 'label',
  'verify', 'status', 'doctor', 'db', 'repair', 'replicate', 'restore', 'receive', 'resize', 'migrate', 'completion',
] as const;
const SUBCOMMANDS = SUBCOMMAND_NAMES.join('|');
/** Commands that do not act on one existing crypt: they get the full path and the registry, never --crypt or --user. */
const NO_CRYPT = new Set(['init', 'crypts', 'receive', 'completion']);

/** The global options (name, value pairs, unquoted) a command `sub` needs; `root`: for sudo, which keeps no LYCHD_CRYPT. */
function globalsFor(sub: string | undefined, f: HintFacts, root = false): string[] {
  const out: string[] = [];
  if (f.registry) out.push('--registry', f.registry);
  if (sub && NO_CRYPT.has(sub)) return out;
  if (f.user) out.push('--user', f.user);
  const crypt = f.crypt ?? ((f.several || root) && f.cryptName ? f.cryptName : undefined);
  if (crypt) out.push('--crypt', crypt);
  return out;
}

/** The global options that name the crypt: the builder adds them from what it knows, so a command line drops them. */
const SELECTING = new Set(['--crypt', '--registry', '--user']);
const WITH_VALUE = new Set([...SELECTING, '--wait']);

/**
 * A command line as typed (argv without the program), for printing again: the subcommand first, then the
 * other global options (--json, --wait), then the rest; --crypt, --registry and --user are left out, as
 * pasteable() adds them from what it knows (sudo drops the environment they may have come from).
 */
export function retyped(argv: readonly string[]): string[] {
  const globals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--' || !a.startsWith('-')) return [a, ...globals, ...argv.slice(i + 1)];
    const name = a.split('=')[0]!;
    const value = WITH_VALUE.has(name) && !a.includes('=') ? argv[++i] : undefined;
    if (SELECTING.has(name)) continue;
    globals.push(a, ...(value === undefined ? [] : [value]));
  }
  return globals;
}
// A command is one in backticks, or one that follows words that introduce a command ("undo with: …",
// "e.g. …", "next: …", "see …", "sudo …") and runs to the end of the line or a closing parenthesis.
// Prose such as doctor's "fix: lychd-crypt repair will …" or a heading "lychd-crypt doctor: /srv" is left alone.
const COMMAND_RE = new RegExp(
  `(\`|(?:with: |e\\.g\\. |next: |see |sudo ))lychd-crypt (?=(?:${SUBCOMMANDS})\\b)((${SUBCOMMANDS})(?:(?!\\n|\`|\\)).)*)`,
  'g',
);

/** Every follow-up `lychd-crypt SUBCOMMAND …` in text, made pasteable (given global options are kept, not doubled). */
export function pasteable(text: string, f: HintFacts): string {
  const word = commandWord(f);
  return text.replace(COMMAND_RE, (_m, lead: string, rest: string, sub: string) => {
    const globals = globalsFor(sub, f, lead === 'sudo ');
    const add: string[] = [];
    for (let i = 0; i < globals.length; i += 2) {
      const opt = globals[i]!;
      if (!new RegExp(`(^|\\s)${opt}(\\s|=|$)`).test(rest)) add.push(opt, shellWord(globals[i + 1]!));
    }
    return `${lead}${[word, ...add].join(' ')} ${rest}`;
  });
}

// What the running command has learnt about its crypt (set once it is opened), for pasteable().
/** What the running command learnt: the crypt's name, whether there are several, its installed command, its registry. */
export type Learnt = Pick<HintFacts, 'cryptName' | 'several' | 'installed' | 'registry'>;
let learnt: Learnt = {};
export function learnCrypt(facts: Learnt): void {
  learnt = { ...learnt, ...facts };
}
export function forgetCrypt(): void {
  learnt = {};
}
export function learntCrypt(): Learnt {
  return learnt;
}
