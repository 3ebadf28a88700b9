// mount.path: is there a crypt at the path at all? Tells a hand-made layout (a plain directory with data
// on another filesystem) apart from a crypt, and points it to `init`, which migrates the data.
import { lstat, readdir } from 'node:fs/promises';
import { mountHolding } from '../install/detect/findmnt.js';
import type { DoctorEnv } from './doctor-env.js';
import { manual, ok, type Check } from './findings.js';

const ID = 'mount.path';

export async function checkCryptPath(env: DoctorEnv): Promise<Check> {
  const st = await lstat(env.root).catch(() => null);
  const init = `lychd-crypt init --answers FILE (with crypt.path: ${env.root})`;
  if (!st) return manual(ID, `no crypt at ${env.root}: the path does not exist`, `create one with \`${init}\`, or pass --crypt PATH`);
  if (!st.isDirectory()) return manual(ID, `${env.root} is not a directory`, `move it away, then \`${init}\``);
  if (env.config || env.view) return ok(ID, `${env.root} is a crypt (${env.config ? env.config.method : env.view!.method})`);
  if (env.mounted) {
    return manual(ID, `${env.mounted.source} (${env.mounted.fstype}) is mounted at ${env.root} but holds no lychd-crypt configuration`, `check what is mounted there; \`${init}\` rebuilds the configuration of a crypt`);
  }
  const entries = await readdir(env.root).catch(() => [] as string[]);
  if (entries.length === 0) return manual(ID, `no crypt at ${env.root}: an empty directory`, `create one with \`${init}\``);
  const fs = await mountHolding(env.runner, env.root);
  if (fs.fstype !== 'btrfs') {
    return manual(
      ID,
      `${env.root} is a plain directory with data (${entries.length} entries) on ${fs.fstype}, not a crypt (a layout made by hand?)`,
      `\`${init.replace('(with', '(with method: loopback or partition,')}\` moves the data into active/ of a new Btrfs crypt (the original is kept as a backup); repair does not do this itself`,
    );
  }
  return manual(
    ID,
    `${env.root} is a directory with data on Btrfs but has no lychd-crypt configuration`,
    `\`${init.replace('(with', '(with method: native,')}\` builds the layout in place and migrates the data into active/`,
  );
}
