// Drives the completion scripts in real bash, zsh and fish as the shell does at <TAB>: the candidates a
// shell offers for a command line. bash calls the function with COMP_WORDS set, fish answers `complete -C`,
// and zsh runs its real completion system in a pseudo-terminal (zpty) with compadd wrapped to record what
// is offered. `dir` is the working directory, so a candidate that ran `touch pwned` would leave pwned there.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export type Shell = 'bash' | 'zsh' | 'fish';

export interface CompleteOptions {
  /** Where the scripts go and the shell runs (its working directory). */
  dir: string;
  env: NodeJS.ProcessEnv;
  /** The completion script for that shell. */
  script: string;
}

const TIMEOUT_MS = 60_000;

// zsh: an interactive zsh in a zpty, compinit with the script on fpath; every compadd also appends its
// matches (NUL-separated) to a file. Keys typed before zle is reading may be lost, so the driver waits for
// the prompt (READY>, written so that the echo of the line setting it does not match) before typing; after
// <TAB> the line is killed (^U) and a marker printed, which zle only reads once the completion has finished.
const ZSH_DRIVER = `
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT='RE%{%}ADY>' RPROMPT=''; fpath=(\${(q)1} \\$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z 'compadd() { local -a h; builtin compadd -A h "$@"; print -rnN -- $h >> $__out; builtin compadd "$@" }'
zpty -w z "__out=\${(q)3}; print SET''UP"
zpty -r z line '*SETUP*'
zpty -r z line '*READY>*'
zpty -w -n z "$2"$'\\t'
zpty -w -n z $'\\x15'
zpty -w z 'print DO""NE'
zpty -r z line '*DONE*'
zpty -d z
`;

/** The candidates offered for `line` (words split at spaces; a trailing space completes a new word), sorted. */
export function complete(shell: Shell, line: string, o: CompleteOptions): string[] {
  const run = (file: string, args: string[]) => execFileSync(file, args, { encoding: 'utf8', cwd: o.dir, env: o.env, timeout: TIMEOUT_MS });
  if (shell === 'bash') {
    const file = path.join(o.dir, 'lychd-crypt.bash');
    writeFileSync(file, o.script);
    const script = `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _lychd_crypt; printf '%s\\0' "\${COMPREPLY[@]}"`;
    return split(run('bash', ['--norc', '-c', script, 'bash', file, ...line.split(' ')]));
  }
  if (shell === 'fish') {
    const file = path.join(o.dir, 'lychd-crypt.fish');
    writeFileSync(file, o.script);
    const env = { HOME: o.dir, XDG_CONFIG_HOME: o.dir, XDG_DATA_HOME: o.dir };
    const out = execFileSync('fish', ['--no-config', '-c', 'source $argv[1]; complete -C $argv[2]', file, line], { encoding: 'utf8', cwd: o.dir, env: { ...o.env, ...env }, timeout: TIMEOUT_MS });
    return out.split('\n').filter(Boolean).map((l) => l.split('\t')[0]!).sort();
  }
  writeFileSync(path.join(o.dir, '_lychd-crypt'), o.script);
  const driver = path.join(o.dir, 'drive.zsh');
  const out = path.join(o.dir, 'zsh-offered');
  writeFileSync(driver, ZSH_DRIVER);
  writeFileSync(out, '');
  run('zsh', ['-f', driver, o.dir, line, out]);
  return [...new Set(split(readFileSync(out, 'utf8')))].sort();
}

const split = (s: string): string[] => s.split('\0').filter(Boolean).sort();
