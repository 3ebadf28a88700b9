// move-aside: the original directory moves aside as a backup; an empty one with the same owner and mode
// replaces it (native: with a marker recording where the data went, until copy-data removes it). Both
// names are in one directory, opened without following a user's link: the rename happens where root
// looked, and the new directory is made there, not wherever a swapped path would lead.
import { lstat, mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { exists, writeFileAtomic } from '../../base/sys/fs.js';
import { chownDir, closeDir, NotFollowedError, openDir } from '../../base/sys/fd.js';
import { withParent } from './parent.js';
import { changed, satisfied, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

/** The content of the native migration marker: where the original data is. */
export const migrationMarker = (from: string) => `${JSON.stringify({ version: 1, from }, null, 2)}\n`;

export const moveAside: StepModule<StepOf<'move-aside'>> = {
  describe: (s) =>
    seq(
      `keep the original ${s.from} as backup ${s.to}`,
      { op: `open ${path.dirname(s.from)} without following a symbolic link a user could have made` },
      { op: `rename ${s.from} -> ${s.to} in it` },
      { op: `mkdir ${s.from} (same owner and mode)` },
      s.marker !== null && { write: { path: s.marker, content: migrationMarker(s.to), mode: 0o644 } },
    ),
  probe: async (s) => ((await exists(s.to)) ? satisfied(`${s.to} exists already`) : wouldChange()),
  async apply(s) {
    if (path.dirname(s.to) !== path.dirname(s.from)) throw new Error(`move-aside keeps the backup beside the original, not at ${s.to}`);
    return withParent(s.from, undefined, async (parent, name) => {
      const at = (n: string) => `${parent.anchor}/${n}`;
      if (await exists(at(path.basename(s.to)))) return unchanged(`${s.to} exists already`);
      const st = await lstat(at(name));
      if (!st.isDirectory()) throw new NotFollowedError(`${s.from} is not a directory (a symbolic link?); nothing was moved`, { hint: 'Put the directory back and run init again.' });
      await rename(at(name), at(path.basename(s.to)));
      await mkdir(at(name), { mode: st.mode & 0o7777 });
      const dir = await openDir(name, parent);
      try {
        await chownDir(dir, st.uid, st.gid, st.mode & 0o7777);
        if (s.marker) await writeFileAtomic(`${dir.anchor}/${path.basename(s.marker)}`, migrationMarker(s.to), { mode: 0o644 });
      } finally {
        await closeDir(dir);
      }
      return changed();
    });
  },
};
