// A scratch Method B crypt whose PostgreSQL keeps pg_wal on the host's filesystem, and the hand-made steps
// of issue 30 on it: the Ritual with the WAL copied into the snapshot, a restore into a clone with a fresh
// WAL directory, a full rollback and its undo. Measurement only (scripts/bench-wal.mjs drives it); the
// product's version belongs in src/ once the restructure (issue 23) has landed. Everything lives under one
// scratch directory; `close()` stops every server, unmounts and removes it, also after a failure.
import { execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync, chmodSync, chownSync, closeSync, existsSync, fsyncSync, ftruncateSync, lstatSync, mkdirSync, mkdtempSync, openSync,
  readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeSync,
} from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { backupSegments, checkSegment, parseLsn, parseWalFileName } from './wal-segments.mjs';

const REPO = path.resolve(import.meta.dirname, '..');
export const BIN = { 14: path.join(REPO, 'node_modules/pg14/native/bin'), 15: '/usr/lib/postgresql/15/bin', 18: path.join(REPO, 'node_modules/pg18/native/bin') };
/** pgbench, pg_amcheck, pg_controldata, pg_waldump come from 15 (the embedded 14/18 builds ship only the server). */
export const TOOLS = BIN[15];
// The crypt's mount as `init` makes it (DEFAULT_MOUNT_OPTIONS in src/config/config.ts).
const INIT_OPTS = ['noatime', 'compress=zstd:1'];

export const now = () => Number(process.hrtime.bigint()) / 1e6;
export const round1 = (x) => Math.round(x * 10) / 10;

export function sh(argv, opts = {}) {
  return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' }, ...opts }).trim();
}
const PGID = { uid: Number(sh(['id', '-u', 'postgres'])), gid: Number(sh(['id', '-g', 'postgres'])) };
export const asPg = (argv) => ['setpriv', `--reuid=${PGID.uid}`, `--regid=${PGID.gid}`, '--clear-groups', ...argv];
const own = (p, mode) => {
  chownSync(p, PGID.uid, PGID.gid);
  if (mode !== undefined) chmodSync(p, mode);
};

const ZERO_PAGE = Buffer.alloc(8192);
/**
 * Writes a file durably (write, fsync), owned by postgres. `sparse`: all-zero 8 kB pages become holes (a
 * backup's last segment is mostly zeros after the switch that pg_backup_stop makes; the crypt's PGDATA is
 * nodatacow, so Btrfs does not compress them) — for files nobody writes into again (a read-only snapshot).
 */
