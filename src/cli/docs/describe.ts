// describeProgram: the commander tree → plain data, the one source of --help, the man page and the
// shell completions. Uses commander's own Help, so every artefact shows what `--help` shows.
import { Help, type Command, type Option } from 'commander';

export interface OptionDoc {
  /** As --help prints it: `--answers <file>`. */
  term: string;
  long: string;
  short?: string;
  description: string;
  /** The placeholder of a value (`file`, `path`, `seconds`); undefined for a switch. */
  value?: string;
  choices?: string[];
  env?: string;
}

export interface CommandDoc {
  name: string;
  summary: string;
  usage: string;
  args: { name: string; required: boolean; variadic: boolean; choices?: string[] }[];
  options: OptionDoc[];
}

export interface ProgramDoc {
  name: string;
  description: string;
  usage: string;
  /** Options of the program itself, accepted before or after the command. */
  options: OptionDoc[];
  commands: CommandDoc[];
}

function describeOption(help: Help, o: Option): OptionDoc {
  const value = /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1];
  return {
    term: help.optionTerm(o),
    long: o.long ?? o.short!,
    ...(o.short ? { short: o.short } : {}),
    description: o.description,
    ...(value ? { value } : {}),
    ...(o.argChoices ? { choices: [...o.argChoices] } : {}),
    ...(o.envVar ? { env: o.envVar } : {}),
  };
}

const isHelp = (o: OptionDoc): boolean => o.long === '--help';

export function describeProgram(program: Command): ProgramDoc {
  const help = new Help();
  return {
    name: program.name(),
    description: program.description(),
    usage: help.commandUsage(program),
    options: help.visibleOptions(program).map((o) => describeOption(help, o)),
    commands: help.visibleCommands(program)
      .filter((c) => c.name() !== 'help')
      .map((c) => ({
        name: c.name(),
        summary: c.description(),
        usage: help.commandUsage(c),
        args: c.registeredArguments.map((a) => ({ name: a.name(), required: a.required, variadic: a.variadic, ...(a.argChoices ? { choices: [...a.argChoices] } : {}) })),
        options: help.visibleOptions(c).map((o) => describeOption(help, o)).filter((o) => !isHelp(o)),
      })),
  };
}
