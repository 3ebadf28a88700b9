#!/usr/bin/env node
// `npm run bench`: measures the main job on a scratch loopback crypt with a real PostgreSQL 15 and prints
// the figures — init, snapshot phases at two database sizes (the snapshot should not grow with the data),
// snapshot under pgbench load, list, rollback with PostgreSQL's recovery, verify. Nothing is asserted.
// Everything lives under one scratch directory and is removed at the end, even on failure or Ctrl-C.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, appendFileSync, mkdirSync, chmodSync, chownSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startupFigures } from './bench-startup.mjs';

const REPO = path.resolve(import.meta.dirname, '..');
const CLI = path.join(REPO, 'dist/lychd-crypt.js');
const PG = '/usr/lib/postgresql/15/bin';
const SCALES = (process.env.BENCH_SCALES ?? '1,40').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

if (process.getuid() !== 0) {
  console.error('bench: run as root (it creates a loop device and mounts it)');
  process.exit(1);
}
if (!existsSync(CLI)) execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'inherit' });

const S = mkdtempSync('/tmp/lychd-bench-');
chmodSync(S, 0o755);
const CRYPT = path.join(S, 'crypt');
const PGDATA = path.join(CRYPT, 'active/postgres');
const SOCK = path.join(S, 'sock');
process.env.LYCHD_CRYPT_REGISTRY = path.join(S, 'registry'); // a private registry: the host's may hold a crypt of the same name
const pgIds = { uid: Number(sh(['id', '-u', 'postgres'])), gid: Number(sh(['id', '-g', 'postgres'])) };

function sh(argv, opts = {}) {
  return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts }).trim();
}
const asPg = (argv) => ['setpriv', `--reuid=${pgIds.uid}`, `--regid=${pgIds.gid}`, '--clear-groups', ...argv];
const sql = (q) => sh(asPg([`${PG}/psql`, '-h', SOCK, '-d', 'postgres', '-Atqc', q]));
// --json prints one envelope (docs/json.md); the command's document is its data.
const cli = (...args) => JSON.parse(sh(['node', CLI, '--crypt', CRYPT, '--json', ...args])).data;

