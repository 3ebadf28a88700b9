#!/usr/bin/env node
// Start-up figures, side by side: the single executable (dist/sea/lychd-crypt) against `node -e 0` of the Node
// it embeds (packaging/sea-node), and the Node-run directory (dist/lychd-crypt.js) against `node -e 0` of this
// node: `--version` and `--help`, in interleaved rounds (a b c, a b c, …) so a busy machine slows every
// candidate alike; medians and the spread (min–max). As root, also `snapshot --mode none` (the command init
// installed, on a scratch loopback crypt made by init) against the raw `btrfs subvolume snapshot -r` it
// wraps and snapper's figure (not installed here: its package pulls in boost and D-Bus). Nothing is asserted.
// Run alone (`node scripts/bench-startup.mjs [cli]`; BENCH_STARTUP_ROUNDS, default 21) or from `npm run bench`.
import { spawnSync, execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const REPO = path.resolve(import.meta.dirname, '..');

// A shell that exports NODE_EXTRA_CA_CERTS (this machine's does) makes every node start parse that CA bundle
// before any script runs (+80 ms here). The schedule's service and most users start without it, so every
// figure is taken without it — node -e 0 included — and its cost is printed as a row of its own.
export const EXTRA_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;
delete process.env.NODE_EXTRA_CA_CERTS;
// The commands run with their code cache (src/base/bundle/code-cache.ts), as a user's do from the second run on:
// kept in the checkout's ignored .scratch/ (root's default, /var/cache/lychd-crypt, is the host's; /tmp is
// refused), warmed by each figure's warm-up run.
process.env.LYCHD_CRYPT_COMPILE_CACHE ??= path.join(REPO, '.scratch', 'bench-code-cache');
mkdirSync(process.env.LYCHD_CRYPT_COMPILE_CACHE, { recursive: true, mode: 0o700 });

export const DIR_CLI = path.join(REPO, 'dist/lychd-crypt.js');
export const SEA = path.join(REPO, 'dist/sea/lychd-crypt');
// The Node the single executable embeds, as upstream ships it (scripts/build-sea.mjs strips its copy).
export const SEA_NODE = path.join(REPO, 'packaging/sea-node/node_modules', `node-linux-${process.arch}`, 'bin/node');
// snapper's figure from issue 26 (`snapper create`, measured under load on this kind of machine): the C++ peer.
export const SNAPPER_MS = [25, 33];
/** How a runtime is started: the single executable alone, a .js entry with this node. */
export const runArgv = (cli) => (cli.endsWith('.js') ? [process.execPath, cli] : [cli]);

export function startupFigures({ cli = DIR_CLI, sea = SEA, rounds = Number(process.env.BENCH_STARTUP_ROUNDS ?? 21) } = {}) {
  if (!existsSync(cli) || (sea && !existsSync(sea))) execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'inherit' });
  // [what, argv, extra environment, the row it is compared with]
  const candidates = [
    ['node -e 0', [process.execPath, '-e', '0'], {}, 0],
    ['lychd-crypt --version', [...runArgv(cli), '--version'], {}, 0],
    ['lychd-crypt --help', [...runArgv(cli), '--help'], {}, 0],
  ];
  if (sea) {
    const base = candidates.length;
    candidates.push([`node ${execFileSync(SEA_NODE, ['--version'], { encoding: 'utf8' }).trim()} -e 0`, [SEA_NODE, '-e', '0'], {}, base], ['single executable --version', [sea, '--version'], {}, base], ['single executable --help', [sea, '--help'], {}, base]);
  }
  // The cost of this shell's NODE_EXTRA_CA_CERTS, measured like the others (the figures are without it).
  if (EXTRA_CA_CERTS) candidates.push(['node -e 0 + NODE_EXTRA_CA_CERTS', [process.execPath, '-e', '0'], { NODE_EXTRA_CA_CERTS: EXTRA_CA_CERTS }, 0]);
  if (EXTRA_CA_CERTS && sea) candidates.push(['single executable --version + NODE_EXTRA_CA_CERTS', [sea, '--version'], { NODE_EXTRA_CA_CERTS: EXTRA_CA_CERTS }, 3]);
  const times = candidates.map(() => []);
  const cpu = candidates.map(() => []);
  // CPU time (user + sys, from GNU time) is steadier than wall time on a busy machine; 10 ms resolution.
  const gnuTime = existsSync('/usr/bin/time');
  const run = (argv, extraEnv) => {
    const env = { ...process.env, ...extraEnv };
    const t = performance.now();
    const r = gnuTime
      ? spawnSync('/usr/bin/time', ['-f', '%U %S', '--', ...argv], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
      : spawnSync(argv[0], argv.slice(1), { env, stdio: ['ignore', 'ignore', 'ignore'] });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}`);
    const [user, sys] = gnuTime ? r.stderr.trim().split('\n').at(-1).split(' ').map(Number) : [NaN, NaN];
    return { ms, cpuMs: (user + sys) * 1000 };
  };
  for (const [, argv, extraEnv] of candidates) run(argv, extraEnv); // warm-up: the page cache, and each command's code cache
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 ? [...candidates.keys()].reverse() : [...candidates.keys()];
    for (const k of order) {
      const { ms, cpuMs } = run(candidates[k][1], candidates[k][2]);
      times[k].push(ms);
      cpu[k].push(cpuMs);
    }
  }
  const dir = path.dirname(realpathOf(cli));
  return {
    rounds,
    bundleBytes: readdirSync(dir).filter((f) => /\.m?js$/.test(f)).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0),
    entryBytes: statSync(cli).size,
    seaBytes: sea ? statSync(sea).size : null,
    rows: candidates.map(([what, , , b], k) => ({
      what,
      vs: candidates[b][0],
      medianMs: median(times[k]),
      minMs: Math.min(...times[k]),
      maxMs: Math.max(...times[k]),
      ratio: median(times[k]) / median(times[b]),
      cpuMs: median(cpu[k]),
      cpuRatio: median(cpu[k]) / median(cpu[b]),
    })),
  };
}

const realpathOf = (p) => execFileSync('realpath', [p], { encoding: 'utf8' }).trim();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;

/**
 * `snapshot --mode none` through the installed command against `btrfs subvolume snapshot -r`, interleaved,
 * on a 256 MiB loopback crypt that init makes in a scratch directory (its fstab, units, bin and registry
 * there too) and that is unmounted, detached and removed at the end, even on failure.
 */
export function snapshotNoneFigures({ cli = existsSync(SEA) ? SEA : DIR_CLI, rounds = Number(process.env.BENCH_STARTUP_ROUNDS ?? 21) } = {}) {
  const node = cli.endsWith('.js') ? process.execPath : SEA_NODE; // `node -e 0` of the Node the command runs on
  const S = mkdtempSync(path.join(os.tmpdir(), 'lychd-bench-startup-'));
  chmodSync(S, 0o755);
  const crypt = path.join(S, 'crypt');
  const env = { ...process.env, LYCHD_CRYPT_REGISTRY: path.join(S, 'registry') };
  const sh = (argv) => execFileSync(argv[0], argv.slice(1), { encoding: 'utf8', env, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  try {
    writeFileSync(
      path.join(S, 'answers.yaml'),
      [
        'version: 1',
        `crypt: { path: ${crypt}, user: root }`,
        'method: loopback',
        `loopback: { image: ${S}/crypt.img, size: 256M }`,
        `persist: { via: fstab, fstab: ${S}/fstab, unitDir: ${S}/units }`,
        `install: { binDir: ${S}/bin }`,
        `registry: { dir: ${S}/registry, state: ${S}/state }`,
        'postgres: { enabled: false }',
        '',
      ].join('\n'),
    );
    sh([...runArgv(cli), 'init', '--answers', path.join(S, 'answers.yaml'), '--yes']);
    const installed = path.join(S, 'bin/lychd-crypt'); // a link into <S>/lib/lychd-crypt/<build>/, as init makes it
    const ours = [], raw = [], node0 = [];
    const cpu = { ours: [], raw: [], node0: [] };
    // Wall time, and CPU time (user + sys of the process and its children, from GNU time) when there is
    // /usr/bin/time: steadier than wall time on a busy machine.
    const gnuTime = existsSync('/usr/bin/time');
    const time = (argv, into) => {
      const t = performance.now();
      const r = gnuTime ? spawnSync('/usr/bin/time', ['-f', '%U %S', '--', ...argv], { env, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] }) : spawnSync(argv[0], argv.slice(1), { env, stdio: 'ignore' });
      const ms = performance.now() - t;
      if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr ?? ''}`);
      if (gnuTime) into.push(r.stderr.trim().split('\n').at(-1).split(' ').map(Number).reduce((a, b) => a + b, 0) * 1000);
      return ms;
    };
    const steps = [
      () => node0.push(time([node, '-e', '0'], cpu.node0)),
      () => raw.push(time(['btrfs', 'subvolume', 'snapshot', '-r', path.join(crypt, 'active'), path.join(crypt, '.bench-raw')], cpu.raw)) && sh(['btrfs', 'subvolume', 'delete', path.join(crypt, '.bench-raw')]),
      () => {
        ours.push(time([installed, '--crypt', crypt, 'snapshot', '--mode', 'none', '--label', 'bench'], cpu.ours));
        const name = JSON.parse(sh([installed, '--crypt', crypt, '--json', 'list'])).data?.snapshots?.[0]?.name; // the envelope (docs/json.md)
        if (name) sh([installed, '--crypt', crypt, 'delete', name, '--yes']);
      },
    ];
    steps.forEach((f) => f()); // warm-up
    [ours, raw, node0, cpu.ours, cpu.raw, cpu.node0].forEach((xs) => (xs.length = 0));
    for (let i = 0; i < rounds; i++) (i % 2 ? [...steps].reverse() : steps).forEach((f) => f());
    return { rounds, ours, raw, node0, cpu, what: cli.endsWith('.js') ? `the Node-run directory on node ${process.version}` : 'the single executable' };
  } finally {
    spawnSync('umount', [crypt]);
    const loops = spawnSync('losetup', ['-n', '-O', 'NAME', '-j', path.join(S, 'crypt.img')], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    for (const dev of loops) spawnSync('losetup', ['-d', dev]);
    rmSync(S, { recursive: true, force: true });
  }
}

