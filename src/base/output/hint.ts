// Follow-up commands the tool prints ("undo with: lychd-crypt rollback …", "run `lychd-crypt repair`") must
// work when pasted as they are: into a root shell whose PATH lacks the install directory, and for the crypt
// the user chose. Messages are written with the bare `lychd-crypt SUBCOMMAND`; pasteable() rewrites every
// such command in what reaches the user (text, error, hint, log line) with the one prefix built here.
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { shellWord } from './text.js';

export interface HintFacts {
  /** --crypt as the user gave it (or LYCHD_CRYPT); undefined: none given. */
  crypt?: string;
  /** --registry as given: a pasted command must look in the same registry. */
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

/** The global options a pasted command needs to act on the same crypt. */
export function globalArgs(f: HintFacts): string[] {
  const out: string[] = [];
  if (f.registry) out.push('--registry', shellWord(f.registry));
  if (f.user) out.push('--user', shellWord(f.user));
  const crypt = f.crypt ?? (f.several && f.cryptName ? f.cryptName : undefined);
  if (crypt) out.push('--crypt', shellWord(crypt));
  return out;
}

/** One pasteable command: `hint(facts, 'rollback', name)`. */
export function hint(f: HintFacts, ...args: string[]): string {
  return [commandWord(f), ...globalArgs(f), ...args.map(shellWord)].join(' ');
}

const SUBCOMMANDS =
  'init|crypts|snapshot|list|rollback|run|delete|prune|pin|unpin|label|verify|status|doctor|db|repair|completion';
/** Commands that do not act on one existing crypt: they get the full path, never --crypt. */
const NO_CRYPT = new Set(['init', 'crypts', 'completion']);
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
  const globals = globalArgs(f);
  return text.replace(COMMAND_RE, (_m, lead: string, rest: string, sub: string) => {
    const add: string[] = [];
    for (let i = 0; i < globals.length && !NO_CRYPT.has(sub); i += 2) {
      const opt = globals[i]!;
      if (!new RegExp(`(^|\\s)${opt}(\\s|=|$)`).test(rest)) add.push(opt, globals[i + 1]!);
    }
    return `${lead}${[word, ...add].join(' ')} ${rest}`;
  });
}

// What the running command has learnt about its crypt (set once it is opened), for pasteable().
let learnt: Pick<HintFacts, 'cryptName' | 'several' | 'installed'> = {};
export function learnCrypt(facts: Pick<HintFacts, 'cryptName' | 'several' | 'installed'>): void {
  learnt = { ...learnt, ...facts };
}
export function forgetCrypt(): void {
  learnt = {};
}
export function learntCrypt(): Pick<HintFacts, 'cryptName' | 'several' | 'installed'> {
  return learnt;
}
