#!/usr/bin/env node
// PROTOTYPE for issue 26 (measurement only): start-up of runtime candidates side by side, in interleaved
// rounds (a b c, c b a, …), medians and spread of wall time and of CPU time (user + sys of the command and
// its children, from GNU time: steadier than wall time on a busy machine; 10 ms steps). Runs on Node 18 too
// (it is run inside the stock Debian roots with their own nodejs), so no import.meta.dirname; minbase has no
// /usr/bin/time: --time FILE names a copy of the host's.
//   node measure.mjs [--rounds N] [--time FILE] [--crypt DIR] [--extra-ca FILE] [--node FILE] LABEL=ARGV...
// --node FILE: another Node binary whose `node -e 0` is shown too (say, upstream's beside Debian's).
// Each candidate is a command line (split on spaces) that runs lychd-crypt: `--version` is timed for each;
// with --crypt (a crypt made by init, registry in LYCHD_CRYPT_REGISTRY) also `snapshot --mode none`, each
// made snapshot deleted untimed, and the raw `btrfs subvolume snapshot -r` beside it. `node -e 0` of the
// Node running this script is the baseline. NODE_EXTRA_CA_CERTS is removed from every run; --extra-ca FILE
// adds rows with it set, to show what it costs.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  if (i < 0) return dflt;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const rounds = Number(opt('--rounds', '21'));
const crypt = opt('--crypt', undefined);
const extraCa = opt('--extra-ca', undefined);
const gnuTime = opt('--time', '/usr/bin/time');
const otherNode = opt('--node', undefined);
delete process.env.NODE_EXTRA_CA_CERTS;
const cands = args.map((a) => {
  const i = a.indexOf('=');
  return { label: a.slice(0, i), argv: a.slice(i + 1).split(' ').filter(Boolean) };
});

let cpuInto = null; // the row a timed run adds its CPU time to
const run = (argv, env = {}) => {
  const timed = cpuInto ? [gnuTime, '-f', '%U %S', '--', ...argv] : argv;
  const t = performance.now();
  const r = spawnSync(timed[0], timed.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
  if (cpuInto) {
    cpuInto.push(r.stderr.trim().split('\n').at(-1).split(' ').map(Number).reduce((a, b) => a + b, 0) * 1000);
    cpuInto = null;
  }
  return { ms, out: r.stdout };
};
const rows = [{ what: `node -e 0 (${process.version})`, step: () => run([process.execPath, '-e', '0']).ms }];
if (extraCa) rows.push({ what: `node -e 0 + NODE_EXTRA_CA_CERTS`, step: () => run([process.execPath, '-e', '0'], { NODE_EXTRA_CA_CERTS: extraCa }).ms });
if (otherNode) rows.push({ what: `${otherNode} -e 0`, step: () => run([otherNode, '-e', '0']).ms });
for (const c of cands) {
  rows.push({ what: `${c.label} --version`, step: () => run([...c.argv, '--version']).ms });
  if (extraCa) rows.push({ what: `${c.label} --version + NODE_EXTRA_CA_CERTS`, step: () => run([...c.argv, '--version'], { NODE_EXTRA_CA_CERTS: extraCa }).ms });
}
if (crypt) {
  const active = path.join(crypt, 'active');
  const raw = path.join(crypt, '.measure-raw');
  rows.push({
    what: 'btrfs subvolume snapshot -r',
    step: () => {
      const ms = run(['btrfs', 'subvolume', 'snapshot', '-r', active, raw]).ms;
      run(['btrfs', 'subvolume', 'delete', raw]);
      return ms;
    },
  });
  for (const c of cands) {
    rows.push({
      what: `${c.label} snapshot --mode none`,
      step: () => {
        const ms = run([...c.argv, '--crypt', crypt, 'snapshot', '--mode', 'none', '--label', 'measure']).ms;
        const name = JSON.parse(run([...c.argv, '--crypt', crypt, '--json', 'list']).out).data.snapshots.find((s) => s.label === 'measure')?.name;
        if (name) run([...c.argv, '--crypt', crypt, 'delete', name, '--yes']);
        return ms;
      },
    });
  }
}
const times = rows.map(() => []);
const cpus = rows.map(() => []);
rows.forEach((r) => r.step()); // warm-up: page cache and code caches
for (let i = 0; i < rounds; i++) {
  const order = i % 2 ? [...rows.keys()].reverse() : [...rows.keys()];
  for (const k of order) {
    cpuInto = cpus[k]; // the first command a step runs is the timed one
    times[k].push(rows[k].step());
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(times[0]);
const cpuBase = median(cpus[0]);
const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`${rounds} interleaved rounds on ${os.cpus().length} cpus, load ${load}, ${readFileSync('/etc/debian_version', 'utf8').trim()}`);
rows.forEach((r, k) => {
  const m = median(times[k]);
  const c = median(cpus[k]);
  console.log(`  ${r.what.padEnd(48)} ${m.toFixed(1).padStart(6)} ms  [${Math.min(...times[k]).toFixed(1)}–${Math.max(...times[k]).toFixed(1)}]  ${(m / base).toFixed(2)}×  | cpu ${c.toFixed(0).padStart(4)} ms ${(c / cpuBase).toFixed(2)}×`);
});
