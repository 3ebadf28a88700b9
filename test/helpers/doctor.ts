// Helpers for the doctor/repair real tests: a crypt made by the real `init` (mount record, fstab line or
// unit, runtime command — everything doctor checks), a fingerprint of everything repair could change,
// and hashes of user data.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { sh, type TestUser } from './host.js';
import { runCli, writeAnswers, type CliResult } from './init.js';
import type { Scratch } from './scratch.js';
import { userHost } from './scenes.js';

export interface InitCrypt {
  crypt: string;
  image: string;
  fstab: string;
  unitDir: string;
  unitName: string;
  bin: string;
  user: TestUser;
  /** Runs the CLI against this crypt. */
  cli(...args: string[]): CliResult;
}

export async function initCrypt(
  scratch: Scratch,
  cli: string,
  opts: { via?: 'fstab' | 'systemd' | 'none'; postgres?: Record<string, unknown> } = {},
): Promise<InitCrypt> {
  const { host, user, crypt } = await userHost(scratch, 'ext4', 700);
  const image = path.join(host, 'images/crypt.img');
  const answers = writeAnswers(scratch, {
    crypt: { path: crypt, user: user.name },
    method: 'loopback',
    loopback: { image, size: '400M' },
    persist: { via: opts.via ?? 'fstab' },
    ...(opts.postgres ? { postgres: opts.postgres } : {}),
  });
  const r = runCli(cli, ['init', '--answers', answers, '--yes', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return {
    crypt,
    image,
    fstab: scratch.path('etc/fstab'),
    unitDir: scratch.path('etc/systemd/system'),
    unitName: sh(['systemd-escape', '--path', '--suffix=mount', crypt]).trim(),
    bin: scratch.path('bin/lychd-crypt'),
    user,
    cli: (...args) => runCli(cli, ['--crypt', crypt, ...args]),
  };
}

/** Everything under the scratch dir that repair could change: mounts, and every path's owner, mode, size and content hash. */
export function fingerprint(dir: string): string {
  const mounts = sh(['findmnt', '-rn', '-o', 'TARGET,SOURCE,FSTYPE'])
    .split('\n')
    .filter((l) => l.startsWith(dir))
    .sort();
  return [...mounts, ...Object.entries(treeState(dir)).map(([p, s]) => `${p} ${s}`)].join('\n');
}

function treeState(dir: string, out: Record<string, string> = {}): Record<string, string> {
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (p.endsWith('/lock')) continue; // taking the lock creates it; it holds nothing
    const st = lstatSync(p);
    const base = `${st.uid}:${st.gid} ${(st.mode & 0o7777).toString(8)} ino${st.ino}`;
    if (st.isDirectory()) {
      out[p] = `${base} dir`;
      treeState(p, out);
    } else if (!st.isFile()) out[p] = base;
    // Big files are the loop images under the scratch filesystems: reading anything on them (an atime
    // update, a Btrfs commit) writes to them, so their mtime says nothing; what is on them is fingerprinted
    // through their mounts.
    else out[p] = st.size > 2 ** 24 ? `${base} ${st.size}` : `${base} ${st.size} ${sha(readFileSync(p))}`;
  }
  return out;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex').slice(0, 16);

/** rel path → content hash of every regular file under dir (user data, database files). */
export function hashFiles(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile()) out[path.relative(dir, p)] = sha(readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

/** Ids of the checks doctor reports as problems. */
export function problems(r: CliResult): string[] {
  return (r.json?.checks ?? []).filter((c: { status: string }) => c.status === 'problem').map((c: { id: string }) => c.id);
}

/** The SPEC's healing cycle: doctor names the problems, a dry run changes nothing, repair --yes heals, doctor is clean. */
export function expectHealed(c: Pick<InitCrypt, 'cli'>, scratchDir: string, expected: string[], opts: { dataDir?: string } = {}): CliResult {
  const before = fingerprint(scratchDir);
  const data = opts.dataDir ? hashFiles(opts.dataDir) : null;
  const doctor = c.cli('doctor', '--json');
  expect(doctor.code, doctor.stdout + doctor.stderr).toBe(1);
  expect(problems(doctor).sort()).toEqual([...expected].sort());
  expect(fingerprint(scratchDir), 'doctor is read-only').toBe(before);
  const dry = c.cli('repair', '--dry-run', '--json');
  expect(dry.code, dry.stderr).toBe(0);
  expect(dry.json.dryRun).toBe(true);
  expect(fingerprint(scratchDir)).toBe(before);
  const repair = c.cli('repair', '--yes', '--json');
  expect(repair.code, repair.stdout + repair.stderr).toBe(0);
  expect(repair.json.healthy).toBe(true);
  const after = c.cli('doctor', '--json');
  expect(after.code, JSON.stringify(after.json?.checks?.filter((k: { status: string }) => k.status !== 'ok'))).toBe(0);
  if (data) expect(hashFiles(opts.dataDir!)).toEqual(data);
  return repair;
}
