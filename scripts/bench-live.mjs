#!/usr/bin/env node
// Live-database figures (issue 16): pgbench TPS (read-write and read-only, -M prepared, 8 clients) with PGDATA
// on the host's own filesystem (the baseline: what a Method B user had before the crypt), on a crypt exactly
// as `init` mounts it, and on that crypt with one candidate lever each; plus a Method A stand-in, the crypt with
// pg_wal on the host's filesystem (issue 30), and the baseline a second time as the run's noise floor. Every
// candidate runs its own PostgreSQL 15 (copies of one pgbench cluster), all started at once; rounds go
// a b c … c b a so a busy machine slows every candidate alike, and a CHECKPOINT after each run keeps one
// run's dirty pages out of the next. Medians with min–max, ratios against the baseline (of the medians, and
// paired: the median of the per-round ratios). Nothing is asserted.
// Run alone (`node scripts/bench-live.mjs [--quick]`, as root) or from `npm run bench`.
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';

const PG = '/usr/lib/postgresql/15/bin';
// The crypt's mount as `init` makes it (DEFAULT_MOUNT_OPTIONS in src/model/config.ts).
const INIT_OPTS = ['noatime', 'compress=zstd:1'];

/**
 * The candidates. `image`: sparse (truncate, as init) or preallocated (fallocate); `losetup`: extra losetup
 * flags (none: `mount -o loop` sets the device up, as init does); `opts`: extra mount options (all keep
 * fsync durable: never nobarrier); `pgconf`: extra postgresql.conf lines.
 */
export const CANDIDATES = [
  { id: 'host', what: "PGDATA on the host's own filesystem (baseline)" },
  // The same as the baseline, a second server: its ratio to the baseline is the noise floor of the run.
  { id: 'host2', what: 'the baseline again (the noise floor)' },
  { id: 'crypt', what: 'crypt as init mounts it (sparse image, mount -o loop)', image: 'sparse' },
  { id: 'dio', what: '+ direct I/O on the loop device', image: 'sparse', losetup: ['--direct-io=on'] },
  { id: 'sector4k', what: '+ loop sector size 4096', image: 'sparse', losetup: ['--sector-size', '4096'] },
  { id: 'dio4k', what: '+ direct I/O and sector size 4096', image: 'sparse', losetup: ['--direct-io=on', '--sector-size', '4096'] },
  { id: 'prealloc', what: '+ preallocated image (fallocate)', image: 'prealloc' },
  { id: 'mountopts', what: '+ mount options ssd,commit=120,space_cache=v2', image: 'sparse', opts: ['ssd', 'commit=120', 'space_cache=v2'] },
  { id: 'pgconf', what: '+ wal_init_zero=off, wal_recycle=off', image: 'sparse', pgconf: ['wal_init_zero = off', 'wal_recycle = off'] },
  { id: 'methodA', what: 'Method A stand-in (preallocated file, direct-I/O loop as the "partition")', image: 'prealloc', losetup: ['--direct-io=on'] },
  // Issue 30: PGDATA in the crypt, pg_wal a link to a directory on the host's filesystem (scripts/bench-wal.mjs).
  { id: 'walout', what: "crypt as init mounts it, pg_wal on the host's filesystem", image: 'sparse', walOutside: true },
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function sh(argv, opts = {}) {
  return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts }).trim();
}

