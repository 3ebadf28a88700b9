#!/usr/bin/env node
// Issue 30, measured (no build uses it): PostgreSQL's pg_wal on the host's filesystem while PGDATA stays in a
// Method B crypt, and the snapshot still self-contained — the WAL from the backup's start to its stop copied
// into it. Parts, each on its own scratch crypt (scripts/wal-lab.mjs), all cleaned up afterwards:
//   checks  the hand-made procedure, scripted: the Ritual under pgbench, a restore with a fresh WAL directory
//           (consistent at the stop LSN, markers, pgbench's books, pg_amcheck), the failure of leaving the
//           newer WAL beside restored data, a stop LSN segments after the start, a timeline switch, and a
//           full rollback with its undo.
//   hold    what keeps the segments between backup start and the copy (nothing / a temporary physical slot /
//           wal_keep_size) on PostgreSQL 14, 15 and 18, the privileges it needs, and the segment reader
//           (scripts/wal-segments.mjs) on each version's real segments, good and damaged.
//   bench   the extra time of the copy per snapshot and of a rollback, today's crypt against the outside WAL,
//           interleaved under pgbench; `--tps` adds the live TPS (scripts/bench-live.mjs: host, host again as
//           the noise floor, crypt, crypt + outside WAL).
// `node scripts/bench-wal.mjs [checks] [hold] [bench [--tps]] [--json FILE]`, as root. Nothing is asserted:
// each check prints ok/FAILED with what it saw; the exit code is 1 when a check failed.
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TOOLS, asPg, checkRestored, dropClone, makeLab, plainRitual, recoveryFacts, rollback, round1, sh, stageClone, walFacts, walRitual } from './wal-lab.mjs';
import { PAGE_MAGIC, checkSegment, parseLsn, parseWalFileName, readPageHeader, walFileName, writtenPages } from './wal-segments.mjs';
import { liveFigures, liveRows } from './bench-live.mjs';

