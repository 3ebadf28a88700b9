// The Ritual on real servers: PostgreSQL 15 (Debian), 14 (old backup API) and 18 (embedded builds);
// the metadata records what happened, and list/delete see it.
import { describe, expect, test } from 'vitest';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { skipReason } from '../helpers/env.js';
import { type Scratch } from '../helpers/scratch.js';
import { scratchSuite } from '../helpers/suite.js';
import { sh } from '../helpers/host.js';
import { cli, cryptWithServer } from '../helpers/snap.js';
import type { SnapshotMeta } from '../../src/runtime/snapshots/meta.js';
import { RitualSession } from '../../src/runtime/ritual/session.js';

const scratches = scratchSuite();
let scratch: Scratch | undefined;

for (const version of [15, 14, 18] as const) {
  const skip = skipReason('root', 'btrfs', 'loop', `pg${version}`);
  describe.skipIf(skip)(`snapshot on PostgreSQL ${version} ${skip ? `(skipped: ${skip})` : ''}`, () => {
    test('bracket snapshot records the right metadata', async () => {
      scratch = await scratches.scratch();
      const { fx, server } = await cryptWithServer(scratch, version);
      await server.query('create table t (id int primary key)');
      await server.query('insert into t select generate_series(1, 1000)');
      const [ctl] = await server.query<{ sysid: string; v: string }>(
        "select system_identifier::text as sysid, current_setting('server_version_num') as v from pg_control_system()",
      );

      const r = await cli(fx.root, ['--json', 'snapshot', '--label', 'Pre Upgrade!']);
      expect(r.code, r.stderr).toBe(0);
      const meta = r.json.snapshot as SnapshotMeta;
      expect(meta.name).toMatch(/^\d{8}T\d{6}Z-pre-upgrade$/);
      expect(meta.label).toBe('Pre Upgrade!');
      expect(meta.mode).toBe('bracket');
      expect(meta.origin).toEqual({ kind: 'snapshot' });
      expect(meta.postgres!.versionNum).toBe(Number(ctl!.v));
      expect(meta.postgres!.major).toBe(version);
      expect(meta.postgres!.systemIdentifier).toBe(ctl!.sysid);
      expect(meta.postgres!.startLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      expect(meta.postgres!.stopLsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      expect(meta.postgres!.labelfile).toContain(`LABEL: lychd-crypt ${meta.name}`);
      expect(meta.postgres!.labelfile).toContain('START WAL LOCATION');
      expect(Object.keys(meta.timings)).toEqual(['preflight', 'checkpoint', 'backup-start', 'snapshot', 'backup-stop', 'metadata', 'total']);
      expect(meta.toolVersion).toMatch(/^\d+\.\d+\.\d+/);
      expect(Date.parse(meta.createdAt)).not.toBeNaN();

      // The snapshot is a read-only subvolume whose uuid/generation are recorded; no backup_label in it.
      const snap = path.join(fx.paths.snapshots, meta.name);
      const show = sh(['btrfs', 'subvolume', 'show', snap]);
      expect(show).toContain(meta.btrfs!.uuid);
      expect(show).toMatch(/Flags:\s+readonly/);
      expect((await stat(path.join(snap, 'postgres/PG_VERSION'))).isFile()).toBe(true);
      expect(await readdir(path.join(snap, 'postgres'))).not.toContain('backup_label');
      expect(await readdir(fx.paths.state)).not.toContain('journal.json');

      // Our session is gone and nothing is left in backup mode.
      const sessions = await server.query("select count(*)::int as n from pg_stat_activity where application_name like 'lychd-crypt%'");
      expect(sessions[0]!.n).toBe(0);

      // Human output: one line with the phase timings.
      const h = await cli(fx.root, ['snapshot']);
      expect(h.code, h.stderr).toBe(0);
      expect(h.stdout.trim().split('\n')).toHaveLength(1);
      expect(h.stdout).toMatch(/^snapshot \d{8}T\d{6}Z(-2)? taken \(bracket, PostgreSQL \d+\.\d+\): preflight [\d.]+ ms, checkpoint [\d.]+ ms, backup-start [\d.]+ ms, snapshot [\d.]+ ms, backup-stop [\d.]+ ms, metadata [\d.]+ ms; total [\d.]+ ms\n$/);

      const list = await cli(fx.root, ['--json', 'list']);
      expect(list.code, list.stderr).toBe(0);
      expect(list.json.snapshots).toHaveLength(2);
      expect(list.json.snapshots[1]).toMatchObject({ name: meta.name, label: 'Pre Upgrade!', mode: 'bracket', createdAt: meta.createdAt });
    });

    test('the Ritual session: generous statement timeout, idle timeouts off, no transaction open', async () => {
      scratch = await scratches.scratch();
      const { fx } = await cryptWithServer(scratch, version);
      const notices: string[] = [];
      const s = await RitualSession.open(fx.config.postgres!, process.env, (m) => notices.push(m));
      try {
        const [row] = await s.query<{ st: string; iit: string; app: string; xact: string | null }>(
          `select current_setting('statement_timeout') as st,
                  current_setting('idle_in_transaction_session_timeout') as iit,
                  current_setting('application_name') as app,
                  (select backend_xid::text from pg_stat_activity where pid = pg_backend_pid()) as xact`,
        );
        expect(row).toMatchObject({ st: '30min', iit: '0', app: 'lychd-crypt snapshot', xact: null });
        const [idle] = await s.query<{ v: string }>("select current_setting('idle_session_timeout') as v");
        expect(idle!.v).toBe('0');
        // Autocommit: each statement is its own transaction, so none stays open between them.
        const [a] = await s.query<{ t: string }>('select txid_current()::text as t');
        const [b] = await s.query<{ t: string }>('select txid_current()::text as t');
        expect(a!.t).not.toBe(b!.t);
        await s.query("do $$ begin raise notice 'hello from the server'; end $$");
        expect(notices).toEqual(['NOTICE: hello from the server']);
      } finally {
        await s.close();
      }
    });

    test('checkpoint mode: no backup mode, LSNs around the snapshot', async () => {
      scratch = await scratches.scratch();
      const { fx } = await cryptWithServer(scratch, version);
      const r = await cli(fx.root, ['--json', 'snapshot', '--mode', 'checkpoint']);
      expect(r.code, r.stderr).toBe(0);
      const meta = r.json.snapshot as SnapshotMeta;
      expect(meta.mode).toBe('checkpoint');
      expect(meta.postgres!.labelfile).toBeNull();
      expect(meta.postgres!.startLsn).toMatch(/\//);
      expect(Object.keys(meta.timings)).not.toContain('backup-start');
    });
  });
}