export function printSnapshotNone(f, out = (s) => console.log(s)) {
  const [o, r, n] = [median(f.ours), median(f.raw), median(f.node0)];
  out(`snapshot --mode none, ${f.rounds} interleaved rounds (installed command: ${f.what}; 256 MiB loopback crypt):`);
  out(`  lychd-crypt snapshot --mode none  median ${o.toFixed(1).padStart(6)} ms  [${spread(f.ours)}]  +${(o - r).toFixed(1)} ms over raw, ${(o / r).toFixed(1)}×; ${(o / SNAPPER_MS[1]).toFixed(1)}–${(o / SNAPPER_MS[0]).toFixed(1)}× snapper`);
  out(`  btrfs subvolume snapshot -r       median ${r.toFixed(1).padStart(6)} ms  [${spread(f.raw)}]`);
  out(`  node -e 0 (its Node)              median ${n.toFixed(1).padStart(6)} ms  [${spread(f.node0)}]`);
  out(`  snapper create (issue 26's figure, not installed here)  ${SNAPPER_MS[0]}–${SNAPPER_MS[1]} ms`);
  if (f.cpu.ours.length)
    out(`  cpu (user + sys, 10 ms steps): lychd-crypt ${median(f.cpu.ours).toFixed(0)} ms, raw btrfs ${median(f.cpu.raw).toFixed(0)} ms, node -e 0 ${median(f.cpu.node0).toFixed(0)} ms: +${(median(f.cpu.ours) - median(f.cpu.raw)).toFixed(0)} ms over raw`);
}

