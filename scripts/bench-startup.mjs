#!/usr/bin/env node
// Start-up figures: `lychd-crypt --version` (and `--help`) against `node -e 0`, in interleaved rounds
// (a b c, a b c, …) so a busy machine slows every candidate alike; medians and the spread (min–max).
// Nothing is asserted. Run alone (`node scripts/bench-startup.mjs [cli]`) or from `npm run bench`.
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const REPO = path.resolve(import.meta.dirname, '..');

export function startupFigures({ cli = path.join(REPO, 'dist/lychd-crypt.js'), rounds = Number(process.env.BENCH_STARTUP_ROUNDS ?? 21) } = {}) {
  if (!existsSync(cli)) execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'inherit' });
  const candidates = [
    ['node -e 0', ['-e', '0']],
    ['lychd-crypt --version', [cli, '--version']],
    ['lychd-crypt --help', [cli, '--help']],
  ];
  const times = candidates.map(() => []);
  const cpu = candidates.map(() => []);
  // CPU time (user + sys, from GNU time) is steadier than wall time on a busy machine; 10 ms resolution.
  const gnuTime = existsSync('/usr/bin/time');
  const run = (argv) => {
    const t = performance.now();
    const r = gnuTime
      ? spawnSync('/usr/bin/time', ['-f', '%U %S', '--', process.execPath, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
      : spawnSync(process.execPath, argv, { stdio: ['ignore', 'ignore', 'ignore'] });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`node ${argv.join(' ')} exited ${r.status}`);
    const [user, sys] = gnuTime ? r.stderr.trim().split('\n').at(-1).split(' ').map(Number) : [NaN, NaN];
    return { ms, cpuMs: (user + sys) * 1000 };
  };
  for (const [, argv] of candidates) run(argv); // warm-up: page cache, and the compile cache where Node has one
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 ? [...candidates.keys()].reverse() : [...candidates.keys()];
    for (const k of order) {
      const { ms, cpuMs } = run(candidates[k][1]);
      times[k].push(ms);
      cpu[k].push(cpuMs);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const base = median(times[0]);
  return {
    rounds,
    bundleBytes: statSync(cli).size,
    rows: candidates.map(([what], k) => ({
      what,
      medianMs: median(times[k]),
      minMs: Math.min(...times[k]),
      maxMs: Math.max(...times[k]),
      ratio: median(times[k]) / base,
      cpuMs: median(cpu[k]),
      cpuRatio: median(cpu[k]) / median(cpu[0]),
    })),
  };
}

export function printStartup(fig, out = (s) => console.log(s)) {
  out(`start-up, ${fig.rounds} interleaved rounds, bundle ${(fig.bundleBytes / 1e6).toFixed(2)} MB (node ${process.version})`);
  for (const r of fig.rows)
    out(`  ${r.what.padEnd(24)} median ${r.medianMs.toFixed(1).padStart(6)} ms  [${r.minMs.toFixed(1)}–${r.maxMs.toFixed(1)}]  ${r.ratio.toFixed(2)}× node -e 0${Number.isNaN(r.cpuMs) ? '' : `; cpu ${r.cpuMs.toFixed(0)} ms, ${r.cpuRatio.toFixed(2)}×`}`);
}

if (import.meta.url === `file://${process.argv[1]}`) printStartup(startupFigures({ cli: process.argv[2] ? path.resolve(process.argv[2]) : undefined }));
