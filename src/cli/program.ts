// Command-line parsing (commander) and the one place that maps errors to exit codes.
import { Command, CommanderError, Option } from 'commander';
import { CryptError, ExitCode, exitCodeFor, UsageError } from '../base/errors.js';
import { unanchor } from '../base/anchors.js';
import { escapeValue } from '../base/output/text.js';
import { RunAsOwner } from '../base/crypt/access.js';
import { classifyError } from '../base/expected-errors.js';
import { VERSION } from '../base/version.js';
import { envelopeText, failureEnvelope, successEnvelope, usageFailure } from './envelope.js';
import { forgetCrypt, learntCrypt, pasteable, type HintFacts } from '../base/output/hint.js';
import { HELPER_WORD, serveNsOps } from '../base/userns/helper.js';
import { forgetUserns } from '../base/userns/tree.js';
import { activityReporter } from './ui/activity.js';
import { colourOn } from '../base/output/style.js';
import { output, stdinIsTTY, throughSink } from '../base/output/stdio.js';
import { createRunner } from '../base/runner.js';
import { DEFAULT_REGISTRY_DIR } from '../base/registry/store.js';
import path from 'node:path';
// The everyday commands are part of the CLI (one module graph with the parser: measured ~7 % faster for
// them than one more dynamic import; `--help` parses them too). init, doctor, repair, verify load lazily.
import * as runtime from './commands/runtime.js';
import { DB_VERBS } from '../runtime/service/db-verbs.js';
import type { CommandContext, CommandOutput, Globals } from './frame/context.js';

type Handler = (args: string[], opts: Record<string, unknown>, ctx: CommandContext) => Promise<CommandOutput>;
type Lazy = () => Promise<Handler>;

interface CommandDef {
  name: string;
  summary: string;
  args?: string;
  /** The values the first argument takes (checked by the parser, offered by completion). */
  argChoices?: readonly string[];
  options: (cmd: Command) => Command;
  handler: Lazy;
}

const intArg = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`expected a whole number of seconds, got "${v}"`);
  return n;
};

