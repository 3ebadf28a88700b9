// Bash, zsh and fish completion scripts rendered from the command tree (describeProgram), so they offer
// exactly the commands and options --help lists (and an argument's choices: `db start|stop|restart|status`).
// Deterministic: same tree, same bytes. Snapshot names come from `lychd-crypt list --names` and crypt names
// (for --crypt) from `lychd-crypt crypts --names` at completion time (quiet on error: nothing is offered then).
// Names are data: a script never evaluates a candidate. Only lines of the name grammar are kept (the program
// prints no others, and the script checks again in case something else answers), and bash matches them
// with plain string comparison: `compgen -W` expands its word list, so it only ever sees our fixed words.
import { NAME_PATTERN } from '../../runtime/snapshots/names.js';
import type { CommandDoc, OptionDoc, ProgramDoc } from './describe.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** A command whose first argument is a snapshot (`<name>`); `all`: every argument is one (delete NAME...). */
function snapshotArgs(c: CommandDoc): 'first' | 'all' | undefined {
  const first = c.args[0];
  if (first?.name !== 'name') return undefined;
  return first.variadic ? 'all' : 'first';
}

/** What completion runs for the names: the crypt the command line names, else the default one. */
const NAMES_WORDS = 'list --names';
/** What completion runs for --crypt: the registered names (of the registry on the line). */
const CRYPTS_WORDS = 'crypts --names';
/** Crypt names are plain (base/registry/store.ts NAME_PATTERN); a line of anything else is not offered. */
const CRYPT_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';

/** The values a command's first argument takes (`db start|stop|…`), or undefined. */
const argChoices = (c: CommandDoc): string[] | undefined => c.args[0]?.choices;
const KEYWORD_NAMES = 'latest previous';

/** What a value placeholder completes to: files for `<file>`, directories for `<path>`, users for `<name>`, crypts for --crypt. */
type ValueKind = 'file' | 'dir' | 'user' | 'choices' | 'crypt' | 'none';

function valueKind(o: OptionDoc): ValueKind {
  if (o.choices) return 'choices';
  if (o.long === '--crypt') return 'crypt';
  switch (o.value) {
    case 'file':
      return 'file';
    case 'path':
      return 'dir';
    case 'name':
      return 'user';
    default:
      return 'none';
  }
}

const flags = (o: OptionDoc): string[] => [o.short, o.long].filter((f): f is string => Boolean(f));

/** Every option that takes a value, once (first definition wins), in tree order. */
function valueOptions(doc: ProgramDoc): OptionDoc[] {
  const seen = new Map<string, OptionDoc>();
  for (const o of [...doc.options, ...doc.commands.flatMap((c) => c.options)]) if (o.value && !seen.has(o.long)) seen.set(o.long, o);
  return [...seen.values()];
}

const fnName = (doc: ProgramDoc): string => `_${doc.name.replace(/[^A-Za-z0-9]/g, '_')}`;

