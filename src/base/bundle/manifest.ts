// manifest.json of a runtime directory: its version and the sha256 of every other file, written by the
// build (and again by packaging when it changes the entry's first line). Init installs what it lists;
// doctor checks an installed runtime against it, so a missing or altered chunk is found before a command
// needs it.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';

import { MANIFEST } from './packaged.js';

export { MANIFEST };

export interface RuntimeManifest {
  version: string;
  /** The npm packages bundled (the .deb's copyright file lists them). */
  packages: string[];
  /** File name → sha256 (hex), every file of the directory but the manifest. */
  files: Record<string, string>;
  /** The Node.js inside the single executable (`v24.22.3`); absent for a Node-run directory. */
  node?: string;
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

/** The sha256 of a file, read in pieces (the single executable is ~110 MB); null when it cannot be read. */
export async function fileDigest(file: string): Promise<string | null> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  } catch {
    return null;
  }
  return hash.digest('hex');
}

/** The manifest of `dir`'s files as they are now. */
export async function computeManifest(dir: string, version: string, packages: string[], extra: { node?: string } = {}): Promise<RuntimeManifest> {
  const files: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) if (name !== MANIFEST) files[name] = (await fileDigest(path.join(dir, name)))!;
  return { version, packages, ...extra, files };
}

export async function readManifest(dir: string): Promise<{ manifest: RuntimeManifest; raw: Buffer } | null> {
  const raw = await readFile(path.join(dir, MANIFEST)).catch(() => null);
  if (!raw) return null;
  try {
    const m = JSON.parse(raw.toString('utf8')) as RuntimeManifest;
    if (typeof m.version !== 'string' || typeof m.files !== 'object' || m.files === null) return null;
    for (const name of Object.keys(m.files)) if (name.includes('/') || name.startsWith('.')) return null;
    return { manifest: m, raw };
  } catch {
    return null;
  }
}

/** What is wrong with `dir` against its manifest (missing or altered files), [] when it is whole. */
export async function manifestProblems(dir: string): Promise<string[]> {
  const read = await readManifest(dir);
  if (!read) return [`${path.join(dir, MANIFEST)} is missing or unreadable`];
  const problems: string[] = [];
  for (const [name, want] of Object.entries(read.manifest.files)) {
    const got = await fileDigest(path.join(dir, name));
    if (!got) problems.push(`${name} is missing`);
    else if (got !== want) problems.push(`${name} has been altered (sha256 differs from the manifest)`);
  }
  return problems;
}

/** A build's directory name: its version and a digest of its manifest (so two builds never share one). */
export const buildId = (manifest: RuntimeManifest, raw: Buffer): string => `${manifest.version}-${sha256(raw).slice(0, 12)}`;
