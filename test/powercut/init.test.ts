// Power cuts inside `init` (Method B, loopback), with existing data at the crypt path migrated into the
// crypt, and without. Unlike the other power-cut tests, logfs here serves a whole ext4 "host" filesystem:
// everything init writes lands on it — the sparse crypt image (mkfs.btrfs, and every Btrfs write and
// flush, which the crypt's loop device turns into an fsync of the image file on the host), the mount
// record underneath the crypt path, the migration's temporary mount point, the rename of the original
// aside, the fstab line, the installed command, the registry entry and the state directory. One log then
// holds all of them in the order the disk saw them, so every replayed flush is a true power-cut state of
// the whole host (no pairing of writes on different filesystems needed).
//
// After each replayed state: the original data is whole somewhere (in place or kept aside) before anything
// runs; re-running `init` with the same answers succeeds, then `repair --yes`, then `doctor` is healthy;
// the crypt is mounted, active/ holds the data whole, exactly one backup holds the original (none without
// data), no temporary mount point is left; what the re-run printed is true; a further `init` does nothing.
import { createHash } from 'node:crypto';
import { chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { problems } from '../helpers/doctor.js';
import { makeUser, type TestUser } from '../helpers/host.js';
import { fstypeAt, runCli, writeAnswers, type CliResult } from '../helpers/init.js';
import { makeRecordedHost, mountReplayed, pickStates, powercutSkipReason, Recorder, replayStates, unmountCrypt } from '../helpers/powercut.js';
import { dirtyStatesBetween } from '../helpers/powercut-log.js';
import { cliSuite } from '../helpers/suite.js';

const skip = powercutSkipReason('root', 'btrfs', 'loop');

/** Files init writes into the crypt path's directory on the host (not user data). */
const TOOL_FILES = new Set(['.lychd-crypt-mount.json', '.lychd-crypt-migrating.json']);

/** rel path → kind, owner and content (hash) or link target: what "the data is whole" compares. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, top: boolean) => {
    for (const name of readdirSync(d).sort()) {
      if (top && (TOOL_FILES.has(name) || name === 'postgres')) continue; // active/postgres is made by init
      const p = path.join(d, name);
      const st = lstatSync(p);
      const rel = path.relative(dir, p);
      if (st.isDirectory()) {
        out[rel] = `d ${st.uid}`;
        walk(p, false);
      } else if (st.isSymbolicLink()) out[rel] = `l ${readlinkSync(p)}`;
      else out[rel] = `f ${st.uid} ${st.size} ${createHash('sha256').update(readFileSync(p)).digest('hex').slice(0, 16)}`;
    }
  };
  walk(dir, true);
  return out;
}

function seed(dir: string, user: TestUser): void {
  mkdirSync(path.join(dir, 'docs/deep'), { recursive: true });
  writeFileSync(path.join(dir, 'docs/deep/a.txt'), 'alpha\n');
  writeFileSync(path.join(dir, '.hidden'), 'h\n');
  symlinkSync('docs/deep/a.txt', path.join(dir, 'link'));
  // Enough data that the copy spans Btrfs commits.
  for (let i = 0; i < 6; i++) writeFileSync(path.join(dir, `blob-${i}.bin`), randomBytes(2 << 20));
  for (const p of ['docs', 'docs/deep', 'docs/deep/a.txt', '.hidden', ...Array.from({ length: 6 }, (_, i) => `blob-${i}.bin`), '.']) {
    chownSync(path.join(dir, p), user.uid, user.gid);
  }
}

describe.skipIf(skip)(`power cut inside init (loopback) ${skip ? `(skipped: ${skip})` : ''}`, () => {
  const suite = cliSuite();

  for (const withData of [true, false]) {
    it(`${withData ? 'migrating existing data' : 'an empty crypt path'}: every durable state converges, the data whole, the output true`, async () => {
      const s = await suite.scratch();
      const { image: hostImg, host, spec } = makeRecordedHost(s, '800M');
      const user = makeUser(s);
      const crypt = path.join(host, 'crypt');
      const image = path.join(host, 'images/crypt.img');
      const answers = writeAnswers(s, {
        crypt: { path: crypt, user: user.name },
        method: 'loopback',
        loopback: { image, size: '400M' },
        persist: { via: 'fstab', fstab: path.join(host, 'etc/fstab'), unitDir: path.join(host, 'etc/systemd/system') },
        install: { binDir: path.join(host, 'bin') },
        registry: { dir: path.join(host, 'registry'), state: path.join(host, 'state') },
      });
      const init = () => runCli(suite.bundle, ['init', '--answers', answers, '--yes', '--json']);
      const crypted = (...args: string[]) => runCli(suite.bundle, ['--crypt', crypt, ...args]);

      let original: Record<string, string> = {};
      {
        const unmount = await mountReplayed(spec);
        try {
          if (withData) {
            mkdirSync(crypt);
            seed(crypt, user);
            original = tree(crypt);
          }
        } finally {
          await unmount();
        }
      }

      // Record init on the host served by logfs.
      const recorder = new Recorder(s, hostImg, spec);
      await recorder.start();
      await recorder.mark('op-start');
      const first = init();
      await recorder.mark('op-end');
      expect(first.code, first.stdout + first.stderr).toBe(0);
      await unmountCrypt(crypt);
      const rec = await recorder.stop();
      const states = dirtyStatesBetween(rec.records, 'op-start', 'op-end');
      const flushes = rec.records.filter((r) => r.kind === 'flush').length;

      const failures: string[] = [];
      const sample = pickStates(states, Number(process.env.LYCHD_POWERCUT_SAMPLE ?? 3));
      const started = Date.now();
      const visited = await replayStates(rec, hostImg, sample, async (st) => {
        const where = `state ${states.indexOf(st.point) + 1}/${states.length} (flush ${st.point.flush})`;
        const fail = (m: string) => failures.push(`${where}: ${m}`);
        const unmount = await mountReplayed(spec);
        try {
          for (const m of judgeState(host, crypt, withData, original, init, crypted)) fail(m);
        } finally {
          await unmountCrypt(crypt);
          await unmount();
        }
      });
      console.log(
        `init ${withData ? 'with' : 'without'} data: ${states.length} durable states (${flushes} flushes), replayed ${visited.length} in ${Math.round((Date.now() - started) / 1000)} s`,
      );
      expect(failures).toEqual([]);
    }, 3_600_000);
  }
});

const backupsOf = (host: string): string[] => readdirSync(host).filter((n) => n.startsWith('crypt.pre-lychd-crypt-'));
const same = (a: Record<string, string>, b: Record<string, string>) => JSON.stringify(a) === JSON.stringify(b);

/** The checks of one replayed state (the host mounted, the crypt not): returns what is wrong. */
function judgeState(
  host: string,
  crypt: string,
  withData: boolean,
  original: Record<string, string>,
  init: () => CliResult,
  crypted: (...args: string[]) => CliResult,
): string[] {
  const out: string[] = [];
  // Before anything runs: the original is whole in place or kept aside, never only half somewhere.
  if (withData) {
    const inPlace = existsSync(crypt) && same(tree(crypt), original);
    const aside = backupsOf(host).some((b) => same(tree(path.join(host, b)), original));
    if (!inPlace && !aside) out.push('at the power cut the original data is neither whole in place nor whole in a backup');
  }
  const rerun = init();
  if (rerun.code !== 0) return [...out, `init again: exit ${rerun.code}: ${rerun.stdout}${rerun.stderr}`];
  // What the re-run printed: "nothing to do" only when there was nothing to do; a migration note names
  // a backup that holds the original and an active/ that holds the copy.
  if (rerun.json?.changed === 0) {
    const doctor = crypted('doctor', '--json');
    if (doctor.code !== 0) out.push(`init again said nothing to do, but doctor found: ${problems(doctor).join(', ') || doctor.stderr}`);
  }
  for (const note of (rerun.json?.notes ?? []) as string[]) {
    const m = /^existing data in (.+) will be copied into (.+); the original will be kept in (.+)$/.exec(note);
    if (!m) continue;
    if (!withData) out.push(`init again claims a migration with no data: ${note}`);
    else {
      if (!existsSync(m[3]!) || !same(tree(m[3]!), original)) out.push(`init again says the original is kept in ${m[3]}, but it is not whole there`);
      if (!existsSync(m[2]!) || !same(tree(m[2]!), original)) out.push(`init again says the data was copied into ${m[2]}, but it is not whole there`);
    }
  }
  const repair = crypted('repair', '--yes', '--json');
  if (repair.code !== 0) out.push(`repair: exit ${repair.code}: ${repair.stdout}${repair.stderr}`);
  const doctor = crypted('doctor', '--json');
  if (doctor.code !== 0) out.push(`doctor after init and repair: ${problems(doctor).join(', ') || doctor.stdout + doctor.stderr}`);
  if (fstypeAt(crypt) !== 'btrfs') return [...out, `the crypt is not mounted (${fstypeAt(crypt)})`];
  const active = path.join(crypt, 'active');
  const backups = backupsOf(host);
  if (withData) {
    if (!existsSync(active) || !same(tree(active), original)) out.push(`active/ does not hold the data whole: ${JSON.stringify(diff(original, existsSync(active) ? tree(active) : {}))}`);
    const whole = backups.filter((b) => same(tree(path.join(host, b)), original));
    if (whole.length !== 1 || backups.length !== 1) out.push(`backups: ${backups.join(', ') || 'none'} (${whole.length} whole; expected exactly one)`);
  } else {
    if (!existsSync(path.join(active, 'postgres'))) out.push('active/postgres is missing');
    if (backups.length) out.push(`a backup was made with no data: ${backups.join(', ')}`);
  }
  // The migration's temporary mount point is root's, in the state directory (registry.state, on this host).
  const state = path.join(host, 'state');
  const temp = existsSync(state) ? readdirSync(state).filter((n) => n.endsWith('.migrate')) : [];
  if (temp.length) out.push(`temporary mount point left: ${temp.join(', ')}`);
  const again = init();
  if (again.code !== 0 || again.json?.changed !== 0) out.push(`a further init is not a no-op: exit ${again.code}, changed ${again.json?.changed}: ${again.stderr}`);
  return out;
}

function diff(want: Record<string, string>, got: Record<string, string>): string[] {
  const keys = [...new Set([...Object.keys(want), ...Object.keys(got)])].sort();
  return keys.filter((k) => want[k] !== got[k]).map((k) => `${k}: ${want[k] ?? '(none)'} → ${got[k] ?? '(none)'}`);
}