export function renderBash(doc: ProgramDoc): string {
  const fn = fnName(doc);
  const globalWords = doc.options.flatMap(flags).join(' ');
  const globalValues = doc.options.filter((o) => o.value).flatMap(flags).join('|');
  const prevCases = valueOptions(doc).map((o) => {
    const pattern = flags(o).join('|');
    const action = {
      file: 'COMPREPLY=($(compgen -f -- "$cur"))',
      dir: 'COMPREPLY=($(compgen -d -- "$cur"))',
      user: 'COMPREPLY=($(compgen -u -- "$cur"))',
      choices: `COMPREPLY=($(compgen -W "${(o.choices ?? []).join(' ')}" -- "$cur"))`,
      crypt: `COMPREPLY=(); ${fn}_crypts`,
      none: 'COMPREPLY=()',
    }[valueKind(o)];
    return `    ${pattern}) ${action}; return ;;`;
  });
  const cmdCases = doc.commands.map((c) => {
    const words = [...c.options.flatMap(flags), ...doc.options.flatMap(flags)].join(' ');
    const args = c.name === 'completion' ? ` ${SHELLS.join(' ')}` : '';
    const choices = argChoices(c);
    if (choices) return `    ${c.name}) if [[ $cur != -* && n -eq 0 ]]; then COMPREPLY=($(compgen -W "${choices.join(' ')}" -- "$cur")); else COMPREPLY=($(compgen -W "${words}" -- "$cur")); fi ;;`;
    const snap = snapshotArgs(c);
    if (snap) {
      const when = snap === 'first' ? '$cur != -* && n -eq 0' : '$cur != -*';
      return `    ${c.name}) if [[ ${when} ]]; then COMPREPLY=(); ${fn}_snapshots; else COMPREPLY=($(compgen -W "${words}" -- "$cur")); fi ;;`;
    }
    return `    ${c.name}) COMPREPLY=($(compgen -W "${words}${args}" -- "$cur")) ;;`;
  });
  return [
    `# bash completion for ${doc.name}: generated from its command line definition, do not edit.`,
    `# Snapshot names: the program's own \`${NAMES_WORDS}\` for the crypt named on the line (errors: nothing offered).`,
    '# Adds the names that start with $cur to COMPREPLY: only lines of the name grammar, compared as strings.',
    `${fn}_snapshots() {`,
    `  local name re='${NAME_PATTERN}'`,
    '  while IFS= read -r name; do',
    '    [[ $name =~ $re && $name == "$cur"* ]] && COMPREPLY+=("$name")',
    `  done < <("\${COMP_WORDS[0]}" "\${crypt[@]}" ${NAMES_WORDS} 2>/dev/null)`,
    `  for name in ${KEYWORD_NAMES}; do [[ $name == "$cur"* ]] && COMPREPLY+=("$name"); done`,
    '}',
    `# --crypt: the registered names (\`${CRYPTS_WORDS}\` of the registry on the line), and directories once a / is typed.`,
    `${fn}_crypts() {`,
    `  local name re='${CRYPT_NAME_PATTERN}' i`,
    '  local -a registry=()',
    '  for ((i = 1; i < COMP_CWORD; i++)); do [[ ${COMP_WORDS[i]} == --registry ]] && registry=(--registry "${COMP_WORDS[i+1]}"); done',
    '  if [[ $cur == */* ]]; then COMPREPLY=($(compgen -d -- "$cur")); return; fi',
    '  while IFS= read -r name; do',
    '    [[ $name =~ $re && $name == "$cur"* ]] && COMPREPLY+=("$name")',
    `  done < <("\${COMP_WORDS[0]}" "\${registry[@]}" ${CRYPTS_WORDS} 2>/dev/null)`,
    '}',
    `${fn}() {`,
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= i j n=0',
    '  local -a crypt=()',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    case ${COMP_WORDS[i]} in',
    '      --crypt|--registry) crypt+=("${COMP_WORDS[i]}" "${COMP_WORDS[i+1]}"); ((i++)) ;;',
    `      ${globalValues}) ((i++)) ;;`,
    '      -*) ;;',
    '      *) cmd=${COMP_WORDS[i]}; break ;;',
    '    esac',
    '  done',
    '  for ((j = i + 1; j < COMP_CWORD; j++)); do [[ ${COMP_WORDS[j]} == -* ]] || ((n++)); done',
    '  case $prev in',
    ...prevCases,
    '  esac',
    '  case $cmd in',
    `    '') COMPREPLY=($(compgen -W "${doc.commands.map((c) => c.name).join(' ')} ${globalWords}" -- "$cur")) ;;`,
    ...cmdCases,
    '  esac',
    '}',
    `complete -o default -F ${fn} ${doc.name}`,
    '',
  ].join('\n');
}