function writeDurable(file, data, mode = 0o600, { sparse = false } = {}) {
  const fd = openSync(file, 'w', mode);
  let written = 0;
  try {
    if (!sparse) written = writeSync(fd, data);
    else {
      for (let off = 0; off < data.length; ) {
        let end = off;
        while (end < data.length && Buffer.compare(data.subarray(end, end + 8192), ZERO_PAGE.subarray(0, Math.min(8192, data.length - end))) !== 0) end += 8192;
        if (end > off) written += writeSync(fd, data, off, Math.min(end, data.length) - off, off);
        off = end + 8192;
      }
      ftruncateSync(fd, data.length);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  own(file, mode);
  return written;
}
function fsyncDir(dir) {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
const subvolUuid = (p) => /^\s*UUID:\s*(\S+)/m.exec(sh(['btrfs', 'subvolume', 'show', p]))[1];

/** A PostgreSQL server on a PGDATA of the lab (the live one, or a clone), reached over its own socket. */
export class Server {
  constructor(lab, { pgdata, port, subvol, name }) {
    Object.assign(this, { lab, pgdata, port, subvol, name });
    this.sock = path.join(lab.S, `sock-${name}`);
    this.log = path.join(lab.S, `log-${name}.log`);
    if (!existsSync(this.sock)) mkdirSync(this.sock), own(this.sock, 0o700);
    if (!existsSync(this.log)) appendFileSync(this.log, ''), own(this.log);
    lab.servers.add(this);
  }
  get bin() {
    return BIN[this.lab.version];
  }
  start(extra = []) {
    const o = ['-p', String(this.port), '-k', this.sock, ...extra].join(' ');
    const t = now();
    sh(asPg([`${this.bin}/pg_ctl`, '-D', this.pgdata, '-l', this.log, '-w', '-t', '300', '-o', o, 'start']));
    return round1(now() - t);
  }
  stop(mode = 'fast') {
    const t = now();
    sh(asPg([`${this.bin}/pg_ctl`, '-D', this.pgdata, '-m', mode, '-w', '-t', '120', 'stop']));
    return round1(now() - t);
  }
  running() {
    try {
      sh(asPg([`${this.bin}/pg_ctl`, '-D', this.pgdata, 'status']));
      return true;
    } catch {
      return false;
    }
  }
  async client(user = 'postgres') {
    const c = new pg.Client({ host: this.sock, port: this.port, user, database: 'postgres' });
    c.on('error', () => {});
    await c.connect();
    return c;
  }
  async q(sql, params) {
    const c = await this.client();
    try {
      return (await c.query(sql, params)).rows;
    } finally {
      await c.end();
    }
  }
  async one(sql, params) {
    return Object.values((await this.q(sql, params))[0])[0];
  }
  /** The server log since `from` (byte offset), for what recovery said. */
  logSince(from = 0) {
    return readFileSync(this.log, 'utf8').slice(from);
  }
  logSize() {
    return readFileSync(this.log).length;
  }
  /** pgbench (15) with `args`; pass -n after the first run: its vacuum step truncates pgbench_history, the books' other side. */
  pgbench(args) {
    return new Promise((resolve, reject) => {
      const child = spawn(asPg([`${TOOLS}/pgbench`])[0], [...asPg([`${TOOLS}/pgbench`]).slice(1), '-h', this.sock, '-p', String(this.port), ...args, 'postgres'], { env: { ...process.env, LC_ALL: 'C' } });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, out, failed: /number of failed transactions: (\d+)/.exec(out)?.[1] ?? (code === 0 ? '0' : '?'), tps: Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(out)?.[1] ?? NaN) }));
    });
  }
  /** pg_amcheck (15) on every database, heap and indexes: '' when clean, else its output. */
  amcheck() {
    try {
      sh(asPg([`${TOOLS}/pg_amcheck`, '-h', this.sock, '-p', String(this.port), '-U', 'postgres', '--all', '--install-missing', '--heapallindexed']));
      return '';
    } catch (e) {
      return String(e.stdout || e.stderr || e.message).trim() || `exit ${e.status}`;
    }
  }
  /** Where pg_wal leads (the link's target), or null when it is a real directory. */
  walLink() {
    const p = path.join(this.pgdata, 'pg_wal');
    return lstatSync(p).isSymbolicLink() ? readlinkSync(p) : null;
  }
  walDir() {
    return this.walLink() ?? path.join(this.pgdata, 'pg_wal');
  }
}

/**
 * The lab: a crypt (sparse image, mount -o loop as init does, active/ subvolume, postgres/ +C 0700) and a
 * cluster initialised in it; with `walOutside` its pg_wal is a link to `<S>/wal/gen-<active/'s UUID>` on the
 * host's filesystem (initdb --waldir).
 */
