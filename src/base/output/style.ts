// Colour for people at a terminal: never when NO_COLOR is set or the output is not a terminal (a pipe, a
// file, --json), always when FORCE_COLOR is set (and not 0). The only colour that reaches a terminal: the
// sequences are marked as ours (ownSequence) and made real by the output sink, which escapes any other, so
// data is styled after it is escaped and never brings colour of its own.
import { stderrIsTTY } from './stdio.js';
import { ownSequence } from './text.js';

export type Colour = 'red' | 'green' | 'yellow' | 'cyan' | 'bold' | 'dim';

/** Whether to colour what goes to a stream with this isTTY. */
export function colourOn(isTTY: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined) return env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  return Boolean(isTTY) && env.TERM !== 'dumb';
}

/** SGR parameters that switch each style on and off (what node:util's styleText emits for them). */
const SGR: Record<Colour, [number, number]> = { red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39], bold: [1, 22], dim: [2, 22] };

const styled = (colour: Colour, text: string): string => `${ownSequence(`[${SGR[colour][0]}m`)}${text}${ownSequence(`[${SGR[colour][1]}m`)}`;

/** A painter for one output: colours when on, the text unchanged when off. */
export type Painter = (colour: Colour, text: string) => string;
export const painter = (on: boolean | undefined): Painter => (colour, text) => (on ? styled(colour, text) : text);

/** The text in that colour when `on` (default: stderr's rule), else as is. */
export function paint(colour: Colour, text: string, env: NodeJS.ProcessEnv = process.env, on = colourOn(stderrIsTTY(), env)): string {
  return on ? styled(colour, text) : text;
}