function timed(fn) {
  const t = performance.now();
  const out = fn();
  return { ms: performance.now() - t, out };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const rows = [];
const report = (what, value, note = '') => {
  rows.push([what, value, note]);
  console.error(`  ${what}: ${value}${note ? `  (${note})` : ''}`);
};

// Start-up (issue 16): `--version` and `--help` against `node -e 0`, interleaved (scripts/bench-startup.mjs).
const startup = startupFigures({ cli: CLI });
for (const r of startup.rows.slice(1))
  report(`start-up: ${r.what}, median of ${startup.rounds}`, fmt(r.medianMs), `${r.ratio.toFixed(2)}× node -e 0 (${fmt(startup.rows[0].medianMs)}), spread ${fmt(r.minMs)}–${fmt(r.maxMs)}${Number.isNaN(r.cpuMs) ? '' : `, cpu ${r.cpuRatio.toFixed(2)}×`}`);

function cleanup() {
  try {
    if (existsSync(path.join(PGDATA, 'postmaster.pid'))) sh(asPg([`${PG}/pg_ctl`, '-D', PGDATA, '-m', 'immediate', '-w', 'stop']));
  } catch {}
  try {
    sh(['umount', CRYPT]);
  } catch {}
  try {
    for (const dev of sh(['losetup', '-n', '-O', 'NAME', '-j', path.join(S, 'crypt.img')]).split('\n').filter(Boolean)) sh(['losetup', '-d', dev]);
  } catch {}
  rmSync(S, { recursive: true, force: true });
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => (cleanup(), process.exit(130)));

function snapshotPhases(label, mode = 'bracket') {
  const { ms, out } = timed(() => cli('snapshot', '--label', label, '--mode', mode));
  return { wall: ms, ...out.snapshot.timings };
}

try {
  console.error(`bench: scratch ${S}`);
  writeFileSync(
    path.join(S, 'answers.yaml'),
    [
      'version: 1',
      `crypt: { path: ${CRYPT}, user: root }`,
      'method: loopback',
      `loopback: { image: ${S}/crypt.img, size: 6G }`,
      `persist: { via: fstab, fstab: ${S}/fstab, unitDir: ${S}/units }`,
      `install: { binDir: ${S}/bin }`,
      `registry: { dir: ${S}/registry, state: ${S}/state }`,
      `postgres: { bin: ${PG}, connection: { host: ${SOCK}, port: 5432 } }`,
      '',
    ].join('\n'),
  );
  const init = timed(() => sh(['node', CLI, 'init', '--answers', path.join(S, 'answers.yaml'), '--yes']));
  report('init (Method B, 6G image, fstab)', fmt(init.ms), 'truncate + mkfs.btrfs + mount + layout + install');
  const again = timed(() => sh(['node', CLI, 'init', '--answers', path.join(S, 'answers.yaml'), '--yes']));
  report('init again (nothing to do)', fmt(again.ms));

  // `snapshot --mode none` against the raw `btrfs subvolume snapshot -r` it wraps, interleaved (no database yet).
  const none = [], raw = [], made = [];
  for (let i = 0; i < ROUNDS; i++) {
    const ours = () => {
      const r = timed(() => cli('snapshot', '--mode', 'none', '--label', `bench-none-${i}`));
      none.push(r.ms);
      made.push(r.out.snapshot.name);
    };
    const theirs = () => {
      const dst = path.join(CRYPT, `.bench-raw-${i}`);
      raw.push(timed(() => sh(['btrfs', 'subvolume', 'snapshot', '-r', path.join(CRYPT, 'active'), dst])).ms);
      sh(['btrfs', 'subvolume', 'delete', dst]);
    };
    if (i % 2) (theirs(), ours());
    else (ours(), theirs());
  }
  report(`snapshot --mode none, median of ${ROUNDS}`, fmt(median(none)), `raw btrfs snapshot -r ${fmt(median(raw))}: +${fmt(median(none) - median(raw))}, ${(median(none) / median(raw)).toFixed(1)}×`);
  cli('delete', ...made);

  mkdirSync(SOCK);
  chownSync(SOCK, pgIds.uid, pgIds.gid);
  sh(asPg([`${PG}/initdb`, '-D', PGDATA, '-A', 'trust', '-U', 'postgres']));
  appendFileSync(path.join(PGDATA, 'postgresql.conf'), `listen_addresses = ''\nunix_socket_directories = '${SOCK}'\n`);
  sh(asPg([`${PG}/pg_ctl`, '-D', PGDATA, '-l', path.join(SOCK, 'postgres.log'), '-w', 'start']));

  for (const scale of SCALES) {
    sh(asPg([`${PG}/pgbench`, '-h', SOCK, '-i', '-q', '-s', String(scale), 'postgres']));
    const size = sql("SELECT pg_size_pretty(pg_database_size('postgres'))");
    const runs = Array.from({ length: ROUNDS }, (_, i) => snapshotPhases(`bench-s${scale}-${i}`));
    const keys = Object.keys(runs[0]);
    report(`snapshot, database ${size} (pgbench scale ${scale}), median of ${ROUNDS}`, fmt(median(runs.map((r) => r.wall))), 'wall time of the command');
    for (const k of keys.filter((k) => k !== 'wall')) report(`  phase ${k}`, fmt(median(runs.map((r) => r[k]))));
  }

  // Under load: pgbench keeps 8 clients writing while snapshots are taken.
  const load = spawn(asPg([`${PG}/pgbench`])[0], [...asPg([`${PG}/pgbench`]).slice(1), '-h', SOCK, '-c', '8', '-j', '4', '-T', '20', 'postgres'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let loadOut = '';
  load.stdout.on('data', (d) => (loadOut += d));
  load.stderr.on('data', (d) => (loadOut += d));
  await new Promise((r) => setTimeout(r, 3000));
  const loaded = [];
  for (let i = 0; i < 3; i++) loaded.push(snapshotPhases(`bench-load-${i}`));
  const code = await new Promise((r) => load.on('exit', r));
  report('snapshot under pgbench load (8 clients), median of 3', fmt(median(loaded.map((r) => r.wall))));
  report('  phases (median)', Object.keys(loaded[0]).filter((k) => k !== 'wall').map((k) => `${k} ${fmt(median(loaded.map((r) => r[k])))}`).join(', '));
  const tps = /tps = ([\d.]+)/.exec(loadOut)?.[1];
  const failed = /number of failed transactions: (\d+)/.exec(loadOut)?.[1] ?? '?';
  report('  pgbench during those snapshots', `${tps ?? '?'} tps, ${failed} failed transactions`, `exit ${code}`);

  const list = timed(() => cli('list'));
  report(`list (${list.out.snapshots.length} snapshots)`, fmt(list.ms));

  const target = list.out.snapshots.at(-1).name;
  const rb = timed(() => cli('rollback', target, '--yes'));
  report('rollback (stop, clone, swap, keep, start, recovery)', fmt(rb.ms), JSON.stringify(rb.out.timings ?? {}));
  const undo = cli('list').snapshots.find((s) => s.origin === 'pre-rollback');
  if (undo) {
    const back = timed(() => cli('rollback', undo.name, '--yes'));
    report('undo the rollback', fmt(back.ms));
  }
  const ver = timed(() => cli('verify', target));
  report('verify (throwaway clone, recovery, checks)', fmt(ver.ms), ver.out.ok ? 'ok' : 'FAILED');
} catch (e) {
  process.exitCode = 1;
  report('stopped by an error', String(e.stderr || e.message).trim().split('\n').at(-1));
} finally {
  cleanup();
}

console.log('\nlychd-crypt bench  (' + new Date().toISOString() + ', ' + sh(['uname', '-r']) + ')');
const w = Math.max(...rows.map((r) => r[0].length));
for (const [what, value, note] of rows) console.log(`${what.padEnd(w)}  ${value}${note ? `   ${note}` : ''}`);
