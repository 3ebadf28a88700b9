// The man page lychd-crypt(1) in roff, rendered from the command tree (describeProgram) plus the prose
// --help has no room for (exit status, environment, files, examples). It names only what the packages
// ship (the templates, the README in the Debian package), never a file of the source tree. Deterministic: the date comes from the
// caller (the changelog's newest entry), never from the clock.
import type { OptionDoc, ProgramDoc } from './describe.js';

export interface ManInput {
  doc: ProgramDoc;
  version: string;
  /** YYYY-MM-DD of this release. */
  date: string;
}

/** Escapes text for roff: backslashes, minus signs (so they stay ASCII hyphen-minus) and a leading control char. */
export function roff(text: string): string {
  const escaped = text.replace(/\\/g, '\\e').replace(/-/g, '\\-');
  return /^[.']/.test(escaped) ? `\\&${escaped}` : escaped;
}

const bold = (t: string): string => `\\fB${roff(t)}\\fR`;

/** `--answers <file>` → bold flags, italic placeholder. */
function term(o: OptionDoc): string {
  return o.term
    .split(' ')
    .map((part) => (/^[<[]/.test(part) ? `\\fI${roff(part.slice(1, -1))}\\fR` : `\\fB${roff(part)}\\fR`))
    .join(' ');
}

function options(list: OptionDoc[]): string[] {
  return list.flatMap((o) => ['.TP', term(o), roff(o.description + (o.choices ? `; one of: ${o.choices.join(', ')}` : '') + (o.env ? ` (environment: ${o.env})` : ''))]);
}

const EXIT_STATUS: [string, string][] = [
  ['0', 'success (doctor: the crypt is healthy)'],
  ['1', 'the operation failed; the message says what, and that nothing was lost or how to recover (doctor: problems found)'],
  ['2', 'bad input: usage or answers file; nothing was changed'],
  ['3', 'refused for safety (a device holds data, the database is still running, ...): rerun with explicit consent'],
  ['4', 'busy: another operation holds the crypt\'s lock (--wait SECONDS waits for it)'],
  ['5', 'run: COMMAND succeeded but a health check (--check, --check-sql, PostgreSQL up) still failed when --health-timeout ran out; the change was rolled back unless --on-failure keep (a failed COMMAND exits with its own status)'],
  ['124', 'run: COMMAND hit --timeout (it and everything it started got TERM, then KILL); rolled back as above'],
  ['130', 'an interactive prompt was cancelled (Ctrl-C or Escape); nothing was changed'],
];

const ENVIRONMENT: [string, string][] = [
  ['LYCHD_CRYPT', 'the crypt, as --crypt'],
  ['LYCHD_CRYPT_REGISTRY', 'the registry directory, as --registry (default /etc/lychd-crypt). sudo does not pass it on: the commands the tool prints for root carry --registry instead'],
  ['LYCHD_CRYPT_STATE', 'init: root\'s state directory for new crypts (default /var/lib/lychd-crypt); each crypt records its own'],
  ['LYCHD_DEBUG', 'set to 1, an unexpected error also prints its stack trace (for a bug report); no expected failure ever does'],
  ['NO_COLOR, FORCE_COLOR', 'colour off, or on where it would be off (colour is used only at a terminal otherwise)'],
  ['SUDO_USER', 'the target user when --user is not given'],
  ['XDG_DATA_HOME', 'of the target user: the default crypt is $XDG_DATA_HOME/lychd, else ~/.local/share/lychd'],
  ['PGPASSWORD', 'the PostgreSQL password, if one is needed (else ~/.pgpass); never written anywhere'],
  ['LYCHD_CRYPT_COMPILE_CACHE', 'where the code cache is kept (0: none); only a directory no other user can write is used'],
];

const FILES: [string, string][] = [
  ['/etc/lychd-crypt/', 'the root-owned registry of crypts'],
  ['/var/lib/lychd-crypt/', 'root\'s journal and state'],
  ['/var/cache/lychd-crypt/compile/', 'root\'s code cache (a user\'s: ~/.cache/lychd-crypt/compile/): compiled code that makes the next start faster; safe to delete'],
  ['$CRYPT/active/', 'the live data, a Btrfs subvolume'],
  ['$CRYPT/snapshots/', 'read-only snapshots and their metadata'],
  ['/usr/lib/lychd-crypt/', 'the runtime when installed from the Debian package: the single executable lychd-crypt (Node.js with lychd-crypt inside), koffi.node, manifest.json'],
  ['/usr/local/lib/lychd-crypt/', 'the runtime directories init installs beside install.binDir, one a build'],
  ['/usr/share/lychd-crypt/', 'templates: an annotated answers file (every key with its default) and a cloud-init user-data file'],
  ['/usr/share/doc/lychd-crypt/README.md', 'what the tool is, the answers file, the commands, the decisions (Debian package)'],
];

const EXAMPLES: [string, string][] = [
  ['sudo lychd-crypt init', 'the interactive installer: detects, proposes, previews the plan, asks; run again on a registered crypt, every question starts from its registered value'],
  ['sudo lychd-crypt init --answers /usr/share/lychd-crypt/answers.example.yaml --dry-run', 'every step of the plan with its commands and files, and whether it is already so; nothing changes'],
  ['sudo lychd-crypt init --answers crypt.yaml --yes', 'unattended; a second run prints "nothing to do"'],
  ['lychd-crypt snapshot --label before-upgrade', 'a consistent snapshot of the live data and its database'],
  ['lychd-crypt list | head -1', 'the newest snapshot (a reader that stops early is no error)'],
  ['lychd-crypt rollback before-upgrade', 'back to it, atomically; the state it replaces is kept as a snapshot, so the rollback can be undone'],
  ['lychd-crypt run --check-sql "select count(*) > 0 from users" -- ./migrate.sh', 'a guarded change: snapshot, run, check, roll back by itself on failure'],
  ['lychd-crypt status --check', 'one line for monitoring, with Nagios exit codes'],
  ['sudo lychd-crypt --registry /srv/registry --crypt lychd doctor', 'a crypt of another registry, by its name'],
  ['sudo lychd-crypt deinit --dry-run', 'what removing the crypt would do; the data stays unless --delete-data'],
];

const table = (rows: [string, string][]): string[] => rows.flatMap(([k, v]) => ['.TP', bold(k), roff(v)]);

export function renderMan({ doc, version, date }: ManInput): string {
  const name = doc.name;
  return [
    `.\\" ${name}(1): generated from the command line definition (src/cli/program.ts) by packaging/docs.ts; do not edit.`,
    `.TH ${name.toUpperCase()} 1 ${date} "${roff(name)} ${roff(version)}" "User Commands"`,
    '.SH NAME',
    `${roff(name)} \\- ${roff(doc.description.replace(/^./, (c) => c.toLowerCase()))}`,
    '.SH SYNOPSIS',
    `${bold(name)} [\\fIoptions\\fR] \\fIcommand\\fR [\\fIarguments\\fR]`,
    '.SH DESCRIPTION',
    `${bold(name)} puts the LychD data directory (the crypt) on Btrfs: it provisions the filesystem (in place on a`,
    'Btrfs host, on a partition, or on a loopback image), takes application-consistent snapshots of the live data',
    'and its PostgreSQL cluster, and rolls back to them atomically and reversibly.',
    'Every command has \\fB\\-\\-help\\fR; \\fB\\-\\-json\\fR prints one JSON envelope on standard output for every outcome,',
    'usage errors included: {"version": 1, "command", "ok", "exit", "data", "error"}; error is null or',
    '{"code", "class", "exit", "message", "hint"}.',
    '.SH OPTIONS',
    'These options are accepted before or after the command.',
    ...options(doc.options),
    '.SH COMMANDS',
    ...doc.commands.flatMap((c) => [
      `.SS ${[bold(c.name), ...c.args.map((a) => `\\fI${roff(a.choices ? a.choices.join('|') : a.name)}${a.variadic ? '\\fR...' : '\\fR'}`)].join(' ')}`,
      `${roff(c.summary.replace(/^./, (ch) => ch.toUpperCase()))}.`,
      ...(c.options.length ? ['.RS', ...options(c.options), '.RE'] : []),
    ]),
    '.SH EXIT STATUS',
    ...table(EXIT_STATUS),
    '.SH ENVIRONMENT',
    ...table(ENVIRONMENT),
    '.SH FILES',
    ...table(FILES),
    '.SH EXAMPLES',
    ...EXAMPLES.flatMap(([cmd, what]) => ['.TP', bold(cmd), roff(what)]),
    '.SH SEE ALSO',
    '.BR btrfs (8),',
    '.BR btrfs\\-subvolume (8),',
    '.BR pg_ctl (1),',
    '.BR systemd.mount (5),',
    '.BR fstab (5)',
    '',
  ].join('\n');
}