export function printStartup(fig, out = (s) => console.log(s)) {
  out(`start-up, ${fig.rounds} interleaved rounds, runtime ${(fig.bundleBytes / 1e6).toFixed(2)} MB of JavaScript in its directory, entry ${(fig.entryBytes / 1e3).toFixed(1)} kB${fig.seaBytes ? `, single executable ${(fig.seaBytes / 1e6).toFixed(1)} MB` : ''} (node ${process.version}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')})`);
  for (const r of fig.rows)
    out(`  ${r.what.padEnd(34)} median ${r.medianMs.toFixed(1).padStart(6)} ms  [${r.minMs.toFixed(1)}–${r.maxMs.toFixed(1)}]  ${r.ratio.toFixed(2)}× ${r.vs}${Number.isNaN(r.cpuMs) ? '' : `; cpu ${r.cpuMs.toFixed(0)} ms, ${r.cpuRatio.toFixed(2)}×`}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cli = process.argv[2] ? path.resolve(process.argv[2]) : undefined;
  printStartup(startupFigures(cli ? { cli, sea: cli.endsWith('.js') ? SEA : null } : {}));
  if (process.getuid?.() === 0) {
    printSnapshotNone(snapshotNoneFigures(cli ? { cli } : {}));
    console.log(`load average after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  } else console.log('snapshot --mode none: skipped (needs root for the scratch loopback crypt)');
}
