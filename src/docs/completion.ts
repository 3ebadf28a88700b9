// Bash and zsh completion scripts rendered from the command tree (describeProgram), so they offer
// exactly the commands and options --help lists. Deterministic: same tree, same bytes.
import type { CommandDoc, OptionDoc, ProgramDoc } from './describe.js';

/** What a value placeholder completes to: files for `<file>`, directories for `<path>`, users for `<name>`. */
type ValueKind = 'file' | 'dir' | 'user' | 'choices' | 'none';

function valueKind(o: OptionDoc): ValueKind {
  if (o.choices) return 'choices';
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
      none: 'COMPREPLY=()',
    }[valueKind(o)];
    return `    ${pattern}) ${action}; return ;;`;
  });
  const cmdCases = doc.commands.map((c) => {
    const words = [...c.options.flatMap(flags), ...doc.options.flatMap(flags)].join(' ');
    const args = c.name === 'completion' ? ' bash zsh' : '';
    return `    ${c.name}) COMPREPLY=($(compgen -W "${words}${args}" -- "$cur")) ;;`;
  });
  return [
    `# bash completion for ${doc.name}: generated from its command line definition, do not edit.`,
    `${fn}() {`,
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} cmd= i',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    case ${COMP_WORDS[i]} in',
    `      ${globalValues}) ((i++)) ;;`,
    '      -*) ;;',
    '      *) cmd=${COMP_WORDS[i]}; break ;;',
    '    esac',
    '  done',
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
    none: `:${o.value}: `,
  }[valueKind(o)];
  const desc = `[${zq(o.description)}]`;
  const exclusive = o.long === '--help' || o.long === '--version' ? "'(- *)'" : '';
  const spec = (f: string): string => `${exclusive}'${f}${o.value ? '=' : ''}${desc}${o.value ? action : ''}'`;
  return flags(o).map(spec).join(' ');
}

function zshArgs(c: CommandDoc): string[] {
  if (c.name === 'completion') return ["'1:shell:(bash zsh)'"];
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
    `${fn}() {`,
    '  local curcontext=$curcontext state line ret=1',
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
    `      curcontext=\${curcontext%:*:*}:${doc.name}-$words[1]:`,
    '      case $words[1] in',
    ...doc.commands.map((c) => `        ${c.name}) _arguments $globals ${[...c.options.map(zshOption), ...zshArgs(c)].join(' ')} && ret=0 ;;`),
    '      esac',
    '      ;;',
    '  esac',
    '  return ret',
    '}',
    `${fn} "$@"`,
    '',
  ].join('\n');
}
