#!/usr/bin/env node
// `npm run bench [-- --quick]`: measures the main job on a scratch loopback crypt with a real PostgreSQL 15 and
// prints the figures — init, snapshot phases at two database sizes (the snapshot should not grow with the
// data), snapshot under pgbench load, list, rollback with PostgreSQL's recovery, verify — side by side with
// what users would pick instead (raw btrfs, the hand psql bracket, pg_basebackup, btrbk), each snapshot
// mode's dip under pgbench, replication's full and incremental sends (sizes, times), and the live database's TPS
// on the crypt against the host (scripts/bench-live.mjs).
// Writes bench/results.json. Nothing is asserted. Everything lives under one scratch directory and is
// removed at the end, even on failure or Ctrl-C. --quick: about 2 minutes; the full run within 15.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, appendFileSync, mkdirSync, chmodSync, chownSync, existsSync, rmSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runArgv, SEA, startupFigures } from './bench-startup.mjs';
import { liveFigures, liveRows } from './bench-live.mjs';

const REPO = path.resolve(import.meta.dirname, '..');
// The command as the .deb ships it: the single executable (scripts/build-sea.mjs); init installs a copy of it.
const CLI = SEA;
const PG = '/usr/lib/postgresql/15/bin';
const QUICK = process.argv.includes('--quick');
const SCALES = (process.env.BENCH_SCALES ?? (QUICK ? '1,10' : '1,40')).split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 2 : 5));
// `snapshot --mode none` is a tenth of a second: more rounds cost little and steady its median.
const NONE_ROUNDS = QUICK ? 5 : 15;
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const results = {
  date: new Date().toISOString(),
  quick: QUICK,
  machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release(), node: process.version },
  loadBefore: loadavg(),
};

if (process.getuid() !== 0) {
  console.error('bench: run as root (it creates a loop device and mounts it)');
  process.exit(1);
}
if (!existsSync(CLI)) execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'inherit' }); // the runtime and the single executable

const S = mkdtempSync('/tmp/lychd-bench-');
chmodSync(S, 0o755);
const CRYPT = path.join(S, 'crypt');
const PGDATA = path.join(CRYPT, 'active/postgres');
const SOCK = path.join(S, 'sock');
// The device migrate moves the crypt onto (a loop device: the kernel here reads no partition tables).
const DISK = path.join(S, 'disk.img');
process.env.LYCHD_CRYPT_REGISTRY = path.join(S, 'registry'); // a private registry: the host's may hold a crypt of the same name
const pgIds = { uid: Number(sh(['id', '-u', 'postgres'])), gid: Number(sh(['id', '-g', 'postgres'])) };

function sh(argv, opts = {}) {
  return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts }).trim();
}
const asPg = (argv) => ['setpriv', `--reuid=${pgIds.uid}`, `--regid=${pgIds.gid}`, '--clear-groups', ...argv];
const sql = (q) => sh(asPg([`${PG}/psql`, '-h', SOCK, '-d', 'postgres', '-Atqc', q]));
// --json prints one envelope (docs/json.md); the command's document is its data.
const cli = (...args) => JSON.parse(sh([...runArgv(CLI), '--crypt', CRYPT, '--json', ...args])).data;

