// What a repair step handler gets: the runner, the opened crypt once it is mounted, and the recovery table.
import type { OpenCrypt } from '../base/crypt/open.js';
import type { OpContext } from '../base/context.js';

export interface RepairContext {
  ctx: OpContext;
  /** null only for the steps that run before the crypt can be opened (mount). */
  crypt: OpenCrypt | null;
  /** systemd runs as PID 1: persistence changes are followed by daemon-reload. */
  systemd: boolean;
  /**
   * The recovery table (it knows operations of every layer, so the command hands it down): finishes or
   * undoes the journal's operation, returning what it did. Absent where no step needs it (root's part).
   */
  heal?: (crypt: OpenCrypt) => Promise<string[]>;
}
