// A yes/no question that waits for Enter. clack's confirm submits on the `y`/`n` key alone, so the Enter a
// user types after it (`n`, Enter) lands on the next question and accepts its default unseen. Here `y`/`n`
// (or the arrows) only choose; Enter answers. Rendered like clack's own confirm.
import { ConfirmPrompt } from '@clack/core';
import { S_BAR, S_BAR_END, S_RADIO_ACTIVE, S_RADIO_INACTIVE, symbol } from '@clack/prompts';
import type { Readable, Writable } from 'node:stream';
import { styleText } from 'node:util';

export interface YesNoOptions {
  message: string;
  initialValue: boolean;
  input?: Readable;
  output?: Writable;
}

/** The core prompt submits on its `confirm` event (y/n): keep the choice instead, leave the answer to Enter. */
class EnterConfirms extends ConfirmPrompt {
  override emit: ConfirmPrompt['emit'] = (event, ...data) => {
    if (event === 'confirm') this.value = Boolean(data[0]);
    else super.emit(event, ...data);
  };
}

export function yesNo(opts: YesNoOptions): Promise<boolean | symbol> {
  const yes = 'Yes';
  const no = 'No';
  const prompt = new EnterConfirms({
    active: yes,
    inactive: no,
    input: opts.input,
    output: opts.output,
    initialValue: opts.initialValue,
    render() {
      const head = `${styleText('gray', S_BAR)}\n${symbol(this.state)}  ${opts.message}\n`;
      const answer = this.value ? yes : no;
      if (this.state === 'submit') return `${head}${styleText('gray', S_BAR)}  ${styleText('dim', answer)}`;
      if (this.state === 'cancel') return `${head}${styleText('gray', S_BAR)}  ${styleText(['strikethrough', 'dim'], answer)}\n${styleText('gray', S_BAR)}`;
      const radio = (on: boolean, label: string) => (on ? `${styleText('green', S_RADIO_ACTIVE)} ${label}` : `${styleText('dim', S_RADIO_INACTIVE)} ${styleText('dim', label)}`);
      return `${head}${styleText('cyan', S_BAR)}  ${radio(Boolean(this.value), yes)} ${styleText('dim', '/')} ${radio(!this.value, no)}  ${styleText('dim', '(y/n, Enter)')}\n${styleText('cyan', S_BAR_END)}\n`;
    },
  });
  return prompt.prompt() as Promise<boolean | symbol>;
}
