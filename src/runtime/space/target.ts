// Where the space reserve looks for a crypt: its root, its loopback image and its PGDATA.
import type { Config } from '../../model/config.js';
import type { OpenCrypt } from '../../base/crypt/open.js';
import { pgdataPath } from '../../base/crypt/paths.js';
import type { SpaceTarget } from './reserve.js';

export function spaceTarget(root: string, config: Config): SpaceTarget {
  return {
    root,
    image: config.method === 'loopback' ? (config.loopback?.image ?? null) : null,
    pgdata: config.postgres ? pgdataPath(root, config.postgres.dir) : null,
  };
}

export function spaceTargetOf(crypt: OpenCrypt): SpaceTarget {
  return spaceTarget(crypt.paths.root, crypt.config);
}
