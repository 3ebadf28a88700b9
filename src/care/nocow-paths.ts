// Where a nocow rewrite builds its fresh copy: inside active/ (the same subvolume as PGDATA, which a
// rename/exchange needs), under a name no one else uses.
import path from 'node:path';

export const NOCOW_STAGING_PREFIX = '.lychd-nocow-';

export function nocowStagingPath(active: string, id: string): string {
  return path.join(active, `${NOCOW_STAGING_PREFIX}${id}`);
}
