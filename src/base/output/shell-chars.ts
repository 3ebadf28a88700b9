// pg_ctl starts the server through /bin/sh: its own path, -D and -l go inside double quotes, our -o values
// inside single quotes. Inside double quotes `$`, a backquote, a backslash and the quote itself still mean
// something to the shell (a crypt path with `$(…)` would run it), and a single quote ends ours. Values that
// reach that command line (the crypt path, PGDATA, the state directory, the PostgreSQL bin directory, the
// socket directory) must hold none of them: init refuses them, pg_ctl's argv asserts it again.

/** The characters, as a pattern (a newline too, which answers refuse as a control character anyway). */
export const SHELL_SENSITIVE = /['"$`\\\n]/;

const NAMES: Record<string, string> = { "'": "' (quote)", '"': '" (double quote)', $: '$', '`': '` (backquote)', '\\': '\\ (backslash)', '\n': 'a newline' };

/** The shell-sensitive characters in `s`, each named once, in order: `$, " (double quote)`; '' when none. */
export function shellSensitiveChars(s: string): string {
  return [...new Set([...s].filter((c) => SHELL_SENSITIVE.test(c)))].map((c) => NAMES[c]).join(', ');
}