const parts = [];
const flags = new Map();
for (let i = 2; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === '--json') flags.set('json', process.argv[++i]);
  else if (a.startsWith('--')) flags.set(a.slice(2).split('=')[0], a.includes('=') ? a.slice(a.indexOf('=') + 1) : true);
  else parts.push(a);
}
const want = (p) => parts.length === 0 || parts.includes(p);
const jsonOut = flags.get('json') ?? null;
const results = { date: new Date().toISOString(), load: [readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')] };
let failed = 0;
const say = (m) => console.log(m);
function check(what, ok, detail = '') {
  if (!ok) failed++;
  say(`  ${ok ? 'ok    ' : 'FAILED'} ${what}${detail ? `: ${detail}` : ''}`);
  return ok;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mark = (server, name) => server.q('insert into marker(name) values ($1)', [name]);
const cmp = (a, b) => (parseLsn(a) === parseLsn(b) ? '=' : parseLsn(a) < parseLsn(b) ? '<' : '>');

if (process.getuid() !== 0) {
  console.error('bench-wal: run as root (loop devices, mounts, the postgres user)');
  process.exit(1);
}

/** Starts a restored clone, returning what recovery said and the checks. */
async function startAndCheck(clone, { extra = [], amcheck = true } = {}) {
  const from = clone.server.logSize();
  let startMs = null;
  let startError = null;
  try {
    startMs = clone.server.start(extra);
  } catch (e) {
    startError = String(e.stderr || e.message).trim().split('\n').slice(-2).join(' | ');
  }
  // pg_ctl -w returns once connections are accepted: a hot standby does so before it leaves recovery.
  for (let i = 0; !startError && i < 600; i++) {
    if ((await clone.server.one('select pg_is_in_recovery()')) === false) break;
    await sleep(100);
  }
  const rec = recoveryFacts(clone.server.logSince(from));
  const got = startError ? null : await checkRestored(clone.server, { amcheck });
  return { startMs, startError, rec, got };
}

async function checks() {
  say('\n== checks: the procedure on PostgreSQL 15, PGDATA in the crypt, pg_wal on the host ==');
  const lab = await makeLab({ version: 15, scale: 5, tag: 'checks', conf: ['max_wal_size = 256MB'] });
  const R = (results.checks = {});
  try {
    const live = lab.live;
    say(`  crypt ${lab.crypt}, pg_wal -> ${live.walLink()}`);
    check('pg_wal is a link to a directory on the host filesystem', sh(['findmnt', '-n', '-o', 'FSTYPE', '-T', live.walLink()]) !== 'btrfs', sh(['findmnt', '-n', '-o', 'SOURCE,FSTYPE', '-T', live.walLink()]));

    // 1. The Ritual under pgbench; markers before backup start, between snapshot and backup stop, after stop.
    const bench = live.pgbench(['-n', '-c', '8', '-j', '2', '-T', '8', '-M', 'prepared']);
    await sleep(3000);
    await mark(live, 'a-before-start');
    const snap = await walRitual(lab, live, {
      name: 'snap-a',
      hooks: { afterSnap: () => mark(live, 'b-after-snapshot-before-stop'), afterStop: () => mark(live, 'c-after-stop') },
    });
    const b = await bench;
    R.ritual = { startLsn: snap.startLsn, stopLsn: snap.stopLsn, segments: snap.segments, serverNames: snap.serverNames, slot: snap.slot, bytes: snap.bytes, timings: snap.timings };
    say(`  ritual: start ${snap.startLsn} stop ${snap.stopLsn}, segments ${snap.segments.join(' ')}; slot restart_lsn ${snap.slot.restartLsn} (${snap.slot.walStatus}); copy ${snap.timings['wal-copy']} ms for ${(snap.bytes / 2 ** 20).toFixed(1)} MiB; ${JSON.stringify(snap.timings)}`);
    check('pgbench during the snapshot: no failed transactions', b.code === 0 && b.failed === '0', `exit ${b.code}, failed ${b.failed}, ${b.tps} tps`);
    check('the copied range is what pg_walfile_name() names', snap.segments[0] === snap.serverNames[0] && snap.segments.at(-1) === snap.serverNames[1], `${snap.serverNames.join('..')}`);
    check('every copied segment is the segment its name says (page headers)', snap.problems.length === 0, snap.problems.join('; '));
    check("the slot's restart_lsn is at or before the start LSN", cmp(snap.slot.restartLsn, snap.startLsn) !== '>', `${snap.slot.restartLsn} vs ${snap.startLsn}`);
    const liveAfter = await live.one('select pg_walfile_name(pg_current_wal_lsn())');
    check('backup stop switched the live server to a later segment (the stop segment is complete when copied)', liveAfter > snap.segments.at(-1), `live now in ${liveAfter}`);
    const spgd = path.join(snap.target, 'postgres');
    const inSnap = readdirSync(path.join(spgd, 'pg_wal')).sort();
    check("the snapshot's pg_wal is a real directory with exactly the range, archive_status/ empty", JSON.stringify(inSnap.filter((f) => f !== 'archive_status')) === JSON.stringify(snap.segments) && readdirSync(path.join(spgd, 'pg_wal/archive_status')).length === 0, inSnap.join(' '));
    check('backup_label in the snapshot is the labelfile of pg_backup_stop', readFileSync(path.join(spgd, 'backup_label'), 'utf8') === snap.labelfile, snap.labelfile.split('\n')[0]);
    check('the snapshot is read-only', sh(['btrfs', 'property', 'get', '-ts', snap.target, 'ro']) === 'ro=true');
    const wd = sh(asPg([`${TOOLS}/pg_waldump`, '-p', path.join(spgd, 'pg_wal'), '-s', snap.startLsn, '-e', snap.stopLsn, '--stats'])).split('\n')[0];
    check('pg_waldump reads the copied range from start to stop', /Type/.test(wd) || wd.length > 0, wd);

    // 2. Restore into a clone with its own fresh WAL generation, filled from the snapshot only.
    const c1 = stageClone(lab, 'snap-a', { port: 5441, name: 'restore-a' });
    const r1 = await startAndCheck(c1);
    R.restore = { ...r1, stopLsn: snap.stopLsn };
    say(`  restore: ${JSON.stringify(r1.rec)}; started in ${r1.startMs} ms`);
    check('the clone started (backup recovery from the snapshot alone)', !r1.startError, r1.startError ?? '');
    if (r1.got) {
      check('recovery began at the backup checkpoint on timeline 1', r1.rec.backupRecovery?.[2] === '1', JSON.stringify(r1.rec.backupRecovery));
      check('consistent recovery state reached at the stop LSN', r1.rec.consistentAt === snap.stopLsn, `${r1.rec.consistentAt} vs stop ${snap.stopLsn}`);
      // pg_backup_stop writes the backup-end record, then a segment switch: the last record replayed is that
      // switch; a commit inserted between the two would be replayed too (redo done after the stop LSN).
      say(`         redo done at ${r1.rec.redoDone} (${cmp(r1.rec.redoDone, snap.stopLsn)} the stop LSN: the last record replayed is the switch right after the backup-end record)`);
      check('timeline 1, out of recovery', r1.got.timeline === 1 && r1.got.inRecovery === false);
      check('markers: before start and between snapshot and stop present, after stop absent', JSON.stringify(r1.got.markers) === JSON.stringify(['a-before-start', 'b-after-snapshot-before-stop']), JSON.stringify(r1.got.markers));
      check("pgbench's books balance", r1.got.balanced, JSON.stringify(r1.got.books));
      check('pg_amcheck clean', r1.got.amcheck === 'clean', r1.got.amcheck);
    }
    dropClone(lab, c1);

    // 2b. The same restore without the fresh directory: the snapshot's own pg_wal in place (verify's way).
    const c1b = stageClone(lab, 'snap-a', { wal: 'inside', port: 5441, name: 'verify-a' });
    const r1b = await startAndCheck(c1b, { amcheck: false });
    check("verify's way (the snapshot's own pg_wal, nothing outside) restores the same rows", JSON.stringify(r1b.got?.markers) === JSON.stringify(['a-before-start', 'b-after-snapshot-before-stop']) && r1b.got?.balanced, JSON.stringify(r1b.got?.markers ?? r1b.startError));
    dropClone(lab, c1b);

    // 3. The failure: restored data beside the newer WAL (what a rollback keeping the live WAL directory does).
    //    Whether it starts depends on whether the backup's segments are still there when the server stopped:
    //    after a fast stop its shutdown checkpoint removed them; after an immediate stop (rollback's fallback
    //    when a fast stop times out), or with wal_keep_size or a standby's slot, they are still there.
    for (const mode of ['immediate', 'fast']) {
      await mark(live, `n-${mode}-before`);
      await walRitual(lab, live, { name: `snap-n-${mode}`, hooks: { afterStop: () => mark(live, `n-${mode}-after-stop`) } });
      live.stop(mode);
      const demo = path.join(lab.walRoot, `demo-newer-wal-${mode}`);
      cpSync(live.walLink(), demo, { recursive: true });
      sh(['chown', '-R', 'postgres:postgres', demo]);
      live.start();
      const c2 = stageClone(lab, `snap-n-${mode}`, { wal: demo, port: 5441, name: `newer-wal-${mode}` });
      const r2 = await startAndCheck(c2, { amcheck: false });
      (R.newerWal ??= {})[mode] = r2;
      say(`  newer WAL beside restored data, live stopped -m ${mode}: ${JSON.stringify(r2.rec)}`);
      if (mode === 'immediate') check('FAILURE SHOWN (segments still there): recovery replays past the stop LSN and the later row comes back', r2.got?.markers.includes(`n-${mode}-after-stop`), JSON.stringify(r2.got?.markers ?? r2.startError));
      else check('FAILURE SHOWN (segments gone after the shutdown checkpoint): the restored state does not start at all', Boolean(r2.startError), r2.rec.errors.join(' | '));
      dropClone(lab, c2);
      rmSync(demo, { recursive: true, force: true });
      await live.q('delete from marker where name like $1', ['n-%']);
    }

    // 4. A stop LSN segments after the start: ~40 MB of WAL written while in backup mode, records crossing boundaries.
    await mark(live, 'd-before-start-2');
    const snap2 = await walRitual(lab, live, {
      name: 'snap-b',
      sparse: true, // zero pages as holes: restored like any other
      hooks: {
        afterStart: () => live.q("insert into filler select g, repeat(md5(g::text), 20) from generate_series(1, 60000) g"),
        afterStop: () => mark(live, 'e-after-stop-2'),
      },
    });
    R.boundary = { startLsn: snap2.startLsn, stopLsn: snap2.stopLsn, segments: snap2.segments, timings: snap2.timings };
    say(`  boundary: start ${snap2.startLsn} stop ${snap2.stopLsn}: ${snap2.segments.length} segments; copy ${snap2.timings['wal-copy']} ms, ${(snap2.written / 2 ** 20).toFixed(1)} of ${(snap2.bytes / 2 ** 20).toFixed(1)} MiB written (zero pages as holes)`);
    check('the backup spans several segments', snap2.segments.length >= 3, snap2.segments.join(' '));
    const contrecs = snap2.segments.slice(1).filter((n) => readPageHeader(readFileSync(path.join(snap2.target, 'postgres/pg_wal', n)), 0).info & 1).length;
    say(`         ${contrecs} of the ${snap2.segments.length - 1} later segments begin with a record continued from the one before`);
    check('every copied segment checked', snap2.problems.length === 0, snap2.problems.join('; '));
    const c3 = stageClone(lab, 'snap-b', { port: 5441, name: 'restore-b' });
    const r3 = await startAndCheck(c3);
    check('restore across the boundary: consistent at the stop LSN, rows as expected, books, amcheck', r3.rec.consistentAt === snap2.stopLsn && r3.got?.markers.includes('d-before-start-2') && !r3.got?.markers.includes('e-after-stop-2') && r3.got?.balanced && r3.got?.amcheck === 'clean' && (await c3.server.one('select count(*)::int from filler')) === 60000, `${r3.rec.consistentAt}; ${JSON.stringify(r3.got?.markers)}; ${r3.got?.amcheck}`);
    dropClone(lab, c3);

    // 4b. A copy that misses the last segment: recovery must refuse, not start on half the backup.
    const c3b = stageClone(lab, 'snap-b', { port: 5441, name: 'short-copy' });
    rmSync(path.join(c3b.gen, snap2.segments.at(-1)));
    const r3b = await startAndCheck(c3b, { amcheck: false });
    check('a copy without the stop segment does not start (PostgreSQL refuses: the backup end is missing)', Boolean(r3b.startError), r3b.rec.errors.join(' | ') || r3b.startError);
    dropClone(lab, c3b);

    // 5. A timeline switch: a restore that stops at consistency and promotes (timeline 2), work on it,
    //    snapshot it with the outside WAL (the history file comes along), restore that snapshot.
    const tl = stageClone(lab, 'snap-a', { port: 5442, name: 'timeline-2', signal: true });
    const rt = await startAndCheck(tl, { extra: ['-c', 'recovery_target=immediate', '-c', 'recovery_target_action=promote', '-c', 'restore_command=false'], amcheck: false });
    R.timeline = { promote: rt.rec };
    say(`  timeline switch: ${JSON.stringify(rt.rec)}`);
    check('a restore with recovery_target=immediate stops at consistency (the stop LSN) and promotes to timeline 2', rt.got?.timeline === 2 && rt.rec.consistentAt === snap.stopLsn, `${rt.rec.stopping}; timeline ${rt.got?.timeline ?? rt.startError}`);
    check('  ... and there the row between snapshot and stop is present, as at the stop LSN', JSON.stringify(rt.got?.markers) === JSON.stringify(['a-before-start', 'b-after-snapshot-before-stop']), JSON.stringify(rt.got?.markers));
    check('its WAL directory holds 00000002.history', readdirSync(tl.gen).includes('00000002.history'));
    check("  ... pgbench's books balance there", rt.got?.balanced, JSON.stringify(rt.got?.books));
    const tls = tl.server;
    await mark(tls, 'f-tl2-before-start');
    const tb = tls.pgbench(['-n', '-c', '4', '-j', '2', '-T', '4', '-M', 'prepared']);
    await sleep(1500);
    const snap3 = await walRitual(lab, tls, { name: 'snap-tl2', hooks: { afterStop: () => mark(tls, 'g-tl2-after-stop') } });
    const tbr = await tb;
    const tlBooks = await checkRestored(tls, { amcheck: false });
    check('pgbench on timeline 2 during its snapshot: no failed transactions; books balance after it', tbr.failed === '0' && tlBooks.balanced, `${tbr.failed} failed; ${JSON.stringify(tlBooks.books)}`);
    R.timeline.snapshot = { startLsn: snap3.startLsn, stopLsn: snap3.stopLsn, segments: snap3.segments, histories: snap3.histories };
    const inSnap3 = readdirSync(path.join(snap3.target, 'postgres/pg_wal'));
    check('the snapshot on timeline 2: segments named for timeline 2, 00000002.history copied, no .partial', snap3.segments.every((n) => n.startsWith('00000002')) && inSnap3.includes('00000002.history') && !inSnap3.some((f) => f.endsWith('.partial')), inSnap3.join(' '));
    check('  its segments checked against the history (first pages on timeline 2)', snap3.problems.length === 0, snap3.problems.join('; '));
    const c4 = stageClone(lab, 'snap-tl2', { port: 5443, name: 'restore-tl2' });
    const r4 = await startAndCheck(c4);
    R.timeline.restore = r4;
    check('restore of the timeline-2 snapshot: timeline 2, consistent at its stop LSN, rows, books, amcheck', r4.got?.timeline === 2 && r4.rec.consistentAt === snap3.stopLsn && JSON.stringify(r4.got?.markers) === JSON.stringify(['a-before-start', 'b-after-snapshot-before-stop', 'f-tl2-before-start']) && r4.got?.balanced && r4.got?.amcheck === 'clean', `${r4.rec.consistentAt} vs ${snap3.stopLsn}; ${JSON.stringify(r4.got ?? r4.startError)}`);
    dropClone(lab, c4);
    const c5 = stageClone(lab, 'snap-tl2', { port: 5443, name: 'restore-tl2-nohistory', history: false });
    const r5 = await startAndCheck(c5, { amcheck: false });
    R.timeline.withoutHistory = r5;
    say(`  the same restore WITHOUT 00000002.history: ${r5.startError ? `does not start: ${r5.rec.errors.join(' | ')}` : `starts on timeline ${r5.got.timeline} (${JSON.stringify(r5.rec)})`}`);
    if (r5.got) {
      // What a later promotion of such a restore would think its history is.
      const h = await c5.server.q("select pg_walfile_name(pg_current_wal_lsn()) as f");
      say(`         (its pg_wal then: ${readdirSync(c5.gen).join(' ')}; current ${h[0].f})`);
    }
    dropClone(lab, c5);
    tls.stop('fast');
    dropClone(lab, tl);

    // 6. A full rollback to snap-a and its undo: the restored state gets a fresh generation; the replaced
    //    state takes the WAL it needs (its last checkpoint's segment) into its pre-rollback snapshot.
    const genBefore = live.walLink();
    const rb = await rollback(lab, 'snap-a', 'pre-rollback-1');
    R.rollback = rb;
    say(`  rollback: ${JSON.stringify(rb.timings)}; replaced state kept with ${rb.keep.segments.join(' ')} (${rb.keep.state})`);
    const g1 = await checkRestored(live);
    check('after the rollback: a new WAL generation, the old one gone', live.walLink() !== genBefore && !readdirSync(lab.walRoot).includes(path.basename(genBefore)), `${path.basename(genBefore)} -> ${path.basename(live.walLink())}`);
    check('after the rollback: rows of the snapshot (before start, before stop), books, amcheck', JSON.stringify(g1.markers) === JSON.stringify(['a-before-start', 'b-after-snapshot-before-stop']) && g1.balanced && g1.amcheck === 'clean', JSON.stringify(g1));
    const prePg = path.join(lab.snapshots, 'pre-rollback-1/postgres');
    check('the pre-rollback snapshot is self-contained: a real pg_wal with its checkpoint segment, no backup_label needed (clean shutdown)', !readdirSync(prePg).includes('backup_label') && readdirSync(path.join(prePg, 'pg_wal')).includes(rb.keep.redoFile), readdirSync(path.join(prePg, 'pg_wal')).join(' '));
    await mark(live, 'h-after-rollback');
    const ub = await rollback(lab, 'pre-rollback-1', 'pre-rollback-2');
    R.undo = ub;
    const g2 = await checkRestored(live);
    check('undo: every row of the replaced state is back (also the one after stop), the one written after the rollback is not', JSON.stringify(g2.markers) === JSON.stringify(['a-before-start', 'b-after-snapshot-before-stop', 'c-after-stop', 'd-before-start-2', 'e-after-stop-2']) && g2.balanced && g2.amcheck === 'clean', JSON.stringify(g2.markers));
    say(`  undo: ${JSON.stringify(ub.timings)}`);
  } finally {
    lab.close();
  }
}

/** Advances the WAL by `n` segments and checkpoints twice, so a server without a hold removes or recycles old segments. */
async function churn(server, n) {
  for (let i = 0; i < n; i++) await server.q("insert into filler values (1, 'x'); select pg_switch_wal()");
  await server.q('checkpoint');
  await server.q("insert into filler values (2, 'y'); select pg_switch_wal()");
  await server.q('checkpoint');
}

async function hold(version) {
  say(`\n== hold: keeping the segments between backup start and the copy, PostgreSQL ${version} ==`);
  // Small max/min_wal_size: checkpoints remove (or recycle ahead) everything not held.
  const lab = await makeLab({ version, scale: 1, tag: `hold${version}`, port: 5450 + (version % 10), conf: ['max_wal_size = 32MB', 'min_wal_size = 32MB'] });
  const R = ((results.hold ??= {})[version] = {});
  try {
    const live = lab.live;
    const v = await live.one("select current_setting('server_version')");
    say(`  server ${v}; wal_segment_size ${await live.one("select current_setting('wal_segment_size')")}, max_replication_slots ${await live.one("select current_setting('max_replication_slots')")}`);
    // Nothing holds them: 6 segments and two checkpoints between backup stop and the copy.
    const none = await walRitual(lab, live, { name: 'no-hold', hold: 'none', hooks: { afterStop: () => churn(live, 6) } });
    R.none = none.problems;
    check('without a hold, a checkpoint between start and copy loses segments — and the copy check sees it', none.problems.length > 0, none.problems.slice(0, 2).join('; '));
    // A temporary physical slot on the Ritual's session, reserving at once.
    const slot = await walRitual(lab, live, { name: 'slot-hold', hold: 'slot', hooks: { afterStop: () => churn(live, 6) } });
    R.slot = { problems: slot.problems, restartLsn: slot.slot.restartLsn, startLsn: slot.startLsn, walStatus: slot.slot.walStatus };
    check('a temporary physical slot (immediately reserved) keeps every segment through the same churn', slot.problems.length === 0 && slot.slot.walStatus !== 'lost', `restart_lsn ${slot.slot.restartLsn} ${cmp(slot.slot.restartLsn, slot.startLsn)} start ${slot.startLsn}, wal_status ${slot.slot.walStatus}`);
    const c = stageClone(lab, 'slot-hold', { port: 5460 + (version % 10), name: 'restore-slot' });
    const r = await startAndCheck(c, { amcheck: true });
    R.restore = r;
    check(`the slot-held snapshot restores on ${version} (consistent at the stop LSN, pg_amcheck 15 against it)`, r.rec.consistentAt === slot.stopLsn && r.got?.inRecovery === false, `${r.rec.consistentAt} vs ${slot.stopLsn}; amcheck: ${r.got?.amcheck?.split('\n')[0] ?? r.startError}`);
    dropClone(lab, c);
    check('the slot is gone after the Ritual', (await live.one('select count(*)::int from pg_replication_slots')) === 0);
    // A temporary slot dies with its session, also when the client is killed (the connection just drops).
    const k = await live.client();
    await k.query("select pg_create_physical_replication_slot('lychd_crypt_killed', true, true)");
    k.connection.stream.destroy();
    await sleep(500);
    check("a temporary slot is dropped by the server when the Ritual's connection dies", (await live.one('select count(*)::int from pg_replication_slots')) === 0);
    // wal_keep_size (13+): the server's setting, for everything; holds only as much WAL as it says.
    await live.q("alter system set wal_keep_size = '64MB'");
    await live.q('select pg_reload_conf()');
    await sleep(300);
    const k1 = await walRitual(lab, live, { name: 'keep-small', hold: 'none', hooks: { afterStop: () => churn(live, 2) } });
    const k2 = await walRitual(lab, live, { name: 'keep-large', hold: 'none', hooks: { afterStop: () => churn(live, 8) } });
    R.walKeepSize = { small: k1.problems, large: k2.problems };
    check('wal_keep_size = 64MB holds a short window (4 segments of churn)', k1.problems.length === 0, k1.problems.join('; '));
    check('wal_keep_size = 64MB does not hold a longer one (10 segments of churn)', k2.problems.length > 0, k2.problems.slice(0, 1).join('; '));
    await live.q('alter system reset wal_keep_size');
    await live.q('select pg_reload_conf()');
    // Privileges: a role that may run the backup functions, without and with REPLICATION.
    const [bs, be] = version >= 15 ? ['pg_backup_start(text, boolean)', 'pg_backup_stop(boolean)'] : ['pg_start_backup(text, boolean, boolean)', 'pg_stop_backup(boolean, boolean)'];
    await live.q(`create role ritual login; grant execute on function ${bs} to ritual; grant execute on function ${be} to ritual`);
    const asRitual = async (sql) => {
      const cl = await live.client('ritual');
      try {
        return { ok: true, rows: (await cl.query(sql)).rows };
      } catch (e) {
        return { ok: false, error: e.message };
      } finally {
        await cl.end();
      }
    };
    const p = {};
    p.slot = await asRitual("select pg_create_physical_replication_slot('r1', true, true)");
    p.walfile = await asRitual('select pg_walfile_name(pg_current_wal_lsn())');
    p.sysid = await asRitual('select system_identifier from pg_control_system()');
    p.segsize = await asRitual("select current_setting('wal_segment_size')");
    p.slotView = await asRitual('select count(*) from pg_replication_slots');
    p.executeGrant = (await live.q("select has_function_privilege('ritual', 'pg_create_physical_replication_slot(name, boolean, boolean)', 'execute') as x"))[0].x;
    await live.q('alter role ritual replication');
    p.slotWithReplication = await asRitual("select pg_create_physical_replication_slot('r2', true, true)");
    R.privileges = p;
    say(`  privileges of a non-superuser with the backup GRANTs: slot ${p.slot.ok ? 'ok' : `refused (${p.slot.error})`}; EXECUTE on the slot function ${p.executeGrant ? 'granted to PUBLIC' : 'not granted'}; pg_walfile_name ${p.walfile.ok ? 'ok' : p.walfile.error}; pg_control_system ${p.sysid.ok ? 'ok' : p.sysid.error}; wal_segment_size ${p.segsize.ok ? 'ok' : p.segsize.error}; pg_replication_slots ${p.slotView.ok ? 'ok' : p.slotView.error}`);
    check('with REPLICATION the same role may create the slot', p.slotWithReplication.ok, p.slotWithReplication.error ?? '');
    check('without REPLICATION it may not', !p.slot.ok);

    // The reader on this version's real segments: every file in the live WAL directory, and damaged copies.
    const fc = await live.client();
    const facts = await walFacts(fc);
    await fc.end();
    const dir = live.walDir();
    const files = readdirSync(dir).filter((f) => /^[0-9A-F]{24}$/.test(f)).sort();
    const cur = await live.one('select pg_walfile_name(pg_current_wal_lsn())');
    const magic = new Set();
    const kinds = { good: 0, recycled: 0, current: null };
    for (const f of files) {
      const buf = readFileSync(path.join(dir, f));
      const h = readPageHeader(buf, 0);
      if (h?.long) magic.add(`0x${h.magic.toString(16)}`);
      const pr = checkSegment(buf, { name: f, segSize: facts.segSize, sysid: facts.sysid }).problems;
      if (f === cur) kinds.current = { problems: pr, writtenPages: writtenPages(buf, facts.segSize) };
      else if (pr.length === 0) kinds.good++;
      else if (pr.some((x) => /recycled/.test(x)) || !h?.long) kinds.recycled++;
    }
    R.reader = { magic: [...magic], kinds };
    say(`  reader on ${files.length} real segments: page magic ${[...magic].join(', ')}; ${kinds.good} whole, ${kinds.recycled} recycled ahead or not yet written (flagged); the current one ${kinds.current?.writtenPages} pages written`);
    check(`reader: the page magic of ${version} is known`, [...magic].every((m) => PAGE_MAGIC[Number(m)] === version), [...magic].join(', '));
    const good = files.find((f) => f < cur && checkSegment(readFileSync(path.join(dir, f)), { name: f, segSize: facts.segSize, sysid: facts.sysid }).problems.length === 0);
    if (good) {
      const buf = readFileSync(path.join(dir, good));
      const damaged = {
        renamed: checkSegment(buf, { name: walFileName(1, parseWalFileName(good, facts.segSize).segno + 1n, facts.segSize), segSize: facts.segSize, sysid: facts.sysid }).problems,
        truncated: checkSegment(buf.subarray(0, buf.length / 2), { name: good, segSize: facts.segSize, sysid: facts.sysid }).problems,
        zeroed: checkSegment(Buffer.alloc(buf.length), { name: good, segSize: facts.segSize, sysid: facts.sysid }).problems,
        otherCluster: checkSegment(buf, { name: good, segSize: facts.segSize, sysid: String(BigInt(facts.sysid) + 1n) }).problems,
        otherTimeline: checkSegment(buf, { name: `00000003${good.slice(8)}`, segSize: facts.segSize, sysid: facts.sysid }).problems,
      };
      const curBuf = readFileSync(path.join(dir, cur));
      const curSeg = parseWalFileName(cur, facts.segSize).segno;
      damaged.tooEarly = checkSegment(curBuf, { name: cur, segSize: facts.segSize, sysid: facts.sysid, upTo: (curSeg + 1n) * BigInt(facts.segSize) }).problems;
      R.reader.damaged = damaged;
      for (const [k, pr] of Object.entries(damaged)) check(`reader flags a ${k} segment`, pr.length > 0, pr[0] ?? 'not flagged');
    }
  } finally {
    lab.close();
  }
}

const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number' && !Number.isNaN(x)).sort((a, b) => a - b);
  return v.length ? (v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2) : null;
};
const spread = (xs) => `${round1(median(xs))} [${round1(Math.min(...xs))}–${round1(Math.max(...xs))}]`;

/**
 * The costs of the outside WAL in the Ritual and in rollback, against today's crypt: two crypts of the same
 * cluster size, snapshots taken under pgbench (8 clients), rollbacks right after; rounds interleaved a b, b a.
 */
async function benchCosts({ rounds, scale, secs }) {
  say(`\n== bench: the Ritual and rollback, today's crypt against the outside WAL (scale ${scale}, ${rounds} rounds, pgbench ${secs} s, 8 clients) ==`);
  const labs = {};
  const R = (results.bench = { scale, rounds, secs, plain: [], walout: [], 'walout-sparse': [] });
  try {
    labs.plain = await makeLab({ version: 15, scale, walOutside: false, tag: 'bench-plain', port: 5470 });
    labs.walout = await makeLab({ version: 15, scale, walOutside: true, tag: 'bench-walout', port: 5471 });
    for (let r = 0; r < rounds; r++) {
      const ids = ['plain', 'walout', 'walout-sparse'];
      for (const id of r % 2 ? ids.reverse() : ids) {
        const lab = labs[id === 'walout-sparse' ? 'walout' : id];
        const sparse = id === 'walout-sparse';
        const name = `r${r}${sparse ? 's' : ''}`;
        const load = lab.live.pgbench(['-n', '-c', '8', '-j', '2', '-T', String(secs), '-M', 'prepared']);
        await sleep((secs / 2) * 1000);
        const snap = id === 'plain' ? await plainRitual(lab, lab.live, { name }) : await walRitual(lab, lab.live, { name, sparse });
        const b = await load;
        const rb = await rollback(lab, name, `${name}-pre`, { sparse });
        const g = await checkRestored(lab.live, { amcheck: false });
        R[id].push({ snapshot: snap.timings, segments: snap.segments?.length ?? null, bytes: snap.bytes ?? null, written: snap.written ?? null, problems: snap.problems ?? [], rollback: rb.timings, failed: b.failed, tps: b.tps, balanced: g.balanced, keep: rb.keep?.segments?.length ?? null });
        say(`  round ${r + 1} ${id}: snapshot ${JSON.stringify(snap.timings)}${snap.segments ? ` (${snap.segments.length} segments, ${(snap.written / 2 ** 20).toFixed(1)} MiB written)` : ''}; rollback ${JSON.stringify(rb.timings)}; pgbench ${Math.round(b.tps)} tps, failed ${b.failed}; books ${g.balanced ? 'balance' : 'DO NOT balance'}`);
        if (!g.balanced || b.failed !== '0' || snap.problems?.length) failed++;
      }
    }
  } finally {
    for (const l of Object.values(labs)) l.close();
  }
  const col = (id, f) => R[id].map(f);
  const S = (R.summary = {});
  for (const id of ['walout', 'walout-sparse']) {
    S[id] = {
      snapshotTotal: spread(col(id, (x) => x.snapshot.total)),
      extraPerSnapshot: spread(col(id, (x) => x.snapshot['wal-copy'] + x.snapshot['wal-swap-label'] + x.snapshot.readonly)),
      walCopy: spread(col(id, (x) => x.snapshot['wal-copy'])),
      slot: spread(col(id, (x) => x.snapshot.slot)),
      segments: col(id, (x) => x.segments),
      writtenMiB: col(id, (x) => round1(x.written / 2 ** 20)),
      rollbackTotal: spread(col(id, (x) => x.rollback.total)),
      walFill: spread(col(id, (x) => x.rollback['wal-fill'])),
      keep: spread(col(id, (x) => x.rollback.keep)),
      stop: spread(col(id, (x) => x.rollback.stop)),
      startReady: spread(col(id, (x) => x.rollback.start + x.rollback.ready)),
    };
  }
  S.plain = {
    snapshotTotal: spread(col('plain', (x) => x.snapshot.total)),
    rollbackTotal: spread(col('plain', (x) => x.rollback.total)),
    keep: spread(col('plain', (x) => x.rollback.keep)),
    stop: spread(col('plain', (x) => x.rollback.stop)),
    startReady: spread(col('plain', (x) => x.rollback.start + x.rollback.ready)),
  };
  say('  summary (ms, median [min–max]):');
  say(`    snapshot total: today's crypt ${S.plain.snapshotTotal}; outside WAL ${S.walout.snapshotTotal}; sparse copy ${S['walout-sparse'].snapshotTotal}`);
  for (const id of ['walout', 'walout-sparse']) {
    const x = S[id];
    say(`    ${id}: extra per snapshot (copy + link swap and backup_label + read-only) ${x.extraPerSnapshot}, the copy alone ${x.walCopy} (segments ${x.segments.join(', ')}; MiB written ${x.writtenMiB.join(', ')}), the slot ${x.slot}`);
    say(`    ${id}: rollback ${x.rollbackTotal}: WAL fill ${x.walFill}, keep ${x.keep}, stop ${x.stop}, start+ready ${x.startReady}`);
  }
  say(`    today's crypt: rollback ${S.plain.rollbackTotal}: keep ${S.plain.keep}, stop ${S.plain.stop}, start+ready ${S.plain.startReady}`);
}

if (want('checks')) await checks();
if (want('bench')) {
  const quick = flags.has('quick');
  await benchCosts({ rounds: Number(process.env.BENCH_WAL_ROUNDS ?? (quick ? 2 : 4)), scale: Number(process.env.BENCH_WAL_SCALE ?? (quick ? 10 : 30)), secs: Number(process.env.BENCH_WAL_SECS ?? (quick ? 6 : 10)) });
  if (flags.has('tps')) {
    process.env.BENCH_LIVE_ONLY ??= 'host,host2,crypt,walout';
    results.live = liveFigures({ quick });
    for (const [a, b, c] of liveRows(results.live)) say(`  ${a.padEnd(80)} ${b.padEnd(48)} ${c}`);
  }
}
if (want('hold')) for (const v of String(flags.get('pg') ?? '14,15,18').split(',').map(Number)) await hold(v);
if (jsonOut) writeFileSync(jsonOut, JSON.stringify(results, (k, v) => (typeof v === 'bigint' ? String(v) : v), 2));
process.exitCode = failed ? 1 : 0;
