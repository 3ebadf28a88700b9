// Progress of applyPlan in the terminal: a spinner while a step runs, then one line per step. The spinner
// writes past the output sink: its texts (paths, an error's message) are escaped here (src/base/output/text.ts).
import * as p from '@clack/prompts';
import { escapeControls, escapeValue } from '../../base/output/text.js';
import type { ProgressReporter, StepEvent } from '../../install/steps/reporter.js';
import type { PromptIo } from './prompts.js';

export function spinnerReporter(io: PromptIo = {}): ProgressReporter {
  let spin: ReturnType<typeof p.spinner> | undefined;
  const label = (e: StepEvent) => `[${e.index + 1}/${e.total}] ${escapeValue(e.title)}`;
  return {
    onStep(e) {
      if (e.status === 'start') {
        // The spinner listens for SIGINT, which disables Node's default exit: restore it, so Ctrl-C during
        // apply stops init as it always would (every step is re-runnable: the next init or repair continues).
        spin = p.spinner({ output: io.output, onCancel: () => process.exit(130) });
        spin.start(label(e));
        return;
      }
      const s = spin ?? p.spinner({ output: io.output });
      spin = undefined;
      const detail = e.detail ? ` (${escapeValue(e.detail)})` : '';
      if (e.status === 'done') s.stop(`${label(e)}${detail}`);
      else if (e.status === 'unchanged') s.stop(`${label(e)}: unchanged${detail}`);
      else s.error(escapeControls(`${label(e)}: FAILED: ${e.error instanceof Error ? e.error.message : String(e.error)}`));
    },
  };
}
