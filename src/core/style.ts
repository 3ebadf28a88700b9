// Colour for people at a terminal, through node:util styleText: never when NO_COLOR is set or the output is
// not a terminal (a pipe, a file, --json), always when FORCE_COLOR is set (and not 0).
import { styleText } from 'node:util';
import { stderrIsTTY } from './stdio.js';

export type Colour = 'red' | 'green' | 'yellow' | 'cyan' | 'bold' | 'dim';

/** Whether to colour what goes to a stream with this isTTY. */
export function colourOn(isTTY: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return Boolean(isTTY) && env.TERM !== 'dumb';
}

/** A painter for one output: colours when on, the text unchanged when off. */
export type Painter = (colour: Colour, text: string) => string;
export const painter = (on: boolean | undefined): Painter => (colour, text) => (on ? styleText(colour, text, { validateStream: false } as never) : text);

/** The text in that colour when `on` (default: stderr's rule), else as is. */
export function paint(colour: Colour, text: string, env: NodeJS.ProcessEnv = process.env, on = colourOn(stderrIsTTY(), env)): string {
  // styleText checks the stream itself in newer Node; validateStream: false leaves the decision to us.
  return on ? styleText(colour, text, { validateStream: false } as never) : text;
}
