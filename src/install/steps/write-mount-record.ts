// write-mount-record: the record goes into the crypt path's directory, underneath the mount (readable while
// unmounted). That directory sits in a user's tree: it is opened without following a link they could have
// made, and the record written through its descriptor (a new file renamed into place: neither follows a
// link either).
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../base/sys/fs.js';
import { closeDir } from '../../base/sys/fd.js';
import { openTrustedDirOrThrow } from '../../base/sys/trusted-path.js';
import { mountAt } from '../detect/findmnt.js';
import { fileProbe, readText } from './file-probe.js';
import { withUnderlying } from './underlying.js';
import { changed, seq, unchanged, wouldChange, type StepModule, type StepOf } from './module.js';

/** A mount record is a few hundred bytes: anything much larger is not one. */
const MAX_RECORD = 64 * 1024;

/** A regular file's text, opened without following a link or waiting on a FIFO; null when it is anything else. */
async function readRegularFile(file: string): Promise<string | null> {
  const fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => null);
  if (!fh) return null;
  try {
    const st = await fh.stat();
    return st.isFile() && st.size <= MAX_RECORD ? await fh.readFile('utf8') : null;
  } finally {
    await fh.close();
  }
}

export const writeMountRecord: StepModule<StepOf<'write-mount-record'>> = {
  describe: (s) => seq(`write mount record ${s.path} (underneath the mount)`, { write: { path: s.path, content: s.content, mode: 0o644 } }),
  async probe(s, ctx) {
    // Underneath a mount the record is out of reach without a bind mount (an action): planned then only
    // because the configuration changed, so it will be rewritten.
    if (await mountAt(ctx.runner, path.dirname(s.path))) return wouldChange('rewritten underneath the mount (the configuration changed)');
    return fileProbe(s.path, await readText(s.path), s.content);
  },
  apply: (s, ctx) =>
    withUnderlying(ctx.runner, path.dirname(s.path), async (under) => {
      const dir = await openTrustedDirOrThrow(under);
      try {
        const file = `${dir.anchor}/${path.basename(s.path)}`;
        if ((await readRegularFile(file)) === s.content) return unchanged('same content');
        await writeFileAtomic(file, s.content, { mode: 0o644 });
        return changed();
      } finally {
        await closeDir(dir);
      }
    }),
};