function timed(fn) {
  const t = performance.now();
  const out = fn();
  return { ms: performance.now() - t, out };
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const stats = (xs) => ({ n: xs.length, median: Math.round(median(xs) * 10) / 10, min: Math.round(Math.min(...xs) * 10) / 10, max: Math.round(Math.max(...xs) * 10) / 10 });
const have = (cmd) => (process.env.PATH ?? '').split(':').some((d) => d && existsSync(path.join(d, cmd)));
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const rows = [];
const report = (what, value, note = '') => {
  rows.push([what, value, note]);
  console.error(`  ${what}: ${value}${note ? `  (${note})` : ''}`);
};

// Start-up (issue 16): `--version` and `--help` against `node -e 0`, interleaved (scripts/bench-startup.mjs).
const startup = startupFigures(QUICK ? { rounds: 7 } : {});
results.startup = startup.rows;
for (const r of startup.rows.slice(1))
  report(`start-up: ${r.what}, median of ${startup.rounds}`, fmt(r.medianMs), `${r.ratio.toFixed(2)}× ${r.vs} (${fmt(startup.rows.find((b) => b.what === r.vs).medianMs)}), spread ${fmt(r.minMs)}–${fmt(r.maxMs)}${Number.isNaN(r.cpuMs) ? '' : `, cpu ${r.cpuRatio.toFixed(2)}×`}`);

function cleanup() {
  try {
    if (existsSync(path.join(PGDATA, 'postmaster.pid'))) sh(asPg([`${PG}/pg_ctl`, '-D', PGDATA, '-m', 'immediate', '-w', 'stop']));
  } catch {}
  try {
    sh(['umount', CRYPT]);
  } catch {}
  try {
    for (const img of [path.join(S, 'crypt.img'), DISK]) for (const dev of sh(['losetup', '-n', '-O', 'NAME', '-j', img]).split('\n').filter(Boolean)) sh(['losetup', '-d', dev]);
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
      // An off-host target for the replication figures: a directory of zstd send streams (docs/replicate.md).
      // keepLast 1: the first run sends only the newest snapshot (a full), not every older one.
      `replicate: { schedule: false, targets: [ { name: bench, url: "file://${S}/bucket", retention: { keepLast: 1 } } ] }`,
      '',
    ].join('\n'),
  );
  const init = timed(() => sh([...runArgv(CLI), 'init', '--answers', path.join(S, 'answers.yaml'), '--yes']));
  report('init (Method B, 6G image, fstab)', fmt(init.ms), 'truncate + mkfs.btrfs + mount + layout + install');
  const again = timed(() => sh([...runArgv(CLI), 'init', '--answers', path.join(S, 'answers.yaml'), '--yes']));
  report('init again (nothing to do)', fmt(again.ms));

  // `snapshot --mode none` against the raw `btrfs subvolume snapshot -r` it wraps, and btrbk/snapper where
  // installed (Debian packages; scripts/setup.sh installs btrbk), interleaved (no database yet).
  const none = [], raw = [], made = [], btrbk = [];
  const hasBtrbk = have('btrbk');
  const btrbkConf = path.join(S, 'btrbk.conf');
  if (hasBtrbk) {
    mkdirSync(path.join(CRYPT, '.btrbk'));
    writeFileSync(btrbkConf, `timestamp_format long-iso\nsnapshot_preserve_min all\nsnapshot_dir .btrbk\nvolume ${CRYPT}\n  subvolume active\n`);
  }
  // One untimed run first: the page cache, and the command's code cache, as from a user's second run on.
  cli('delete', cli('snapshot', '--mode', 'none', '--label', 'bench-warm-up').snapshot.name, '--yes');
  for (let i = 0; i < NONE_ROUNDS; i++) {
    if (hasBtrbk) {
      btrbk.push(timed(() => sh(['btrbk', '-q', '-c', btrbkConf, 'snapshot'])).ms);
      for (const d of sh(['ls', path.join(CRYPT, '.btrbk')]).split('\n').filter(Boolean)) sh(['btrfs', 'subvolume', 'delete', path.join(CRYPT, '.btrbk', d)]);
    }
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
  report(`snapshot --mode none, median of ${NONE_ROUNDS}`, fmt(median(none)), `raw btrfs snapshot -r ${fmt(median(raw))}: +${fmt(median(none) - median(raw))}, ${(median(none) / median(raw)).toFixed(1)}×`);
  report('  btrbk snapshot (same subvolume)', hasBtrbk ? fmt(median(btrbk)) : 'not installed', hasBtrbk ? `lychd-crypt ${(median(none) / median(btrbk)).toFixed(2)}× btrbk` : '');
  report('  snapper', have('snapper') ? 'installed but not measured (needs a D-Bus daemon and a config)' : 'not installed', 'its Debian package pulls in boost and timers; setup does not install it');
  results.snapshotNone = { lychd: stats(none), raw: stats(raw), btrbk: hasBtrbk ? stats(btrbk) : null };
  cli('delete', ...made, '--yes');

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

  // Off-host copies (docs/replicate.md): a full send of the largest database, then incrementals, each after a
  // few seconds of pgbench, to a file:// target. Sizes of the btrfs stream and of the zstd file written, and
  // the wall time of each `replicate` run (send + compress + fsync + checksum).
  {
    const size = sql("SELECT pg_size_pretty(pg_database_size('postgres'))");
    const made = [cli('snapshot', '--label', 'bench-rep-0').snapshot.name];
    const full = timed(() => cli('replicate'));
    const sent = (r) => r.out.targets[0].sent[0];
    const incs = [];
    for (let i = 1; i <= (QUICK ? 2 : 4); i++) {
      sh(asPg([`${PG}/pgbench`, '-h', SOCK, '-c', '2', '-T', '3', '--no-vacuum', 'postgres']));
      made.push(cli('snapshot', '--label', `bench-rep-${i}`).snapshot.name);
      incs.push(timed(() => cli('replicate')));
    }
    const mib = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
    const f = sent(full);
    if (full.out.targets[0].sent.length !== 1 || f.kind !== 'full') throw new Error(`replicate: expected one full send, got ${JSON.stringify(full.out.targets[0].sent)}`);
    report(`replicate: full send, database ${size}, file:// target`, fmt(full.ms), `btrfs stream ${mib(f.rawBytes)}, zstd file ${mib(f.bytes)}`);
    const raw = median(incs.map((r) => sent(r).rawBytes));
    const zst = median(incs.map((r) => sent(r).bytes));
    report(`replicate: incremental after 3 s of pgbench (2 clients), median of ${incs.length}`, fmt(median(incs.map((r) => r.ms))), `btrfs stream ${mib(raw)} (${((raw / f.rawBytes) * 100).toFixed(1)} % of the full), zstd file ${mib(zst)} (${((zst / f.bytes) * 100).toFixed(1)} %)`);
    results.replicate = { size, full: { ms: full.ms, rawBytes: f.rawBytes, bytes: f.bytes }, incremental: incs.map((r) => ({ ms: r.ms, rawBytes: sent(r).rawBytes, bytes: sent(r).bytes, kind: sent(r).kind })) };
    cli('delete', ...made, '--yes');
  }

  // The Ritual against the same bracket typed by hand: four lines of psql on one session, idle server,
  // interleaved. The Ritual's in-process time (its own phases, without node's start) is reported too.
  const PSQL = `${PG}/psql`;
  const ours = [], inproc = [], hand = [], handMade = [], oursMade = [];
  for (let i = 0; i < ROUNDS; i++) {
    const a = () => {
      const r = timed(() => cli('snapshot', '--label', `bench-bracket-${i}`));
      ours.push(r.ms);
      inproc.push(r.out.snapshot.timings.total);
      oursMade.push(r.out.snapshot.name);
    };
    const b = () => {
      const dst = path.join(CRYPT, `.bench-hand-${i}`);
      const script = `CHECKPOINT;\nSELECT pg_backup_start('hand', true);\n\\! btrfs subvolume snapshot -r ${path.join(CRYPT, 'active')} ${dst} >/dev/null\nSELECT * FROM pg_backup_stop(false);\n`;
      hand.push(timed(() => sh([PSQL, '-h', SOCK, '-U', 'postgres', '-d', 'postgres', '-X', '-q', '-v', 'ON_ERROR_STOP=1'], { input: script, stdio: ['pipe', 'pipe', 'pipe'] })).ms);
      handMade.push(dst);
    };
    if (i % 2) (b(), a());
    else (a(), b());
  }
  report(`snapshot (bracket), idle server, median of ${ROUNDS}`, fmt(median(ours)), `hand psql bracket ${fmt(median(hand))}: ${(median(ours) / median(hand)).toFixed(2)}×; the Ritual in-process ${fmt(median(inproc))} (${(median(inproc) / median(hand)).toFixed(2)}×)`);
  results.bracket = { lychd: stats(ours), inProcess: stats(inproc), hand: stats(hand) };
  for (const d of handMade) sh(['btrfs', 'subvolume', 'delete', d]);
  cli('delete', ...oursMade, '--yes');

  // pg_basebackup (the usual alternative): a plain-format backup with streamed WAL, and its restore (stop,
  // swap the directory in, start, recovery) against lychd-crypt's snapshot and rollback.
  {
    const bb = path.join(SOCK, 'basebackup'); // postgres writes it: inside its own directory
    const back = timed(() => sh(asPg([`${PG}/pg_basebackup`, '-h', SOCK, '-D', bb, '-Fp', '-X', 'stream', '-c', 'fast'])));
    const snap = timed(() => cli('snapshot', '--label', 'bench-vs-basebackup'));
    const size = sql("SELECT pg_size_pretty(pg_database_size('postgres'))");
    report(`pg_basebackup (database ${size})`, fmt(back.ms), `lychd-crypt snapshot ${fmt(snap.ms)}: ${(snap.ms / back.ms).toFixed(2)}×`);
    const restore = timed(() => {
      sh(asPg([`${PG}/pg_ctl`, '-D', PGDATA, '-m', 'fast', '-w', 'stop']));
      rmSync(PGDATA, { recursive: true, force: true });
      sh(['cp', '-a', '--reflink=never', bb, PGDATA]);
      sh(asPg([`${PG}/pg_ctl`, '-D', PGDATA, '-l', path.join(SOCK, 'postgres.log'), '-w', 'start']));
    });
    rmSync(bb, { recursive: true, force: true });
    const rb = timed(() => cli('rollback', snap.out.snapshot.name, '--yes'));
    report('restore of that pg_basebackup (stop, copy back, start, recovery)', fmt(restore.ms), `lychd-crypt rollback ${fmt(rb.ms)}: ${(rb.ms / restore.ms).toFixed(2)}×`);
    results.basebackup = { backupMs: back.ms, snapshotMs: snap.ms, restoreMs: restore.ms, rollbackMs: rb.ms, size };
  }

  // The dip under load: pgbench (8 clients, --progress=1) while one snapshot is taken in each mode; the worst
  // 1-second bucket against the median bucket of the same run, and what that snapshot costs at rollback
  // (start + recovery: a snapshot without a fresh checkpoint replays more WAL).
  const DIP_SECS = QUICK ? 6 : 16;
  // `control`: the same pgbench run without a snapshot, so the machine's own noise floor shows beside the dips.
  const dipModes = ['control', 'bracket', 'checkpoint', 'instant'];
  results.dip = {};
  for (const mode of QUICK ? dipModes : [...dipModes, ...[...dipModes].reverse()]) {
    const bench = spawn(asPg([`${PG}/pgbench`])[0], [...asPg([`${PG}/pgbench`]).slice(1), '-h', SOCK, '-M', 'prepared', '-c', '8', '-j', '2', '-T', String(DIP_SECS), '-P', '1', 'postgres'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    bench.stdout.on('data', (d) => (out += d));
    bench.stderr.on('data', (d) => (out += d));
    await new Promise((r) => setTimeout(r, (DIP_SECS / 2) * 1000));
    const snap = mode === 'control' ? null : timed(() => cli('snapshot', '--mode', mode, '--label', `bench-dip-${mode}`));
    const code = await new Promise((r) => bench.on('exit', r));
    const buckets = [...out.matchAll(/progress: [\d.]+ s, ([\d.]+) tps/g)].map((m) => Number(m[1])).slice(1, -1);
    const failed = /number of failed transactions: (\d+)/.exec(out)?.[1] ?? '?';
    const rb = snap ? cli('rollback', snap.out.snapshot.name, '--yes') : { recoveryMs: null };
    const e = (results.dip[mode] ??= { worstOverMedian: [], recoveryMs: [], snapshotMs: [], failed: [], exit: [] });
    e.worstOverMedian.push(buckets.length ? Math.round((Math.min(...buckets) / median(buckets)) * 100) / 100 : null);
    e.recoveryMs.push(rb.recoveryMs);
    e.snapshotMs.push(snap ? Math.round(snap.ms) : null);
    e.failed.push(failed);
    e.exit.push(code);
  }
  for (const [mode, e] of Object.entries(results.dip)) {
    if (mode === 'control') report('dip: pgbench alone (no snapshot: the noise floor)', `worst 1-s bucket ${e.worstOverMedian.join(', ')} × median`);
    else report(`dip: snapshot --mode ${mode} under pgbench (8 clients)`, `worst 1-s bucket ${e.worstOverMedian.join(', ')} × median`, `rollback start+recovery ${e.recoveryMs.map((x) => fmt(x)).join(', ')}; snapshot ${e.snapshotMs.map((x) => fmt(x)).join(', ')}; failed transactions ${e.failed.join(', ')}`);
  }

  // One untimed run first (the page cache, and list's code cache), then the median of ROUNDS.
  cli('list');
  const lists = Array.from({ length: ROUNDS }, () => timed(() => cli('list')));
  const list = lists.at(-1);
  report(`list (${list.out.snapshots.length} snapshots), median of ${ROUNDS}`, fmt(median(lists.map((l) => l.ms))));

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

  // The live WAL outside the crypt (docs/wal.md), on the same cluster: init moves its pg_wal out (server
  // stopped, consent); then each snapshot copies the backup's WAL range into itself after pg_backup_stop, and a
  // rollback fills a fresh WAL generation from the snapshot. The copy's own time is in the snapshot's metadata.
  {
    const walDir = path.join(S, 'wal');
    mkdirSync(walDir, { mode: 0o755 });
    const answersWal = path.join(S, 'answers-wal.yaml');
    writeFileSync(answersWal, readFileSync(path.join(S, 'answers.yaml'), 'utf8').replace(`postgres: { bin: ${PG},`, `postgres: { bin: ${PG}, walDir: ${walDir},`));
    sh(asPg([`${PG}/pg_ctl`, '-D', PGDATA, '-m', 'fast', '-w', 'stop']));
    const moved = timed(() => sh([...runArgv(CLI), 'init', '--answers', answersWal, '--yes']));
    report('outside WAL: init moves pg_wal out of the crypt (server stopped)', fmt(moved.ms));
    sh(asPg([`${PG}/pg_ctl`, '-D', PGDATA, '-l', path.join(SOCK, 'postgres.log'), '-w', 'start']));
    const size = sql("SELECT pg_size_pretty(pg_database_size('postgres'))");
    const snaps = Array.from({ length: ROUNDS }, (_, i) => {
      const r = timed(() => cli('snapshot', '--label', `bench-wal-${i}`));
      const wal = JSON.parse(readFileSync(path.join(CRYPT, 'snapshots', `${r.out.snapshot.name}.json`), 'utf8')).postgres.wal;
      return { ms: r.ms, copyMs: wal.copyMs, bytes: wal.bytes, segments: wal.segments.count, name: r.out.snapshot.name };
    });
    report(
      `outside WAL: snapshot, database ${size}, median of ${ROUNDS}`,
      fmt(median(snaps.map((x) => x.ms))),
      `of which the WAL copy ${fmt(median(snaps.map((x) => x.copyMs)))} (${median(snaps.map((x) => x.segments))} segment(s), ${(median(snaps.map((x) => x.bytes)) / 2 ** 20).toFixed(0)} MiB); compare "snapshot (bracket), idle server" above`,
    );
    const wrb = timed(() => cli('rollback', snaps[0].name, '--yes'));
    report('outside WAL: rollback (as above, plus a fresh WAL generation filled from the snapshot)', fmt(wrb.ms), JSON.stringify(wrb.out.timings ?? {}));
    results.walOutside = { moveMs: moved.ms, snapshots: snaps.map(({ name, ...x }) => x), rollbackMs: wrb.ms };
  }

  // Capacity (docs/capacity.md), last because it moves the crypt: grow the image by 1G online and shrink it
  // by 512M, the server running, then move the crypt onto a loop device standing in for a partition (btrfs replace).
  {
    const grow = timed(() => cli('resize', '--size', '+1G'));
    report('resize: grow the 6G image by 1G online (file, loop device, Btrfs)', fmt(grow.ms));
    // Not back to 6G: the snapshots taken above hold more than 6G less the reserve by now (resize refuses that).
    const shrink = timed(() => cli('resize', '--size', '6656M'));
    report('resize: shrink it by 512M online (to 6.5G)', fmt(shrink.ms));
    // btrfs replace wants unallocated room, which the shrink just gave back: grow again first (untimed).
    cli('resize', '--size', '+1G');
    sh(['truncate', '-s', '8G', DISK]);
    const dev = sh(['losetup', '--find', '--show', DISK]);
    const used = sh(['df', '--output=used', '-B1', CRYPT]).split('\n').at(-1)?.trim(); // what replace copies: allocated, shared extents once
    const mig = timed(() => cli('migrate', '--to-device', dev, '--yes'));
    report('migrate: onto an 8G loop device standing in for a partition, online (btrfs replace)', fmt(mig.ms), `${(Number(used) / 2 ** 30).toFixed(2)} GiB used on the crypt`);
    results.capacity = { growMs: grow.ms, shrinkMs: shrink.ms, migrateMs: mig.ms, usedBytes: Number(used) };
  }
} catch (e) {
  process.exitCode = 1;
  report('stopped by an error', String(e.stderr || e.message).trim().split('\n').at(-1));
} finally {
  cleanup();
}

// The live database on the crypt against the host's own filesystem (its own scratch, after the crypt above is gone).
if (process.env.BENCH_LIVE !== '0') {
  try {
    results.live = liveFigures({ quick: QUICK, log: (m) => console.error(m) });
    for (const [what, rw, ro] of liveRows(results.live)) report(what, rw, ro);
  } catch (e) {
    process.exitCode = 1;
    report('live database: stopped by an error', String(e.stderr || e.message).trim().split('\n').at(-1));
  }
}
results.loadAfter = loadavg();
results.rows = rows;
mkdirSync(path.join(REPO, 'bench'), { recursive: true });
writeFileSync(path.join(REPO, 'bench/results.json'), `${JSON.stringify(results, null, 2)}\n`);
console.error(`bench: wrote bench/results.json (load ${results.loadBefore} before, ${results.loadAfter} after)`);

console.log(`\nlychd-crypt bench${QUICK ? ' --quick' : ''}  (${results.date}, ${sh(['uname', '-r'])}, ${results.machine.cpus} × ${results.machine.model}, load ${results.loadBefore} → ${results.loadAfter})`);
const w = Math.max(...rows.map((r) => r[0].length));
for (const [what, value, note] of rows) console.log(`${what.padEnd(w)}  ${value}${note ? `   ${note}` : ''}`);