// init, deinit, doctor, repair and verify load lazily; the everyday commands are part of the CLI (see the import above).
const commands: CommandDef[] = [
  {
    name: 'init',
    summary: 'provision the Btrfs crypt (interactive, or from an answers file)',
    options: (c) =>
      c
        .option('--answers <file>', 'unattended: read the answers from this YAML file')
        .option('--yes', 'consent to the plan without asking (destructive steps still need wipe: true)')
        .option('--dry-run', 'print the exact plan (every command and file) and change nothing')
        .option('--write-answers <file>', 'save the equivalent answers file (mode 0600) for an unattended replay')
        .option('--defaults <file>', 'interactive: pre-fill the questions from this (partial) answers file')
        .option('--receiver <dir>', 'make this host a replication target: DIR receives one crypt\'s copies')
        .option('--authorize <key>', 'with --receiver: the sending host\'s public key line, installed in root\'s authorized_keys')
        .option('--pull', 'with --receiver: the key may also read copies back (restores)')
        .option('--pull-only', 'with --receiver: the key may only list and read copies (a restore host\'s)')
        .option('--bin <path>', 'with --receiver: the absolute path of lychd-crypt here (default: found on PATH)')
        .option('--print', 'with --receiver: print the authorized_keys line and change nothing'),
    handler: async () => (await import('./commands/init.js')).runInit,
  },
  {
    name: 'deinit',
    summary: 'undo init for one crypt: stop its database, unmount, remove persistence, timers, state and registry entry (the data stays)',
    options: (c) =>
      c
        .option('--dry-run', 'print each step (and whether it is already so) and change nothing')
        .option('--yes', 'consent without asking (stopping the database and, with --delete-data, deleting the data too)')
        .option('--delete-data', 'also delete the image, the partition\'s filesystem or the native directory, with every snapshot'),
    handler: async () => (await import('./commands/deinit.js')).runDeinit,
  },
  {
    name: 'crypts',
    summary: 'list the registered crypts',
    // For shell completion of --crypt: the names only, one a line.
    options: (c) => c.addOption(new Option('--names', 'print only the crypt names').hideHelp()),
    handler: async () => runtime.runCrypts,
  },
  {
    name: 'snapshot',
    summary: 'take an application-consistent snapshot of active/ (the Ritual)',
    options: (c) =>
      c
        .option('--label <text>', 'a label, also slugged into the snapshot name')
        .option('--pin', 'pin the new snapshot (never pruned)')
        .option('--scheduled', 'what the timer runs: keep the free-space floor, snapshot (label "scheduled"), prune by the configured policy')
        .addOption(new Option('--mode <mode>', 'how to quiesce PostgreSQL').choices(['bracket', 'checkpoint', 'instant', 'cold', 'none'])),
    handler: async () => runtime.runSnapshot,
  },
  {
    name: 'list',
    summary: 'list snapshots, newest first',
    options: (c) =>
      c
        .option('--sizes', 'exclusive size of each snapshot: from quota groups when on, else `btrfs filesystem du` (slow on big trees)')
        // For shell completion: the names only, one a line, fast (no sizes, no lock).
        .addOption(new Option('--names', 'print only the snapshot names').hideHelp()),
    handler: async () => runtime.runList,
  },
  {
    name: 'rollback',
    summary: 'atomically replace active/ with a snapshot (undoable)',
    args: '<name>',
    options: (c) =>
      c
        .option('--yes', 'do not ask for confirmation')
        .option('--dry-run', 'print the steps and change nothing')
        .option('--force', 'roll back even across a PostgreSQL major version or system identifier change'),
    handler: async () => runtime.runRollback,
  },
  {
    name: 'run',
    summary: 'a guarded change: snapshot, run COMMAND, check health, roll back by itself on failure',
    args: '<command...>',
    options: (c) =>
      c
        .usage('[options] -- COMMAND [ARGS...]')
        .option('--label <text>', 'the label of the before snapshot (default: the name of the command)')
        .option('--check <cmd>', 'a health probe (argv, no shell) that must exit 0; repeatable', (v: string, prev: string[] = []) => [...prev, v])
        .option('--check-sql <sql>', 'a query that must return true, through the connection of the crypt')
        .option('--timeout <duration>', 'a time limit for COMMAND and all it started (90s, 5m, 1h): then TERM, KILL, and a failure')
        .option('--health-timeout <duration>', 'how long the checks are retried before they fail (default 30s)')
        .addOption(new Option('--on-failure <what>', 'roll back (the failed state kept as a snapshot), or keep the failed state').choices(['rollback', 'keep']).default('rollback')),
    handler: async () => runtime.runRun,
  },
  {
    name: 'delete',
    summary: 'delete snapshots (asks at a terminal; --yes otherwise)',
    args: '<name...>',
    options: (c) =>
      c
        .option('--yes', 'do not ask for confirmation')
        .option('--force', 'delete pinned snapshots too (refused without it)')
        .option('--dry-run', 'print what would be deleted and change nothing'),
    handler: async () => runtime.runDelete,
  },
  {
    name: 'prune',
    summary: 'delete snapshots no retention rule keeps (flags, else the configured retention:)',
    options: (c) =>
      c
        .option('--keep-last <n>', 'keep the newest N snapshots')
        .option('--keep <n>', 'the same as --keep-last (the original flag)')
        .option('--within <age>', 'keep every snapshot younger than AGE (e.g. 30d, 12h)')
        .option('--max-age <age>', 'the same as --within (the original flag): older ones go unless another rule keeps them')
        .option('--hourly <n>', 'keep the first snapshot of each of the newest N hours that have one')
        .option('--daily <n>', '… of each of the newest N days (UTC)')
        .option('--weekly <n>', '… of each of the newest N ISO weeks')
        .option('--monthly <n>', '… of each of the newest N months')
        .option('--yearly <n>', '… of each of the newest N years')
        .option('--dry-run', 'print each snapshot with the rule that keeps it, or remove; change nothing'),
    handler: async () => runtime.runPrune,
  },
  {
    name: 'pin',
    summary: 'pin a snapshot: never pruned',
    args: '<name>',
    options: (c) => c,
    handler: async () => runtime.runPin,
  },
  {
    name: 'unpin',
    summary: 'unpin a snapshot',
    args: '<name>',
    options: (c) => c,
    handler: async () => runtime.runUnpin,
  },
  {
    name: 'label',
    summary: 'set (or with "" remove) the label of a snapshot; its name stays',
    args: '<name> <text...>',
    options: (c) => c,
    handler: async () => runtime.runLabel,
  },
  {
    name: 'verify',
    summary: 'restore-test a snapshot in a throwaway clone',
    args: '[name]',
    options: (c) =>
      c
        .option('--newest', 'verify the newest snapshot (what the verify timer runs)')
        .option('--image <image>', "PostgreSQL in a container: the image the clone runs in (default: the container's own; needed when the container is gone)"),
    handler: async () => (await import('./commands/verify.js')).runVerify,
  },
  {
    name: 'status',
    summary: 'one screen: mount, space, snapshots, last runs, PostgreSQL, timer (--check: Nagios exit codes)',
    options: (c) =>
      c
        .option('--check', 'monitoring: one line and exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN')
        .option('--max-age <age>', 'with --check: WARNING when the newest snapshot is older (CRITICAL at twice that); default 25h')
        .option('--min-free <floor>', 'with --check: WARNING below this free space, e.g. 10% or 2G (CRITICAL below half); default space.minFree, else 10%')
        .option('--max-replica-age <age>', 'with --check: WARNING when a replication target\'s newest copy is older (CRITICAL at twice that, or none)')
        .option('--prometheus <file>', 'also write a node_exporter textfile (atomically)'),
    handler: async () => runtime.runStatus,
  },
  {
    name: 'doctor',
    summary: 'check the crypt; exit 0 healthy, 1 problems found',
    options: (c) => c,
    handler: async () => (await import('./commands/doctor.js')).runDoctor,
  },
  {
    name: 'db',
    summary: "start, stop, restart or show (status) the crypt's PostgreSQL through its configured postgres.service",
    args: '<action>',
    argChoices: DB_VERBS,
    options: (c) => c,
    handler: async () => runtime.runDb,
  },
  {
    name: 'repair',
    summary: 'fix what doctor found and finish or undo interrupted operations',
    options: (c) => c.option('--dry-run', 'print the plan and change nothing').option('--yes', 'do not ask before destructive steps'),
    handler: async () => (await import('./commands/repair.js')).runRepair,
  },
  {
    name: 'replicate',
    summary: 'send the snapshots each off-host target lacks (incremental), then apply its retention',
    options: (c) =>
      c
        .option('--target <name>', 'only this target')
        .option('--dry-run', 'print what would be sent and deleted (with sizes) and change nothing')
        .option('--verify', 'file:// targets: also check every stream\'s checksum')
        .option('--list', 'what each target held after the last run (no root needed on a rootless crypt)')
        .option('--stall-timeout <seconds>', 'give a transfer up when the link stops answering this long (default 60)')
        .option('--trust-host', 'fetch an ssh target\'s host key and, with --fingerprint, trust it (writes its known_hosts)')
        .option('--fingerprint <sha256>', 'with --trust-host: the SHA256:… fingerprint read on the target itself')
        .option('--wait-run <seconds>', 'a rootless crypt\'s owner: wait this long for root\'s service to finish the requested run'),
    handler: async () => (await import('./commands/replicate.js')).runReplicate,
  },
  {
    name: 'restore',
    summary: 'disaster recovery: receive a snapshot from a target and roll back to it',
    args: '[snapshot]',
    options: (c) =>
      c
        .requiredOption('--from <target>', 'a configured target\'s name, or its URL (ssh://…, /path, file:///path)')
        .option('--yes', 'consent: active/ is replaced (the current state is kept as a pre-rollback snapshot)')
        .option('--dry-run', 'print what would be received and the rollback steps; change nothing')
        .option('--identity <file>', 'ssh:// URL: the private key (root\'s ~/.ssh is never read)')
        .option('--known-hosts <file>', 'ssh:// URL: the known_hosts file with the target\'s host key')
        .option('--stall-timeout <seconds>', 'give the transfer up when the link stops answering this long (default 60)'),
    handler: async () => (await import('./commands/restore.js')).runRestore,
  },
  {
    name: 'receive',
    summary: 'the restricted receiver of off-host copies: the forced command of an ssh key',
    options: (c) =>
      c
        .requiredOption('--dir <dir>', 'the directory of this key\'s copies (root\'s, 0700, on Btrfs)')
        .option('--pull', 'also allow `send` (restores from this target)')
        .option('--pull-only', 'allow only `list` and `send` (a key for a restore host)')
        .option('--idle-timeout <seconds>', 'give a transfer up after this long without data (default 600)')
        .option('--lock-wait <seconds>', 'wait this long for another transfer into the directory (default 60), then exit 4'),
    handler: async () => (await import('./commands/receive.js')).runReceive,
  },
  {
    name: 'resize',
    summary: 'grow (or shrink) the crypt online: its image (Method B), or Btrfs to an enlarged partition (Method A); root',
    options: (c) =>
      c
        .option('--size <size>', 'the new size (e.g. 40G), or +SIZE for that much more; default: the image\'s or the partition\'s size today')
        .option('--preallocate', 'allocate every block of the image (fallocate), also of its holes: a full host then cannot force the crypt read-only')
        .option('--dry-run', 'print the plan (every command) and change nothing'),
    handler: async () => (await import('./commands/resize.js')).runResize,
  },
  {
    name: 'migrate',
    summary: 'move a loopback crypt onto a partition of its own, online (btrfs replace; Method B → A); root',
    options: (c) =>
      c
        .requiredOption('--to-device <dev>', 'the partition (block device) to move onto')
        .option('--wipe', 'the device holds data that may be overwritten (as partition.wipe: true)')
        .option('--yes', 'consent to the move without asking')
        .option('--keep-image', 'keep the image file even once doctor is healthy on the device')
        .option('--dry-run', 'print the plan (every command) and change nothing'),
    handler: async () => (await import('./commands/migrate.js')).runMigrate,
  },
  {
    name: 'completion',
    summary: 'print the shell completion script (bash, zsh or fish)',
    args: '<shell>',
    options: (c) => c,
    // The script is made from this very command tree (kept by main), so completion never imports the CLI.
    handler: async () => {
      const { runCompletion } = await import('./commands/completion.js');
      return (args) => runCompletion(args, currentProgram!);
    },
  },
];

