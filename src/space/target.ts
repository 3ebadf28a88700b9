// Where the space reserve looks for an open crypt: its root, its loopback image and its PGDATA.
import type { OpenCrypt } from '../crypt/open.js';
import { pgdataPath } from '../crypt/paths.js';
import type { SpaceTarget } from './reserve.js';

export function spaceTargetOf(crypt: OpenCrypt): SpaceTarget {
  const { config, paths } = crypt;
  return {
    root: paths.root,
    image: config.method === 'loopback' ? (config.loopback?.image ?? null) : null,
    pgdata: config.postgres ? pgdataPath(paths.root, config.postgres.dir) : null,
  };
}
