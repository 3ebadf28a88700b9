// `init --receiver` (pure): the steps that make a host receive one crypt's copies through one key — the
// directory (a 0700 root subvolume on Btrfs) and the forced-command line in root's authorized_keys.
import path from 'node:path';
import type { InitStep } from '../../model/steps.js';
import { renderAuthorizedKey, type PublicKey, type ReceiverMode } from '../render/authorized-key.js';

export interface ReceiverRequest {
  dir: string;
  /** The absolute path of lychd-crypt on this host (the forced command's PATH has no /usr/sbin and is not ours to trust). */
  bin: string;
  mode: ReceiverMode;
  key: PublicKey;
  /** root's home, from the passwd database. */
  rootHome: string;
}

export function receiverSteps(r: ReceiverRequest): InitStep[] {
  const line = renderAuthorizedKey({ bin: r.bin, dir: r.dir, mode: r.mode, key: r.key });
  return [
    { kind: 'receiver-dir', path: r.dir },
    { kind: 'authorized-key', file: path.join(r.rootHome, '.ssh', 'authorized_keys'), line, blob: r.key.blob },
  ];
}
