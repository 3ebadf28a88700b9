// Progress of one thing that may take more than a second (a checkpoint, pg_amcheck, a lock wait, a repair
// step), on stderr: a spinner with the elapsed seconds on a terminal, else one plain line. Never on stdout,
// so `--json` output stays one document.
import type { Activity, StartActivity } from '../../base/context.js';
import { paint } from '../../base/output/style.js';
import { ownSequence } from '../../base/output/text.js';

/** Back to the start of the line and erase it: the spinner redraws in place. */
const redraw = (): string => `${ownSequence('\r')}${ownSequence('[2K')}`;

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface ActivityStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

/** A wait (`line: 'start'`) shows only once it has lasted this long: a fast checkpoint leaves no trace. */
export const SHOW_AFTER_MS = 1000;

/**
 * tty: a spinner, replaced by one final line. Otherwise one line per activity: at the start (`line: 'start'`,
 * for waits, so a log shows what it waits for) or at the end with the outcome (`line: 'end'`, for steps).
 * Waits show only when they last longer than SHOW_AFTER_MS; steps always. quiet (--json without a
 * terminal): nothing at all.
 */
export function activityReporter(
  stream: ActivityStream,
  opts: { tty: boolean; quiet: boolean; env?: NodeJS.ProcessEnv; delayMs?: number; clean?: (s: string) => string },
): StartActivity {
  const clean = opts.clean ?? ((s: string) => s);
  return (rawTitle, o = {}) => {
    const title = clean(rawTitle);
    const line = o.line ?? 'start';
    if (opts.quiet) return { update: () => {}, done: () => {}, fail: () => {} };
    const delay = line === 'start' ? (opts.delayMs ?? SHOW_AFTER_MS) : 0;
    let text = title;
    if (!opts.tty) {
      let shown = false;
      const show = () => {
        if (shown) return;
        shown = true;
        stream.write(`${text} …\n`);
      };
      const timer = line === 'start' ? (delay ? setTimeout(show, delay) : (show(), undefined)) : undefined;
      timer?.unref();
      let finished = false;
      const end = (mark: string, detail?: string) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        if (line === 'end') stream.write(`${mark}${title}${detail ? `: ${detail}` : ''}\n`);
        else if (shown && detail) stream.write(`  ${mark}${detail}\n`);
      };
      return {
        update: (t) => {
          if (o.updates === 'lines' && !finished) {
            show(); // the title first (once), then each update as a line of its own
            stream.write(`  ${clean(t)}\n`);
            return;
          }
          text = clean(t);
        },
        done: (d) => end('', d && clean(d)),
        fail: (d) => end('FAILED: ', d && clean(d)),
      };
    }
    const t0 = Date.now();
    let i = 0;
    let shown = false;
    const draw = () => {
      shown = true;
      const secs = Math.floor((Date.now() - t0) / 1000);
      stream.write(`${redraw()}${paint('cyan', FRAMES[i++ % FRAMES.length]!, opts.env)} ${text}${secs ? ` (${secs} s)` : ''}`);
    };
    if (!delay) draw();
    const first = delay ? setTimeout(draw, delay) : undefined;
    first?.unref();
    const timer = setInterval(() => (shown ? draw() : undefined), 100);
    timer.unref();
    let finished = false;
    const end = (mark: string, detail?: string) => {
      if (finished) return;
      finished = true;
      clearTimeout(first);
      clearInterval(timer);
      // A wait that ended before it was shown leaves nothing; anything shown ends in one final line.
      if (shown) stream.write(`${redraw()}${mark} ${text}${detail ? `: ${detail}` : ''}\n`);
    };
    return {
      update: (t) => {
        text = clean(t);
      },
      done: (d) => end(paint('green', '✓', opts.env), d && clean(d)),
      fail: (d) => end(paint('red', '✗', opts.env), d && clean(d)),
    };
  };
}
