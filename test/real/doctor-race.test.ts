// Doctor under WAL churn: PostgreSQL creates, recycles and removes WAL segments while doctor walks
// PGDATA. A file that vanishes mid-scan is not a finding, so pgdata.nocow stays ok in every run; and the
// nocow rewrite re-confirms a finding before it stops the database, so a stale finding stops nothing.
import { describe, expect, test } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { cli, cryptWithServer } from '../helpers/snap.js';
import { createRunner } from '../../src/base/runner.js';
import type { OpenCrypt } from '../../src/base/crypt/open.js';
import { rewriteNocow } from '../../src/care/nocow-rewrite.js';

const scratches = scratchSuite();
let scratch: Scratch | undefined;

const skip = skipReason('root', 'btrfs', 'loop', 'pg15');
const RUNS = 25;

describe.skipIf(skip)(`doctor during WAL churn ${skip ? `(skipped: ${skip})` : ''}`, () => {
  test(`${RUNS} doctor runs while segments come and go: pgdata.nocow is ok every time; a stale finding rewrites nothing`, async () => {
    scratch = await scratches.scratch();
    const { fx, server } = await cryptWithServer(scratch, 15, { conf: ['min_wal_size = 32MB', 'max_wal_size = 48MB', 'wal_recycle = off'] });
    await server.query('create table churn (id serial primary key, pad text)');
    const c = await server.connect();
    let churning = true;
    let switches = 0;
    const churn = (async () => {
      while (churning) {
        await c.query("insert into churn (pad) select repeat('x', 200) from generate_series(1, 200)");
        await c.query('select pg_switch_wal()');
        if (++switches % 4 === 0) await c.query('checkpoint'); // removes the old segments
      }
    })();
    const verdicts: string[] = [];
    try {
      for (let i = 0; i < RUNS; i++) {
        const r = await cli(fx.root, ['--json', 'doctor']);
        const nocow = r.json.checks.find((k: { id: string }) => k.id === 'pgdata.nocow');
        verdicts.push(`${nocow.status}: ${nocow.finding}`);
        expect(r.json.checks.filter((k: { status: string }) => k.status === 'cannot-check'), JSON.stringify(r.json.checks)).toEqual([]);
      }
    } finally {
      churning = false;
      await churn;
      await c.end();
    }
    expect(switches).toBeGreaterThan(RUNS);
    expect(verdicts.filter((v) => !v.startsWith('ok'))).toEqual([]);

    // repair's rewrite acting on a finding that is no longer true: confirms first, stops nothing.
    const pid = (await readFile(path.join(fx.pgdata, 'postmaster.pid'), 'utf8')).split('\n')[0];
    const log = { info: () => {}, warn: () => {} };
    const ctx = { globals: { json: false, wait: 0 }, runner: createRunner(), log, env: process.env, interactive: false, command: 'repair', argv: ['repair'] };
    const crypt = { paths: fx.paths, config: fx.config } as OpenCrypt;
    const result = await rewriteNocow(crypt, ctx, fx.pgdata);
    expect(result).toMatch(/^nothing rewritten: checked again/);
    expect((await readFile(path.join(fx.pgdata, 'postmaster.pid'), 'utf8')).split('\n')[0]).toBe(pid);
    expect((await server.query('select count(*)::int as n from churn'))[0]!.n).toBeGreaterThan(0);
  });
});