export async function makeLab({ version = 15, walOutside = true, scale = 5, conf = [], port = 5440, imageSize = '4G', tag = 'lab' } = {}) {
  const S = mkdtempSync(`/var/tmp/lychd-wal-${tag}-`);
  chmodSync(S, 0o755);
  const lab = { S, version, walOutside, servers: new Set(), mounts: [], crypt: path.join(S, 'crypt'), walRoot: path.join(S, 'wal'), seq: 0 };
  lab.close = () => closeLab(lab);
  try {
    const img = path.join(S, 'crypt.img');
    sh(['truncate', '-s', imageSize, img]);
    sh(['mkfs.btrfs', '-q', img]);
    mkdirSync(lab.crypt);
    sh(['mount', '-o', ['loop', ...INIT_OPTS].join(','), img, lab.crypt]);
    lab.mounts.push(lab.crypt);
    lab.active = path.join(lab.crypt, 'active');
    lab.snapshots = path.join(lab.crypt, 'snapshots');
    sh(['btrfs', 'subvolume', 'create', lab.active]);
    mkdirSync(lab.snapshots);
    mkdirSync(lab.walRoot, { mode: 0o755 }); // root's: only root makes and removes generations
    const pgdata = path.join(lab.active, 'postgres');
    mkdirSync(pgdata);
    sh(['chattr', '+C', pgdata]);
    own(pgdata, 0o700);
    const init = [`${BIN[version]}/initdb`, '-D', pgdata, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'];
    if (walOutside) {
      lab.gen = path.join(lab.walRoot, `gen-${subvolUuid(lab.active)}`);
      mkdirSync(lab.gen);
      own(lab.gen, 0o700);
      init.push('--waldir', lab.gen);
    }
    sh(asPg(init));
    lab.live = new Server(lab, { pgdata, port, subvol: lab.active, name: 'live' });
    appendFileSync(pgdata + '/postgresql.conf', [`listen_addresses = ''`, `unix_socket_directories = '${lab.live.sock}'`, `port = ${port}`, ...conf, ''].join('\n'));
    lab.live.start();
    if (scale) sh(asPg([`${TOOLS}/pgbench`, '-h', lab.live.sock, '-p', String(port), '-i', '-q', '-s', String(scale), 'postgres']));
    await lab.live.q('create table marker (name text primary key, at timestamptz default clock_timestamp()); create table filler (id int, pad text)');
    return lab;
  } catch (e) {
    closeLab(lab);
    throw e;
  }
}

function closeLab(lab) {
  for (const s of lab.servers) {
    try {
      if (s.running()) s.stop('immediate');
    } catch {}
  }
  for (const m of [...lab.mounts].reverse()) {
    try {
      sh(['umount', m]);
    } catch {}
  }
  try {
    for (const line of sh(['losetup', '-n', '-O', 'NAME,BACK-FILE']).split('\n')) {
      const [dev, file] = line.trim().split(/\s+/);
      if (file?.startsWith(lab.S)) sh(['losetup', '-d', dev]);
    }
  } catch {}
  rmSync(lab.S, { recursive: true, force: true });
}

/** The server's facts the copy needs, on any connection. */
export async function walFacts(client) {
  const r = (await client.query(`select current_setting('server_version_num')::int as v,
      (select system_identifier::text from pg_control_system()) as sysid,
      (select setting::int from pg_settings where name = 'wal_segment_size') as segsize,
      pg_walfile_name(pg_current_wal_lsn()) as curfile`)).rows[0];
  return { versionNum: r.v, sysid: r.sysid, segSize: r.segsize, tli: Number.parseInt(r.curfile.slice(0, 8), 16) };
}

const BACKUP_SQL = {
  start: (v) => (v >= 150000 ? 'select pg_backup_start($1, true)::text as lsn' : 'select pg_start_backup($1, true, false)::text as lsn'),
  stop: (v) => (v >= 150000 ? 'select lsn::text as lsn, labelfile, spcmapfile from pg_backup_stop(false)' : 'select lsn::text as lsn, labelfile, spcmapfile from pg_stop_backup(false, false)'),
};

/**
 * Copies the named segments and every *.history (never a .partial) from `from` into a new directory
 * `to`, with an empty archive_status/, each segment checked against its name (wal-segments.mjs) before
 * it is written (`check: false`: copied as found — a restore from a snapshot whose copy was checked when it
 * was made); files, directory and its parent fsynced. Returns {bytes, written (without holes), problems, segments}.
 */
export function copyWal({ from, to, names, history = true, sysid, segSize, stopLsn = null, sparse = false, check = true }) {
  mkdirSync(to, { mode: 0o700 });
  own(to, 0o700);
  mkdirSync(path.join(to, 'archive_status'), { mode: 0o700 });
  own(path.join(to, 'archive_status'), 0o700);
  const entries = readdirSync(from);
  const histories = history ? entries.filter((f) => /^[0-9A-F]{8}\.history$/.test(f)) : [];
  // The newest history file describes the file's timeline; checkSegment reads its ancestors from it.
  const historyText = histories.length ? readFileSync(path.join(from, histories.sort().at(-1)), 'utf8') : null;
  let bytes = 0;
  let written = 0;
  const problems = [];
  for (const [i, name] of names.entries()) {
    let buf;
    try {
      buf = readFileSync(path.join(from, name));
    } catch (e) {
      problems.push(`${name}: ${e.code === 'ENOENT' ? 'missing (removed or recycled since the backup started)' : e.message}`);
      continue;
    }
    if (check) {
      const hist = historyText && parseWalFileName(name, segSize)?.tli > 1 ? historyText : null;
      problems.push(...checkSegment(buf, { name, segSize, sysid, historyText: hist, upTo: i === names.length - 1 ? stopLsn : null }).problems);
    }
    written += writeDurable(path.join(to, name), buf, 0o600, { sparse });
    bytes += buf.length;
  }
  for (const h of histories) {
    const buf = readFileSync(path.join(from, h));
    writeDurable(path.join(to, h), buf);
    bytes += buf.length;
  }
  fsyncDir(to);
  fsyncDir(path.dirname(to)); // the directory's own entry: a new generation must survive a power cut before it is linked
  return { bytes, written, problems, segments: names.length, histories };
}

/**
 * The Ritual with an outside WAL, on ONE session: CHECKPOINT, [a temporary physical slot that reserves WAL
 * from the last checkpoint's redo], backup start, a WRITABLE snapshot of the server's subvolume, backup stop,
 * then the segments start..stop (+ history) copied into the snapshot's own pg_wal (replacing the link),
 * backup_label/tablespace_map written, the snapshot made read-only. `hold`: 'slot' | 'none' (wal_keep_size
 * is the server's setting, not the Ritual's). `hooks`: afterStart/afterSnap/afterStop (before the copy);
 * `sparse`: zero pages of the copied segments left as holes.
 */
export async function walRitual(lab, server, { name, hold = 'slot', hooks = {}, copy = true, sparse = false } = {}) {
  const t = {};
  const phase = async (k, fn) => {
    const a = now();
    try {
      return await fn();
    } finally {
      t[k] = round1(now() - a);
    }
  };
  const t0 = now();
  const s = await server.client();
  const target = path.join(lab.snapshots, name);
  try {
    const facts = await walFacts(s);
    await phase('checkpoint', () => s.query('checkpoint'));
    let slot = null;
    if (hold === 'slot') {
      slot = `lychd_crypt_${process.pid}_${++lab.seq}`;
      const r = await phase('slot', () => s.query('select lsn::text from pg_create_physical_replication_slot($1, true, true)', [slot]));
      slot = { name: slot, restartLsn: r.rows[0].lsn };
    }
    const startLsn = (await phase('backup-start', () => s.query(BACKUP_SQL.start(facts.versionNum), [`lychd-crypt ${name}`]))).rows[0].lsn;
    await hooks.afterStart?.();
    let stop;
    try {
      await phase('snapshot', () => sh(['btrfs', 'subvolume', 'snapshot', server.subvol, target]));
      await hooks.afterSnap?.();
    } finally {
      stop = (await phase('backup-stop', () => s.query(BACKUP_SQL.stop(facts.versionNum)))).rows[0];
    }
    await hooks.afterStop?.();
    const res = { name, target, startLsn, stopLsn: stop.lsn, labelfile: stop.labelfile, spcmapfile: stop.spcmapfile, slot, facts, timings: t };
    // What the server calls these segments, against what the copy computes from the LSNs.
    const names = (await s.query('select pg_walfile_name($1::pg_lsn) as a, pg_walfile_name($2::pg_lsn) as b', [startLsn, stop.lsn])).rows[0];
    const startTli = Number(/START TIMELINE: (\d+)/.exec(stop.labelfile)?.[1] ?? facts.tli);
    res.segments = backupSegments(parseLsn(startLsn), parseLsn(stop.lsn), startTli, facts.segSize);
    res.serverNames = [names.a, names.b];
    if (!copy) return res;
    const pgd = path.join(target, path.relative(server.subvol, server.pgdata));
    const tmp = path.join(pgd, 'pg_wal.lychd-copy');
    const c = await phase('wal-copy', async () => {
      const r = copyWal({ from: server.walDir(), to: tmp, names: res.segments, sysid: facts.sysid, segSize: facts.segSize, stopLsn: parseLsn(stop.lsn), sparse });
      if (slot) {
        // A slot can be invalidated (max_slot_wal_keep_size): then what was copied may be incomplete.
        const st = (await s.query('select wal_status from pg_replication_slots where slot_name = $1', [slot.name])).rows[0];
        slot.walStatus = st?.wal_status ?? 'gone';
        await s.query('select pg_drop_replication_slot($1)', [slot.name]);
      }
      return r;
    });
    Object.assign(res, { bytes: c.bytes, written: c.written, problems: c.problems, histories: c.histories });
    await phase('wal-swap-label', async () => {
      unlinkSync(path.join(pgd, 'pg_wal')); // the link (to the live WAL directory) — the snapshot's own copy replaces it
      renameSync(tmp, path.join(pgd, 'pg_wal'));
      writeDurable(path.join(pgd, 'backup_label'), stop.labelfile);
      if (stop.spcmapfile) writeDurable(path.join(pgd, 'tablespace_map'), stop.spcmapfile);
      fsyncDir(pgd);
    });
    await phase('readonly', () => sh(['btrfs', 'property', 'set', '-ts', target, 'ro', 'true']));
    t.total = round1(now() - t0);
    return res;
  } finally {
    await s.end().catch(() => {});
  }
}

/** Today's Ritual (the WAL inside the crypt): CHECKPOINT, backup start, read-only snapshot, backup stop. */
export async function plainRitual(lab, server, { name, hooks = {} } = {}) {
  const t = {};
  const t0 = now();
  const s = await server.client();
  try {
    const v = (await walFacts(s)).versionNum;
    let a = now();
    await s.query('checkpoint');
    t.checkpoint = round1(now() - a);
    a = now();
    const startLsn = (await s.query(BACKUP_SQL.start(v), [`lychd-crypt ${name}`])).rows[0].lsn;
    t['backup-start'] = round1(now() - a);
    await hooks.afterStart?.();
    a = now();
    sh(['btrfs', 'subvolume', 'snapshot', '-r', server.subvol, path.join(lab.snapshots, name)]);
    t.snapshot = round1(now() - a);
    a = now();
    const stop = (await s.query(BACKUP_SQL.stop(v))).rows[0];
    t['backup-stop'] = round1(now() - a);
    t.total = round1(now() - t0);
    return { name, startLsn, stopLsn: stop.lsn, timings: t };
  } finally {
    await s.end().catch(() => {});
  }
}

/**
 * A restore into a clone: a writable snapshot of the snapshot as `<crypt>/.staging-<id>`, postmaster.pid and
 * signals removed (backup_label kept: it is the snapshot's own), and — `wal: 'fresh'` — a new WAL
 * generation on the host filled from the snapshot's pg_wal with pg_wal made the link to it; `wal: DIR`
 * links to DIR instead (the failure the issue warns of); `wal: 'inside'` leaves the snapshot's pg_wal in
 * place (verify, or a crypt without walDir). `history: false` leaves the *.history files out; `signal`
 * asks for archive recovery (recovery.signal), e.g. to stop at consistency and promote to a new timeline.
 */
export function stageClone(lab, snapName, { wal = 'fresh', history = true, signal = false, port, name } = {}) {
  const t = {};
  const t0 = now();
  const staging = path.join(lab.crypt, `.staging-${name ?? `clone-${++lab.seq}`}`);
  sh(['btrfs', 'subvolume', 'snapshot', path.join(lab.snapshots, snapName), staging]);
  t.stage = round1(now() - t0);
  const pgd = path.join(staging, 'postgres');
  for (const f of ['postmaster.pid', 'recovery.signal', 'standby.signal']) rmSync(path.join(pgd, f), { force: true });
  if (signal) writeDurable(path.join(pgd, 'recovery.signal'), '');
  let gen = null;
  const a = now();
  if (wal === 'fresh') {
    gen = path.join(lab.walRoot, `gen-${subvolUuid(staging)}`);
    const inside = path.join(pgd, 'pg_wal');
    const names = readdirSync(inside).filter((f) => /^[0-9A-F]{24}$/.test(f)).sort();
    // A fresh directory of its own for the restored history, filled only from the snapshot.
    copyWal({ from: inside, to: gen, names, history, check: false });
    rmSync(inside, { recursive: true });
    symlinkSync(gen, inside);
    fsyncDir(pgd);
  } else if (wal !== 'inside') {
    rmSync(path.join(pgd, 'pg_wal'), { recursive: true });
    symlinkSync(wal, path.join(pgd, 'pg_wal'));
  }
  t['wal-fill'] = round1(now() - a);
  const server = new Server(lab, { pgdata: pgd, port, subvol: staging, name: name ?? path.basename(staging) });
  return { server, staging, gen, timings: t };
}

/** What recovery said in the server log (the lines the checks compare). */
export function recoveryFacts(log) {
  const m = (re) => re.exec(log)?.slice(1) ?? null;
  return {
    backupRecovery: m(/starting backup recovery with redo LSN ([0-9A-F/]+), checkpoint LSN ([0-9A-F/]+), on timeline ID (\d+)/),
    redoStarts: m(/redo starts at ([0-9A-F/]+)/)?.[0] ?? null,
    consistentAt: m(/consistent recovery state reached at ([0-9A-F/]+)/)?.[0] ?? null,
    redoDone: m(/redo done at ([0-9A-F/]+)/)?.[0] ?? null,
    newTimeline: m(/selected new timeline ID: (\d+)/)?.[0] ?? null,
    stopping: m(/(recovery stopping [^\n]*)/)?.[0] ?? null,
    errors: [...log.matchAll(/(?:FATAL|PANIC|ERROR):\s+([^\n]*)/g)].map((x) => x[1]).slice(0, 5),
  };
}

/** The checks of a restored server: out of recovery, timeline, markers, pgbench's books, amcheck. */
export async function checkRestored(server, { amcheck = true } = {}) {
  const [r] = await server.q(`select pg_is_in_recovery() as rec, pg_walfile_name(pg_current_wal_lsn()) as f,
      (select coalesce(json_agg(name order by name), '[]') from marker) as markers,
      (select sum(abalance) from pgbench_accounts) as a, (select sum(tbalance) from pgbench_tellers) as t,
      (select sum(bbalance) from pgbench_branches) as b, (select coalesce(sum(delta), 0) from pgbench_history) as h,
      (select count(*) from pgbench_history) as n`);
  return {
    inRecovery: r.rec,
    timeline: Number.parseInt(r.f.slice(0, 8), 16),
    markers: r.markers,
    balanced: r.a === r.h && r.t === r.h && r.b === r.h,
    books: { accounts: r.a, tellers: r.t, branches: r.b, history: r.h, transactions: r.n },
    amcheck: amcheck ? server.amcheck() || 'clean' : 'not run',
  };
}

/** Removes a clone: its server, its subvolume, its WAL generation. */
export function dropClone(lab, clone) {
  try {
    if (clone.server.running()) clone.server.stop('immediate');
  } catch {}
  lab.servers.delete(clone.server);
  sh(['btrfs', 'subvolume', 'delete', clone.staging]);
  if (clone.gen) rmSync(clone.gen, { recursive: true, force: true });
}

/** pg_controldata (15) of a stopped cluster: the REDO segment, state, timeline. */
export function controlData(pgdata) {
  const out = sh(asPg([`${TOOLS}/pg_controldata`, pgdata]));
  const f = (k) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(out)?.[1]?.trim();
  return { state: f('Database cluster state'), redoFile: f("Latest checkpoint's REDO WAL file"), checkpoint: f('Latest checkpoint location'), tli: Number(f("Latest checkpoint's TimeLineID")) };
}

/**
 * A full rollback with the outside WAL, as the product would do it (renames stand in for the one
 * RENAME_EXCHANGE; no journal here): stop, stage, fresh WAL generation from the snapshot, swap, keep the
 * replaced state as `<pre>` with the WAL it needs copied into it (the segments from its last checkpoint's
 * REDO on, up to the last one that is really written), read-only, old generation removed, start.
 * With `walOutside: false` the same without the WAL steps (the crypt's rollback of today).
 */
export async function rollback(lab, snapName, preName, { sparse = false } = {}) {
  const t = {};
  const phase = (k, fn) => {
    const a = now();
    try {
      return fn();
    } finally {
      t[k] = round1(now() - a);
    }
  };
  const t0 = now();
  const live = lab.live;
  phase('stop', () => live.stop('fast'));
  const clone = stageClone(lab, snapName, { wal: lab.walOutside ? 'fresh' : 'inside', name: `rollback-${++lab.seq}` });
  lab.servers.delete(clone.server);
  if (!lab.walOutside) rmSync(path.join(clone.staging, 'postgres', 'backup_label'), { force: true });
  Object.assign(t, clone.timings);
  const oldGen = lab.walOutside ? live.walLink() : null;
  const replaced = path.join(lab.crypt, `.replaced-${lab.seq}`);
  phase('swap', () => {
    renameSync(lab.active, replaced);
    renameSync(clone.staging, lab.active);
    fsyncDir(lab.crypt);
  });
  const pre = path.join(lab.snapshots, preName);
  const keep = phase('keep', () => {
    renameSync(replaced, pre);
    let info = null;
    if (lab.walOutside) info = keepWal(path.join(pre, 'postgres'), oldGen, sparse);
    sh(['btrfs', 'property', 'set', '-ts', pre, 'ro', 'true']);
    if (oldGen) rmSync(oldGen, { recursive: true });
    return info;
  });
  lab.gen = clone.gen;
  t.start = live.start();
  const a = now();
  for (;;) {
    try {
      if ((await live.one('select pg_is_in_recovery()')) === false) break;
    } catch {}
    await new Promise((r) => setTimeout(r, 20));
  }
  t.ready = round1(now() - a);
  t.total = round1(now() - t0);
  return { timings: t, keep };
}

/**
 * The replaced state's WAL, into its own pg_wal (it leaves the generation it used): from its last
 * checkpoint's REDO segment on, every segment that is really written there (a segment recycled ahead
 * carries an old address and ends the run); the history files too.
 */
function keepWal(pgd, gen, sparse) {
  const cd = controlData(pgd);
  const segSize = Number(sh(asPg([`${TOOLS}/pg_controldata`, pgd])).match(/Bytes per WAL segment:\s*(\d+)/)[1]);
  const sysid = /Database system identifier:\s*(\d+)/.exec(sh(asPg([`${TOOLS}/pg_controldata`, pgd])))[1];
  const first = parseWalFileName(cd.redoFile, segSize);
  const names = [];
  for (const f of readdirSync(gen).filter((x) => /^[0-9A-F]{24}$/.test(x)).sort()) {
    const p = parseWalFileName(f, segSize);
    if (p.tli !== first.tli || p.segno < first.segno) continue;
    if (p.segno !== first.segno + BigInt(names.length)) break;
    if (checkSegment(readFileSync(path.join(gen, f)), { name: f, segSize, sysid }).problems.length) break;
    names.push(f);
  }
  const tmp = path.join(pgd, 'pg_wal.lychd-copy');
  const c = copyWal({ from: gen, to: tmp, names, sysid, segSize, sparse });
  unlinkSync(path.join(pgd, 'pg_wal'));
  renameSync(tmp, path.join(pgd, 'pg_wal'));
  fsyncDir(pgd);
  return { state: cd.state, redoFile: cd.redoFile, segments: names, bytes: c.bytes, written: c.written };
}

