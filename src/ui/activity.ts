// Progress of one thing that may take more than a second (a checkpoint, pg_amcheck, a lock wait, a repair
// step), on stderr: a spinner with the elapsed seconds on a terminal, else one plain line. Never on stdout,
// so `--json` output stays one document.
import type { Activity, StartActivity } from '../core/context.js';
import { paint } from './style.js';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface ActivityStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

/**
 * tty: a spinner, replaced by one final line. Otherwise one line per activity: at the start (`line: 'start'`,
 * for waits, so a log shows what it waits for) or at the end with the outcome (`line: 'end'`, for steps).
 * quiet (--json without a terminal): nothing at all.
 */
export function activityReporter(stream: ActivityStream, opts: { tty: boolean; quiet: boolean; env?: NodeJS.ProcessEnv }): StartActivity {
  return (title, o = {}) => {
    const line = o.line ?? 'start';
    if (opts.quiet) return { update: () => {}, done: () => {}, fail: () => {} };
    if (!opts.tty) {
      if (line === 'start') stream.write(`${title} …\n`);
      let finished = false;
      const end = (mark: string, detail?: string) => {
        if (finished) return;
        finished = true;
        if (line === 'end') stream.write(`${mark}${title}${detail ? `: ${detail}` : ''}\n`);
        else if (detail) stream.write(`  ${detail}\n`);
      };
      return { update: () => {}, done: (d) => end('', d), fail: (d) => end('FAILED: ', d) };
    }
    const t0 = Date.now();
    let text = title;
    let i = 0;
    const draw = () => {
      const secs = Math.floor((Date.now() - t0) / 1000);
      stream.write(`\r\x1b[2K${paint('cyan', FRAMES[i++ % FRAMES.length]!, opts.env)} ${text}${secs ? ` (${secs} s)` : ''}`);
    };
    draw();
    const timer = setInterval(draw, 100);
    timer.unref();
    let finished = false;
    const end = (mark: string, detail?: string) => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      stream.write(`\r\x1b[2K${mark} ${title}${detail ? `: ${detail}` : ''}\n`);
    };
    return {
      update: (t) => {
        text = t;
      },
      done: (d) => end(paint('green', '✓', opts.env), d),
      fail: (d) => end(paint('red', '✗', opts.env), d),
    };
  };
}
