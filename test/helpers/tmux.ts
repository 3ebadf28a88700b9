// A real pseudo-terminal for interactive tests: the command runs in a detached tmux session on its own
// server (a unique -L socket, so parallel tests never meet), the test reads the screen and types keys.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Scratch } from './scratch.js';

const EXIT = '__EXIT=';

export interface Terminal {
  /** The visible screen (200 x 50). */
  screen(): string;
  /** Everything printed so far, scrollback included. */
  history(): string;
  /** Literal text (no key names). */
  type(text: string): void;
  /** tmux key names: Enter, Up, Down, C-c, … */
  keys(...keys: string[]): void;
  /** Waits until the screen matches; throws with the screen when it does not within timeoutMs. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<string>;
  /** Waits for the command to end; its exit status. */
  exitCode(timeoutMs?: number): Promise<number>;
  /** Moves a clack select to the option whose line contains `label`, then presses Enter. */
  choose(label: string): Promise<void>;
  /** The pane's terminal device (/dev/pts/N): what the command in it has as fds 0–2 and controlling terminal. */
  tty(): string;
  /** Resizes the window (the command in it gets SIGWINCH). */
  resize(columns: number, rows: number): void;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A root login's plain environment for a terminal (openTerminal adds the scratch registry, state and code cache). */
export const plainTerminalEnv = (): Record<string, string | undefined> => ({ PATH: process.env.PATH, HOME: '/root', LANG: 'C.UTF-8' });

/** Starts argv in a terminal; the tmux server is killed by the scratch cleanup (even when a test fails). */
export function openTerminal(scratch: Scratch, argv: string[], env: Record<string, string | undefined> = process.env): Terminal {
  const socket = `lychd-${randomBytes(6).toString('hex')}`;
  // An interactive init has no answers file to name a registry: keep it (and root's state) in the scratch
  // dir, and the code cache where every test keeps it (test/helpers/setup.ts), not in the host's /var/cache.
  const withScratch = {
    LYCHD_CRYPT_REGISTRY: scratch.path('registry'),
    LYCHD_CRYPT_STATE: scratch.path('state'),
    LYCHD_CRYPT_COMPILE_CACHE: process.env.LYCHD_CRYPT_COMPILE_CACHE,
    ...env,
  };
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', env: withScratch as NodeJS.ProcessEnv });
  // tmux runs the command through sh: every word is quoted. The trailing sleep keeps the screen readable
  // after the command ended; the exit status is printed last.
  tmux('new-session', '-d', '-s', 'main', '-x', '200', '-y', '50', `${argv.map(q).join(' ')}; echo "${EXIT}$?"; sleep 3600`);
  const socketPath = tmux('display-message', '-p', '#{socket_path}').trim();
  scratch.defer(() => {
    try {
      execFileSync('tmux', ['-L', socket, 'kill-server'], { stdio: 'ignore' });
    } catch {
      /* already gone */
    }
    // tmux leaves its socket file behind.
    if (socketPath.endsWith(`/${socket}`)) rmSync(socketPath, { force: true });
  });
  const t: Terminal = {
    screen: () => tmux('capture-pane', '-p', '-t', 'main'),
    history: () => tmux('capture-pane', '-p', '-S', '-', '-t', 'main'),
    type: (text) => void tmux('send-keys', '-t', 'main', '-l', text),
    keys: (...keys) => void tmux('send-keys', '-t', 'main', ...keys),
    tty: () => tmux('display-message', '-p', '-t', 'main', '#{pane_tty}').trim(),
    resize: (columns, rows) => void tmux('resize-window', '-t', 'main', '-x', String(columns), '-y', String(rows)),
    async waitFor(re, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const s = t.screen();
        if (re.test(s)) return s;
        if (Date.now() > end) throw new Error(`timed out waiting for ${re} on the screen:\n${s}`);
        await sleep(100);
      }
    },
    async exitCode(timeoutMs = 60_000) {
      const s = await t.waitFor(new RegExp(`${EXIT}\\d+`), timeoutMs);
      return Number(new RegExp(`${EXIT}(\\d+)`).exec(s)![1]);
    },
    async choose(label) {
      // clack marks the active option ● and the others ○ (one per line, below the question).
      const lines = t.screen().split('\n');
      let start = lines.length - 1;
      while (start > 0 && !lines[start]!.includes('◆')) start--;
      const options = lines.slice(start + 1).filter((l) => /[●○]/.test(l));
      const active = options.findIndex((l) => l.includes('●'));
      const wanted = options.findIndex((l) => l.includes(label));
      if (active < 0 || wanted < 0) throw new Error(`no option "${label}" on the screen:\n${lines.join('\n')}`);
      for (let i = active; i < wanted; i++) t.keys('Down');
      for (let i = active; i > wanted; i--) t.keys('Up');
      await t.waitFor(new RegExp(`●[^\\n]*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      t.keys('Enter');
    },
  };
  return t;
}

/**
 * Job control in an interactive bash on `t`: types `line` (a command that prints "started" and keeps
 * running), Ctrl-Z, checks `jobs -l` shows it stopped, `fg`, runs `whileContinued`, then Ctrl-C. The
 * screen once the shell printed the command's status (`status=N`).
 */
export async function stopAndContinue(t: Terminal, line: string, whileContinued: () => Promise<void> = async () => {}): Promise<string> {
  t.type(line);
  t.keys('Enter');
  await t.waitFor(/^started/m);
  t.keys('C-z');
  await t.waitFor(/Stopped/);
  t.type('jobs -l');
  t.keys('Enter');
  await t.waitFor(/Stopped\s+node/);
  t.type('fg; echo "status=$?"');
  t.keys('Enter');
  await t.waitFor(/node .* run -- sh -c/);
  await whileContinued();
  t.keys('C-c');
  return t.waitFor(/status=\d+/, 60_000);
}