/** Quotes text for a zsh _arguments spec inside single quotes: brackets and colons are special there. */
function zq(text: string): string {
  // Specials first, then close-quote/escaped-quote/reopen for apostrophes (whose backslash must stay single).
  return text.replace(/([[\]:\\])/g, '\\$1').replace(/'/g, "'\\''");
}

function zshOption(o: OptionDoc): string {
  const action = {
    file: ':file:_files',
    dir: ':directory:_files -/',
    user: ':user:_users',
    choices: `:${o.value}:(${(o.choices ?? []).join(' ')})`,
    crypt: ':crypt:_lychd_crypt_crypts',
    none: `:${o.value}: `,
  }[valueKind(o)];
  const desc = `[${zq(o.description)}]`;
  const exclusive = o.long === '--help' || o.long === '--version' ? "'(- *)'" : '';
  const spec = (f: string): string => `${exclusive}'${f}${o.value ? '=' : ''}${desc}${o.value ? action : ''}'`;
  return flags(o).map(spec).join(' ');
}

function zshArgs(c: CommandDoc, fn: string): string[] {
  if (c.name === 'completion') return [`'1:shell:(${SHELLS.join(' ')})'`];
  const choices = argChoices(c);
  if (choices) return [`'1:${c.args[0]!.name}:(${choices.join(' ')})'`];
  const snap = snapshotArgs(c);
  if (snap) return [`'${snap === 'all' ? '*' : '1'}:snapshot:${fn}_snapshots'`, ...c.args.slice(1).map((a, i) => `'${a.variadic ? '*' : String(i + 2)}:${a.name}: '`)];
  // A placeholder such as start|stop|status is a message in zsh's spec: keep it to plain characters.
  return c.args.map((a, i) => `'${a.variadic ? '*' : String(i + 1)}:${a.name.replace(/[^A-Za-z0-9_-]+/g, '-')}: '`);
}

export function renderZsh(doc: ProgramDoc): string {
  const fn = fnName(doc);
  const globals = doc.options.filter((o) => o.long !== '--help' && o.long !== '--version').map(zshOption);
  const top = doc.options.filter((o) => o.long === '--help' || o.long === '--version').map(zshOption);
  return [
    `#compdef ${doc.name}`,
    `# zsh completion for ${doc.name}: generated from its command line definition, do not edit.`,
    `# Snapshot names: the program's own \`${NAMES_WORDS}\` for the crypt named on the line (errors: nothing offered).`,
    `${fn}_snapshots() {`,
    `  local -a names lines; local name re='${NAME_PATTERN}'`,
    // _call_program evaluates its words: the crypt as typed goes in quoted.
    `  lines=(\${(f)"$(_call_program snapshots ${doc.name} \${crypt:+--crypt} \${crypt:+\${(q)crypt}} ${NAMES_WORDS} 2>/dev/null)"})`,
    '  for name in $lines; do [[ $name =~ $re ]] && names+=($name); done',
    `  names+=(${KEYWORD_NAMES})`,
    '  compadd -a names',
    '}',
    `${fn}_crypts() {`,
    `  local -a names lines; local name re='${CRYPT_NAME_PATTERN}' registry=\${opt_args[--registry]}`,
    "  if [[ $PREFIX == */* ]]; then _files -/; return; fi",
    `  lines=(\${(f)"$(_call_program crypts ${doc.name} \${registry:+--registry} \${registry:+\${(q)registry}} ${CRYPTS_WORDS} 2>/dev/null)"})`,
    '  for name in $lines; do [[ $name =~ $re ]] && names+=($name); done',
    '  compadd -a names',
    '}',
    `${fn}() {`,
    '  local curcontext=$curcontext state line ret=1 crypt',
    '  typeset -A opt_args',
    '  local -a globals',
    `  globals=(${globals.join(' ')})`,
    `  _arguments -C $globals ${top.join(' ')} '1:command:->command' '*:: :->args' && ret=0`,
    '  case $state in',
    '    command)',
    '      local -a commands',
    `      commands=(${doc.commands.map((c) => `'${c.name}:${zq(c.summary)}'`).join(' ')})`,
    "      _describe -t commands 'command' commands && ret=0",
    '      ;;',
    '    args)',
    '      crypt=${opt_args[--crypt]}',
    `      curcontext=\${curcontext%:*:*}:${doc.name}-$words[1]:`,
    '      case $words[1] in',
    ...doc.commands.map((c) => `        ${c.name}) _arguments $globals ${[...c.options.map(zshOption), ...zshArgs(c, fn)].join(' ')} && ret=0 ;;`),
    '      esac',
    '      ;;',
    '  esac',
    '  return ret',
    '}',
    `${fn} "$@"`,
    '',
  ].join('\n');
}

/** Quotes text for fish inside single quotes. */
const fq = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fishOption(doc: ProgramDoc, o: OptionDoc, condition?: string): string {
  const parts = [`complete -c ${doc.name}`];
  if (condition) parts.push(`-n ${fq(condition)}`);
  if (o.short) parts.push(`-s ${o.short.replace(/^-/, '')}`);
  parts.push(`-l ${o.long.replace(/^--/, '')}`);
  if (o.value) {
    parts.push(
      {
        file: '-r -F',
        dir: "-x -a '(__fish_complete_directories)'",
        user: "-x -a '(__fish_complete_users)'",
        choices: `-x -a ${fq((o.choices ?? []).join(' '))}`,
        crypt: `-x -a '(__${doc.name.replace(/[^A-Za-z0-9]/g, '_')}_crypts)'`,
        none: '-x',
      }[valueKind(o)],
    );
  }
  parts.push(`-d ${fq(o.description)}`);
  return parts.join(' ');
}

export function renderFish(doc: ProgramDoc): string {
  const fn = `__${doc.name.replace(/[^A-Za-z0-9]/g, '_')}`;
  const seen = (names: string[]): string => `__fish_seen_subcommand_from ${names.join(' ')}`;
  const snap = doc.commands.filter((c) => snapshotArgs(c));
  return [
    `# fish completion for ${doc.name}: generated from its command line definition, do not edit.`,
    `# Snapshot names: the program's own \`${NAMES_WORDS}\` for the crypt named on the line (errors: nothing offered).`,
    `function ${fn}_snapshots`,
    '    set -l words (commandline -opc)',
    '    set -l crypt',
    '    for i in (seq (count $words))',
    '        switch $words[$i]',
    '            case --crypt --registry',
    '                set -l next (math $i + 1)',
    '                set -q words[$next]; and set -a crypt $words[$i] $words[$next]',
    "            case '--crypt=*' '--registry=*'",
    '                set -a crypt $words[$i]',
    '        end',
    '    end',
    `    for name in (command $words[1] $crypt ${NAMES_WORDS} 2>/dev/null)`,
    `        string match -qr -- '${NAME_PATTERN}' $name; and printf '%s\\n' $name`,
    '    end',
    `    printf '%s\\n' ${KEYWORD_NAMES}`,
    'end',
    `function ${fn}_crypts`,
    '    set -l words (commandline -opc)',
    '    set -l registry',
    '    for i in (seq (count $words))',
    '        switch $words[$i]',
    '            case --registry',
    '                set -l next (math $i + 1)',
    '                set -q words[$next]; and set registry --registry $words[$next]',
    "            case '--registry=*'",
    '                set registry $words[$i]',
    '        end',
    '    end',
    `    for name in (command $words[1] $registry ${CRYPTS_WORDS} 2>/dev/null)`,
    `        string match -qr -- '${CRYPT_NAME_PATTERN}' $name; and printf '%s\\n' $name`,
    '    end',
    '    set -l tok (commandline -ct)',
    "    string match -q -- '*/*' $tok; and __fish_complete_directories $tok",
    'end',
    `complete -c ${doc.name} -f`,
    ...doc.commands.map((c) => `complete -c ${doc.name} -n __fish_use_subcommand -a ${c.name} -d ${fq(c.summary)}`),
    ...doc.options.map((o) => fishOption(doc, o)),
    ...doc.commands.flatMap((c) => c.options.filter((o) => o.long !== '--help').map((o) => fishOption(doc, o, seen([c.name])))),
    `complete -c ${doc.name} -n ${fq(seen(snap.map((c) => c.name)))} -a '(${fn}_snapshots)'`,
    `complete -c ${doc.name} -n ${fq(seen(['completion']))} -a ${fq(SHELLS.join(' '))}`,
    ...doc.commands.filter((c) => argChoices(c)).map((c) => `complete -c ${doc.name} -n ${fq(seen([c.name]))} -a ${fq(argChoices(c)!.join(' '))}`),
    '',
  ].join('\n');
}