export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  stdinIsTTY: boolean;
  env: NodeJS.ProcessEnv;
}

// Not process.stdout and friends: building those costs a command's start more than most of its work (base/output/stdio.ts).
const defaultIo = (): Io => ({
  stdout: output(1),
  stderr: output(2),
  stdinIsTTY: stdinIsTTY(),
  env: process.env,
});

/** `inspect` receives the command tree instead of a parse: the man page and completions are made from it. */
/** The command tree of the running main(): what `completion` describes. */
let currentProgram: Command | undefined;

export async function main(argv: string[], rawIo: Io = defaultIo(), inspect?: (program: Command) => void): Promise<number> {
  // The one output sink: whatever is written below reaches the streams escaped (src/base/output/stdio.ts).
  // The helper the owner's own process starts in its user namespace: a line protocol, not a command.
  if (argv[0] === HELPER_WORD && argv.length === 1) {
    await serveNsOps((await import('./frame/ns-ops.js')).NS_OPS, process.stdin, process.stdout);
    return ExitCode.ok;
  }
  const io: Io = { ...rawIo, stdout: throughSink(rawIo.stdout), stderr: throughSink(rawIo.stderr) };
  let json = argv.includes('--json');
  let result: { out: CommandOutput } | undefined;
  forgetCrypt();
  forgetUserns();
  // The first word that names a command: what the --json envelope reports, also for a usage error.
  let commandName: string | null = argv.find((a) => commands.some((c) => c.name === a)) ?? null;
  // commander's own message for a usage error (unknown option, missing argument), for the envelope.
  let usageMessage: string | undefined;
  // What a follow-up command needs to be pasted as is (src/base/output/hint.ts): known once the options are parsed.
  const hintFacts = (): HintFacts => {
    const g = program.opts<{ crypt?: string; user?: string; registry?: string }>();
    // --crypt only as typed: LYCHD_CRYPT is there for a command pasted into the same shell too.
    const typed = (k: string, v: string | undefined) => (program.getOptionValueSource(k) === 'cli' ? v : undefined);
    const learnt = learntCrypt();
    // The registry from any source (the option, LYCHD_CRYPT_REGISTRY, the answers): sudo, cron and units drop
    // the environment, so a registry that is not the default is always written out.
    const registry = path.resolve(learnt.registry ?? g.registry ?? DEFAULT_REGISTRY_DIR);
    return { crypt: typed('crypt', g.crypt), user: g.user, pathEnv: io.env.PATH, ...learnt, registry: registry === DEFAULT_REGISTRY_DIR ? undefined : registry };
  };
  const program = new Command('lychd-crypt')
    .description('Keep the LychD crypt on Btrfs: instant consistent snapshots, atomic rollback')
    .version(VERSION, '--version')
    .addOption(new Option('--json', 'machine output: one JSON envelope on stdout, for every outcome'))
    .addOption(new Option('--crypt <name|path>', 'the crypt: its registered name or its path').env('LYCHD_CRYPT'))
    .addOption(new Option('--registry <dir>', 'the registry of crypts (default /etc/lychd-crypt)').env('LYCHD_CRYPT_REGISTRY'))
    .option('--user <name>', 'the target user (default: SUDO_USER, else the caller)')
    .option('--wait <seconds>', 'wait this long for the crypt lock before exiting 4', intArg, 0)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => {
        usageMessage = s.trim().replace(/^error: /, '');
        write(s);
      },
    });
  // With --json a usage error is one line on stderr and the envelope on stdout, not a screen of help. An
  // unknown command gets its "did you mean" and one line of usage: the 40 lines of the whole help would push
  // the suggestion off the screen. A command's own mistakes (a missing argument) show that command's help.
  if (!json) program.showHelpAfterError('Usage: lychd-crypt [options] <command> [arguments]   (`lychd-crypt --help` lists the commands)');
  currentProgram = program;

  for (const def of commands) {
    const cmd = def.options(program.command(def.name).description(def.summary));
    if (def.args) cmd.arguments(def.args); // several positionals, e.g. '<name> <text>'
    if (def.argChoices) cmd.registeredArguments[0]!.choices(def.argChoices);
    if (!json) cmd.showHelpAfterError();
    cmd.exitOverride().action(async (...actionArgs: unknown[]) => {
      const command = actionArgs.at(-1) as Command;
      const opts = command.opts<Record<string, unknown>>();
      const g = program.opts<{ json?: boolean; crypt?: string; user?: string; wait: number; registry?: string }>();
      json = Boolean(g.json);
      commandName = def.name;
      const globals: Globals = { json, crypt: g.crypt, user: g.user, wait: g.wait, registry: g.registry };
      const ctx: CommandContext = {
        globals,
        // The runner loads execa when it first runs a command, not at start.
        runner: createRunner(),
        env: io.env,
        interactive: io.stdinIsTTY && Boolean(io.stdout.isTTY) && !json,
        command: def.name,
        argv,
        log: {
          info: (m) => io.stderr.write(`${pasteable(m, hintFacts())}\n`),
          warn: (m) => io.stderr.write(`warning: ${pasteable(m, hintFacts())}\n`),
        },
        // Progress on stderr: a spinner on a terminal, a plain line otherwise, nothing for --json off a terminal.
        activity: activityReporter(io.stderr, {
          tty: Boolean(io.stderr.isTTY),
          quiet: json && !io.stderr.isTTY,
          env: io.env,
          // One line each: fd anchors shown as paths, every control character escaped.
          clean: (s) => escapeValue(unanchor(pasteable(s, hintFacts()))),
        }),
        colour: !json && colourOn(io.stdout.isTTY, io.env),
        columns: io.stdout.isTTY ? io.stdout.columns : undefined,
      };
      const handler = await def.handler();
      const positional = command.args.map(String);
      result = { out: await handler(positional, opts, ctx) };
    });
  }

  if (inspect) {
    inspect(program);
    return ExitCode.ok;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; everything else is a usage error.
      if (err.exitCode === 0 || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return ExitCode.ok;
      if (json) {
        const message = usageMessage ?? err.message.replace(/^error: /, '');
        io.stdout.write(`${envelopeText(usageFailure(commandName, message, `See \`lychd-crypt ${commandName ? `${commandName} ` : ''}--help\`.`))}\n`);
      }
      return ExitCode.usage;
    }
    if (err instanceof RunAsOwner) {
      try {
        return await (await import('../base/privilege/privilege.js')).runAsOwner(err, argv, io.env);
      } catch (e) {
        return reportError(e, json, io, commandName, hintFacts());
      }
    }
    return reportError(err, json, io, commandName, hintFacts());
  }
  if (!result) return ExitCode.ok;
  const { out } = result;
  const exit = out.exitCode ?? ExitCode.ok;
  if (json) io.stdout.write(`${unanchor(envelopeText(successEnvelope(commandName ?? '', out.json, exit)))}\n`);
  else if (out.human) io.stdout.write(unanchor(pasteable(out.human.endsWith('\n') ? out.human : `${out.human}\n`, hintFacts())));
  return exit;
}

/** The command tree exactly as `--help` shows it, with no actions run. */
export async function programTree(): Promise<Command> {
  let tree: Command | undefined;
  await main([], defaultIo(), (p) => {
    tree = p;
  });
  return tree!;
}

function reportError(raw: unknown, json: boolean, io: Io, command: string | null, facts: HintFacts): number {
  // Expected failures (full or read-only filesystem, permissions, I/O, a recovering or crashed server)
  // become typed errors with a hint; a stack trace only with LYCHD_DEBUG=1, never for the user.
  const err = classifyError(raw);
  const code = exitCodeFor(err);
  const message = pasteable(unanchor(err instanceof Error ? err.message : String(err)), facts);
  const hint = err instanceof CryptError && err.hint ? pasteable(unanchor(err.hint), facts) : undefined;
  io.stderr.write(unanchor(`lychd-crypt: ${message}\n${hint ? `${hint}\n` : ''}`));
  if (io.env.LYCHD_DEBUG === '1' && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
  else if (!(err instanceof CryptError)) io.stderr.write('(an unexpected error: run with LYCHD_DEBUG=1 to see where it came from, and report it)\n');
  if (json) io.stdout.write(`${unanchor(envelopeText(failureEnvelope(command, err, code, message, hint)))}\n`);
  return code;
}
