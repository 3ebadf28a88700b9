// The CLI's command names and the global options that take a value, for what must know the command before
// the parser loads (the entry picks the code cache by it). test/unit/code-cache.test.ts holds them to the CLI.
export const COMMAND_NAMES = ['init', 'deinit', 'crypts', 'snapshot', 'list', 'rollback', 'run', 'delete', 'prune', 'pin', 'unpin', 'label', 'verify', 'status', 'doctor', 'db', 'repair', 'replicate', 'restore', 'receive', 'resize', 'migrate', 'completion'] as const;
export const GLOBAL_OPTIONS_WITH_VALUE = ['--crypt', '--registry', '--user', '--wait'] as const;

/** The command `argv` runs (commander's reading: global options first, then the command), or 'other'. */
export function commandWord(argv: readonly string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') break;
    if ((GLOBAL_OPTIONS_WITH_VALUE as readonly string[]).includes(a)) i++;
    else if (!a.startsWith('-')) return (COMMAND_NAMES as readonly string[]).includes(a) ? a : 'other';
  }
  return 'other';
}