export function liveFigures({ quick = false, log = (m) => console.error(m), only = process.env.BENCH_LIVE_ONLY?.split(',') } = {}) {
  const scale = Number(process.env.BENCH_LIVE_SCALE ?? (quick ? 10 : 30));
  const rounds = Number(process.env.BENCH_LIVE_ROUNDS ?? (quick ? 2 : 4));
  const rwSecs = Number(process.env.BENCH_LIVE_RW_SECS ?? (quick ? 2 : 8));
  const roSecs = Number(process.env.BENCH_LIVE_RO_SECS ?? (quick ? 1 : 4));
  const cands = CANDIDATES.filter((c) => !only || only.includes(c.id));
  const pgIds = { uid: Number(sh(['id', '-u', 'postgres'])), gid: Number(sh(['id', '-g', 'postgres'])) };
  const asPg = (argv) => ['setpriv', `--reuid=${pgIds.uid}`, `--regid=${pgIds.gid}`, '--clear-groups', ...argv];
  // On the same filesystem as the images, so every candidate ends on the same disk.
  const S = mkdtempSync('/var/tmp/lychd-bench-live-');
  chmodSync(S, 0o755);
  const loops = [];
  const mounts = [];
  const servers = [];
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

  function cleanup() {
    for (const d of servers) {
      try {
        sh(asPg([`${PG}/pg_ctl`, '-D', d, '-m', 'immediate', '-w', 'stop']));
      } catch {}
    }
    for (const m of mounts.reverse()) {
      try {
        sh(['umount', m]);
      } catch {}
    }
    for (const l of loops) {
      try {
        sh(['losetup', '-d', l]);
      } catch {}
    }
    // `mount -o loop` devices are auto-cleared on umount; any left over are found by their backing file.
    try {
      for (const line of sh(['losetup', '-n', '-O', 'NAME,BACK-FILE']).split('\n')) {
        const [dev, file] = line.trim().split(/\s+/);
        if (file?.startsWith(S)) sh(['losetup', '-d', dev]);
      }
    } catch {}
    rmSync(S, { recursive: true, force: true });
  }

  const result = { scale, rounds, clients: 8, rwSecs, roSecs, loadBefore: load(), candidates: [] };
  try {
    // One cluster, built once on the host and copied to every candidate (pgbench -i per candidate costs more).
    const tmpl = path.join(S, 'template');
    mkdirSync(tmpl, { mode: 0o700 });
    chownSync(tmpl, pgIds.uid, pgIds.gid);
    const sock0 = path.join(S, 'sock-template');
    mkdirSync(sock0);
    chownSync(sock0, pgIds.uid, pgIds.gid);
    sh(asPg([`${PG}/initdb`, '-D', tmpl, '-A', 'trust', '-U', 'postgres']));
    appendFileSync(path.join(tmpl, 'postgresql.conf'), `listen_addresses = ''\nunix_socket_directories = '${sock0}'\n`);
    sh(asPg([`${PG}/pg_ctl`, '-D', tmpl, '-l', path.join(sock0, 'log'), '-w', 'start']));
    servers.push(tmpl);
    sh(asPg([`${PG}/pgbench`, '-h', sock0, '-i', '-q', '-I', 'dtGvp', '-s', String(scale), 'postgres']));
    sh(asPg([`${PG}/pg_ctl`, '-D', tmpl, '-w', 'stop']));
    servers.pop();

    for (const c of cands) {
      const root = path.join(S, c.id);
      mkdirSync(root);
      let pgdata;
      if (c.id === 'host' || c.id === 'host2') {
        pgdata = path.join(root, 'postgres');
      } else {
        const img = path.join(S, `${c.id}.img`);
        sh(c.image === 'prealloc' ? ['fallocate', '-l', '4G', img] : ['truncate', '-s', '4G', img]);
        const opts = [...INIT_OPTS, ...(c.opts ?? [])];
        if (c.losetup) {
          const dev = sh(['losetup', '--find', '--show', ...c.losetup, img]);
          loops.push(dev);
          sh(['mkfs.btrfs', '-q', dev]);
          sh(['mount', '-t', 'btrfs', '-o', opts.join(','), dev, root]);
        } else {
          sh(['mkfs.btrfs', '-q', img]);
          sh(['mount', '-t', 'btrfs', '-o', ['loop', ...opts].join(','), img, root]);
        }
        mounts.push(root);
        sh(['btrfs', 'subvolume', 'create', path.join(root, 'active')]);
        pgdata = path.join(root, 'active/postgres');
      }
      // As init prepares PGDATA: an empty no-CoW directory (chattr +C is inherited by what is copied in).
      mkdirSync(pgdata, { mode: 0o700 });
      if (!c.id.startsWith('host')) sh(['chattr', '+C', pgdata]);
      sh(['cp', '-a', '--reflink=never', `${tmpl}/.`, pgdata]);
      if (c.walOutside) {
        // What initdb --waldir makes: pg_wal a link to a directory of the same owner on the host's filesystem.
        const wal = path.join(S, `${c.id}-wal`);
        sh(['mv', path.join(pgdata, 'pg_wal'), wal]);
        sh(['ln', '-s', wal, path.join(pgdata, 'pg_wal')]);
      }
      const sock = path.join(S, `sock-${c.id}`);
      mkdirSync(sock);
      chownSync(sock, pgIds.uid, pgIds.gid);
      appendFileSync(path.join(pgdata, 'postgresql.conf'), [`unix_socket_directories = '${sock}'`, ...(c.pgconf ?? []), ''].join('\n'));
      sh(asPg([`${PG}/pg_ctl`, '-D', pgdata, '-l', path.join(sock, 'log'), '-w', 'start']));
      servers.push(pgdata);
      const loopInfo = c.id.startsWith('host') ? null : sh(['findmnt', '-n', '-o', 'SOURCE', root]);
      // A file for the flush probe, beside the WAL (same no-CoW directory), written once so later writes overwrite.
      const probe = path.join(pgdata, c.walOutside ? 'pg_wal/bench-flush-probe' : 'bench-flush-probe');
      sh(['dd', 'if=/dev/zero', `of=${probe}`, 'bs=1M', 'count=8', 'conv=fsync', 'status=none']);
      result.candidates.push({ ...c, sock, pgdata, probe, device: loopInfo, rw: [], ro: [], flushUs: [] });
    }
    sh(['sync']);

    const pgbench = (sock, secs, readOnly) => {
      const out = sh(asPg([`${PG}/pgbench`, '-h', sock, '-M', 'prepared', '-c', '8', '-j', '2', '-T', String(secs), ...(readOnly ? ['-S'] : []), 'postgres']));
      const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(out)?.[1];
      if (!tps) throw new Error(`pgbench printed no tps: ${out.split('\n').slice(-3).join(' | ')}`);
      return Number(tps);
    };
    // The flush path alone, which decides read-write TPS here: 8 kB O_DSYNC overwrites, microseconds each.
    // Mostly waiting on the disk, so CPU load from other work distorts it less than pgbench.
    const FLUSHES = 400;
    const flush = (file) => {
      const t = process.hrtime.bigint();
      sh(['dd', 'if=/dev/zero', `of=${file}`, 'bs=8k', `count=${FLUSHES}`, 'oflag=dsync', 'conv=notrunc', 'status=none']);
      return Number(process.hrtime.bigint() - t) / 1000 / FLUSHES;
    };
    const checkpoint = (sock) => sh(asPg([`${PG}/psql`, '-h', sock, '-d', 'postgres', '-Atqc', 'checkpoint']));

    log(`  live database: ${result.candidates.length} candidates, scale ${scale}, ${rounds} rounds, rw ${rwSecs} s / ro ${roSecs} s, load ${result.loadBefore}`);
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? [...result.candidates].reverse() : result.candidates;
      for (const c of order) {
        c.flushUs.push(flush(c.probe));
        c.rw.push(pgbench(c.sock, rwSecs, false));
        checkpoint(c.sock);
        c.ro.push(pgbench(c.sock, roSecs, true));
      }
      log(`    round ${r + 1}/${rounds} done (load ${load()})`);
    }
    result.loadAfter = load();
    const base = result.candidates.find((c) => c.id === 'host');
    for (const c of result.candidates) {
      c.flushMedianUs = Math.round(median(c.flushUs));
      c.flushMinUs = Math.round(Math.min(...c.flushUs));
      c.flushMaxUs = Math.round(Math.max(...c.flushUs));
      c.flushRatio = base ? Math.round((median(c.flushUs) / median(base.flushUs)) * 100) / 100 : null;
      for (const k of ['rw', 'ro']) {
        c[`${k}Median`] = Math.round(median(c[k]));
        c[`${k}Min`] = Math.round(Math.min(...c[k]));
        c[`${k}Max`] = Math.round(Math.max(...c[k]));
        c[`${k}Ratio`] = base ? Math.round((median(c[k]) / median(base[k])) * 100) / 100 : null;
        // Paired: the median of the per-round ratios (a slow round slows both of a pair alike).
        c[`${k}Paired`] = base ? Math.round(median(c[k].map((x, i) => x / base[k][i])) * 100) / 100 : null;
      }
      delete c.sock;
      delete c.pgdata;
      delete c.probe;
    }
    return result;
  } finally {
    cleanup();
  }
}

/** Rows for the printed table: [what, value, note]. */
export function liveRows(res) {
  return res.candidates.map((c) => [
    `pgbench ${c.id}: ${c.what}`,
    `rw ${c.rwMedian} tps [${c.rwMin}–${c.rwMax}] ${c.rwRatio?.toFixed(2)}× (paired ${c.rwPaired?.toFixed(2)}×)`,
    `ro ${c.roMedian} tps [${c.roMin}–${c.roMax}] ${c.roRatio?.toFixed(2)}×; 8 kB O_DSYNC write ${c.flushMedianUs} µs [${c.flushMinUs}–${c.flushMaxUs}] ${c.flushRatio?.toFixed(2)}×`,
  ]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const res = liveFigures({ quick: process.argv.includes('--quick') });
  for (const [a, b, c] of liveRows(res)) console.log(`${a.padEnd(90)} ${b.padEnd(36)} ${c}`);
  console.log(JSON.stringify({ load: [res.loadBefore, res.loadAfter] }));
}
