// What a repair step handler gets: the runner, and the opened crypt once it is mounted.
import type { CommandContext } from '../base/context.js';
import type { OpenCrypt } from '../base/crypt/open.js';

export interface RepairContext {
  ctx: CommandContext;
  /** null only for the steps that run before the crypt can be opened (mount). */
  crypt: OpenCrypt | null;
  /** systemd runs as PID 1: persistence changes are followed by daemon-reload. */
  systemd: boolean;
}
