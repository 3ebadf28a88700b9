// postgres.walDir (docs/wal.md) without a host: the answers key (located errors), init's refusals by name and
// by placement (from recorded facts: inside the crypt, on a loop device, tmpfs, writable by others, another
// owner, foreign contents), the steps init plans, and the snapshot modes refused with an outside WAL.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { answersSchema, type AnswersInput } from '../../src/install/answers/schema.js';
import { parseAnswers } from '../../src/install/answers/load.js';
import { AnswersError, ExitCode, UsageError, exitCodeFor } from '../../src/base/errors.js';
import type { HostFacts } from '../../src/install/detect/facts.js';
import { planInit, resolveConfig } from '../../src/install/init.js';
import { judgeWalPlacement, type WalPlacementFacts } from '../../src/base/wal/placement.js';
import { decideMode } from '../../src/runtime/ritual/mode.js';
import type { PostgresConfig } from '../../src/model/config.js';

const facts = (): HostFacts => JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../fixtures/init/facts-ext4-host.json'), 'utf8')) as HostFacts;
const T = '/srv/t';
const CRYPT = `${T}/host/data/crypt`;
const base: AnswersInput = {
  version: 1,
  crypt: { path: CRYPT },
  loopback: { image: `${T}/host/img/crypt.img`, size: '200M' },
  persist: { fstab: `${T}/etc/fstab`, unitDir: `${T}/units` },
  install: { binDir: `${T}/bin` },
};

/** Facts of a good walDir: on the host's ext4, root's 0755 ancestors, not there yet. */
function placement(over: Partial<WalPlacementFacts> = {}): WalPlacementFacts {
  return {
    walDir: '/var/lib/lychd-wal/a',
    existing: '/var/lib',
    real: '/var/lib',
    walDirExists: false,
    walDirIsDir: false,
    dev: 2049,
    cryptDev: 44,
    cryptReal: CRYPT,
    fstype: 'ext4',
    source: '/dev/vda',
    loop: false,
    loopAllowed: false,
    owners: [
      { path: '/var/lib', uid: 0, mode: 0o755, isLink: false },
      { path: '/var', uid: 0, mode: 0o755, isLink: false },
      { path: '/', uid: 0, mode: 0o755, isLink: false },
    ],
    entries: null,
    ...over,
  };
}

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

function planWith(walDir: string, over: Partial<HostFacts> = {}, pg: Record<string, unknown> = {}) {
  const f = { ...facts(), walPlacement: placement({ walDir }), ...over };
  const answers = answersSchema.parse({ ...base, postgres: { walDir, ...pg } });
  return planInit(f, resolveConfig(answers, f));
}

describe('postgres.walDir in the answers', () => {
  it('an absolute path is taken; anything else is reported at its line and column', () => {
    expect(parseAnswers('version: 1\npostgres:\n  walDir: /var/lib/lychd-wal/a\n', 'a.yaml').postgres?.walDir).toBe('/var/lib/lychd-wal/a');
    for (const [value, message] of [
      ['wal', /absolute path/],
      ['/var/lib/../wal', /without \.\./],
      ['"/var/lib/$(x)"', /characters \/bin\/sh interprets/],
    ] as const) {
      const e = thrown(() => parseAnswers(`version: 1\npostgres:\n  walDir: ${value}\n`, 'a.yaml'));
      expect(e).toBeInstanceOf(AnswersError);
      const i = (e as AnswersError).issues[0]!;
      expect(`${i.line}:${i.col} ${i.path}`).toBe('3:11 postgres.walDir');
      expect(i.message).toMatch(message);
    }
  });

  it('init refuses by name: inside the crypt path, the crypt inside it, with a container (exit 2)', () => {
    for (const [walDir, msg] of [
      [`${CRYPT}/wal`, /is inside the crypt path/],
      [`${T}/host/data`, /contains the crypt path/],
    ] as const) {
      const e = thrown(() => planWith(walDir));
      expect(e).toBeInstanceOf(UsageError);
      expect(e.message).toMatch(/^postgres\.walDir: /);
      expect(e.message).toMatch(msg);
    }
    const e = thrown(() => planWith('/var/lib/lychd-wal/a', {}, { container: { name: 'pg' } }));
    expect(exitCodeFor(e)).toBe(ExitCode.usage);
    expect(e.message).toMatch(/postgres\.walDir: an outside WAL is not supported with postgres\.container/);
  });

  it('init refuses by placement before any step (exit 2, at the key)', () => {
    const cases: [Partial<WalPlacementFacts>, RegExp][] = [
      [{ dev: 44 }, /inside the crypt \(or on its filesystem\)/],
      [{ loop: true, source: '/dev/loop7' }, /on a loop device \(\/dev\/loop7\)/],
      [{ fstype: 'tmpfs' }, /tmpfs: the WAL would be lost at reboot/],
      [{ owners: [{ path: '/var/lib', uid: 0, mode: 0o777, isLink: false }] }, /\/var\/lib is writable by others/],
      [{ owners: [{ path: '/var/lib', uid: 0, mode: 0o775, isLink: false }] }, /writable by its group/],
      [{ owners: [{ path: '/var/lib', uid: 4242, mode: 0o755, isLink: false }] }, /belongs to uid 4242/],
      [{ walDirExists: true, walDirIsDir: true, entries: ['notes.txt', 'gen-0d6e1d6e-7a3c-4f55-9a52-3c7e8f1a2b3c'] }, /holds "notes.txt"/],
    ];
    for (const [over, msg] of cases) {
      const f = { ...facts(), walPlacement: placement(over) };
      const answers = answersSchema.parse({ ...base, postgres: { walDir: '/var/lib/lychd-wal/a' } });
      const e = thrown(() => planInit(f, resolveConfig(answers, f)));
      expect(exitCodeFor(e), msg.source).toBe(ExitCode.usage);
      expect(e.message).toMatch(/^postgres\.walDir: /);
      expect(e.message).toMatch(msg);
    }
    // A loop device is slow, not unsafe: LYCHD_CRYPT_WAL_ALLOW_LOOP=1 (the power-cut rig's recorded host) takes it.
    const onLoop = { ...facts(), walPlacement: placement({ loop: true, source: '/dev/loop7', loopAllowed: true }) };
    expect(() => planInit(onLoop, resolveConfig(answersSchema.parse({ ...base, postgres: { walDir: '/var/lib/lychd-wal/a' } }), onLoop))).not.toThrow();
    // A sticky, root-owned /tmp above it is fine (its entries are protected); this crypt's own generations too.
    expect(judgeWalPlacement(placement({ owners: [{ path: '/tmp', uid: 0, mode: 0o1777, isLink: false }], walDirExists: true, walDirIsDir: true, entries: ['gen-0d6e1d6e-7a3c-4f55-9a52-3c7e8f1a2b3c'] }), { cryptPath: CRYPT, ownerUid: 1000 })).toEqual([]);
  });

  it('init plans the root and active/\'s generation for the server\'s user; without walDir nothing of it', () => {
    const p = planWith('/var/lib/lychd-wal/a');
    const wal = p.steps.filter((s) => (s.kind === 'create-dir' && s.path.startsWith('/var/lib/lychd-wal')) || s.kind === 'create-wal-gen');
    expect(wal.map((s) => s.kind)).toEqual(['create-dir', 'create-dir', 'create-wal-gen']);
    expect(wal[0]).toMatchObject({ path: '/var/lib/lychd-wal', mode: 0o755, owner: { uid: 0, gid: 0 } });
    expect(wal[2]).toMatchObject({ walDir: '/var/lib/lychd-wal/a', active: `${CRYPT}/active`, pgdata: `${CRYPT}/active/postgres` });
    expect(p.config.postgres?.walDir).toBe('/var/lib/lychd-wal/a');
    const plain = planInit(facts(), resolveConfig(answersSchema.parse(base), facts()));
    expect(plain.steps.some((s) => s.kind === 'create-wal-gen')).toBe(false);
    // An existing cluster's real pg_wal: moved while its server is stopped, refused (exit 3) while it runs.
    expect(planWith('/var/lib/lychd-wal/a', { walNow: { pgWal: 'dir', running: false } }).steps.find((s) => s.kind === 'create-wal-gen')).toMatchObject({ move: true });
    const running = thrown(() => planWith('/var/lib/lychd-wal/a', { walNow: { pgWal: 'dir', running: true } }));
    expect(exitCodeFor(running)).toBe(ExitCode.refused);
    expect(running.message).toMatch(/PostgreSQL is running on it; nothing was changed/);
    expect(plain.config.postgres && 'walDir' in plain.config.postgres).toBe(false);
  });
});

describe('snapshot modes with an outside WAL', () => {
  const pg: PostgresConfig = {
    dir: 'postgres',
    osUser: 'postgres',
    uid: 100,
    gid: 100,
    connection: { host: '/run/postgresql', port: 5432, user: 'postgres', database: 'postgres' },
    bin: null,
    service: { kind: 'pg_ctl' },
    walDir: '/var/lib/lychd-wal/a',
  };
  it('bracket (the default) and cold stay; checkpoint, instant and none are refused with the reason (exit 2)', () => {
    expect(decideMode(undefined, 'up', pg)).toBe('bracket');
    expect(decideMode('bracket', 'up', pg)).toBe('bracket');
    expect(decideMode(undefined, 'down', pg)).toBe('cold');
    for (const m of ['checkpoint', 'instant', 'none'] as const) {
      const e = thrown(() => decideMode(m, 'up', pg));
      expect(exitCodeFor(e)).toBe(ExitCode.usage);
      expect(e.message).toMatch(`--mode ${m} cannot work with postgres.walDir: the snapshot would hold data without the WAL of the same instant`);
    }
    expect(decideMode('checkpoint', 'up', { ...pg, walDir: null })).toBe('checkpoint');
  });
});

describe('rollback steps with an outside WAL', () => {
  it('the confirmation and --dry-run name the fill, the keep of the replaced WAL and the removal of its generation, in order', async () => {
    const { describeRollbackSteps } = await import('../../src/runtime/rollback/steps.js');
    const f = { ...facts(), walPlacement: placement() };
    const config = resolveConfig(answersSchema.parse({ ...base, postgres: { walDir: '/var/lib/lychd-wal/a' } }), f);
    const p = { target: 'T', preRollbackName: 'P-pre-rollback', staging: `${CRYPT}/.staging-x`, active: `${CRYPT}/active`, dbRunning: true };
    const steps = describeRollbackSteps(config, p);
    const at = (re: RegExp) => steps.findIndex((s) => re.test(s));
    expect(at(/fill a fresh WAL generation \/var\/lib\/lychd-wal\/a\/gen-/)).toBeGreaterThan(at(/remove postmaster\.pid/));
    expect(at(/fill a fresh WAL generation/)).toBeLessThan(at(/RENAME_EXCHANGE/));
    expect(at(/keep the WAL the replaced state needs/)).toBeGreaterThan(at(/RENAME_EXCHANGE/));
    expect(at(/remove the replaced state's WAL generation/)).toBeGreaterThan(at(/keep the WAL the replaced state needs/));
    const plain = describeRollbackSteps(resolveConfig(answersSchema.parse(base), facts()), p);
    expect(plain.some((s) => /WAL generation/.test(s))).toBe(false);
  });
});

describe("a stopped cluster's WAL start", () => {
  it("from pg_controldata's words, and from pg_control's own bytes (11+ and 10 layouts)", async () => {
    const { parseControlWal, parseControlWalFile } = await import('../../src/base/pg/controldata.js');
    const text = [
      'Database system identifier:           7441000000000000001',
      "Latest checkpoint's REDO location:    0/3000028",
      "Latest checkpoint's TimeLineID:       2",
      'Bytes per WAL segment:                16777216',
    ].join('\n');
    expect(parseControlWal(text)).toEqual({ redoLsn: '0/3000028', timeline: 2, systemIdentifier: '7441000000000000001', segSize: 16777216 });
    expect(parseControlWal('garbage')).toBeNull();
    const file = (version: number, at: number) => {
      const b = Buffer.alloc(8192);
      b.writeBigUInt64LE(7441000000000000001n, 0);
      b.writeUInt32LE(version, 8);
      b.writeBigUInt64LE(0x1_0300_0028n, at);
      b.writeUInt32LE(3, at + 8);
      return b;
    };
    expect(parseControlWalFile(file(1800, 40))).toEqual({ redoLsn: '1/3000028', timeline: 3, systemIdentifier: '7441000000000000001', segSize: null });
    expect(parseControlWalFile(file(1002, 48))?.redoLsn).toBe('1/3000028');
  });
});

describe('the snapshot summary with an outside WAL', () => {
  it('says how much WAL came in and that a restore ends at the stop LSN', async () => {
    const { summarizeSnapshot } = await import('../../src/cli/commands/snapshot.js');
    const wal = { placement: 'outside' as const, restorePoint: '0/3000100', timeline: 1, segments: { first: '000000010000000000000003', last: '000000010000000000000003', count: 1 }, histories: [], bytes: 16 * 2 ** 20, copyMs: 80, held: 'slot' as const, label: 'own' as const };
    const meta = { format: 1 as const, name: 'n', label: null, createdAt: '2026-12-07T00:00:00.000Z', mode: 'bracket' as const, origin: { kind: 'snapshot' as const }, postgres: { versionNum: 150014, systemIdentifier: '1', startLsn: '0/3000028', stopLsn: '0/3000100', labelfile: 'x', wal }, btrfs: null, timings: { total: 5 }, toolVersion: '0' };
    expect(summarizeSnapshot(meta)).toMatch(/WAL copied in: 1 segment\(s\), 16 MiB; restore point: the backup's stop LSN 0\/3000100$/);
    expect(summarizeSnapshot({ ...meta, postgres: { ...meta.postgres, wal: null } })).not.toMatch(/WAL copied/);
  });
});

describe('deinit with an outside WAL', () => {
  it('says the live WAL directory stays (kept with the data, or to remove by hand with --delete-data)', async () => {
    const { keptData } = await import('../../src/care/deinit.js');
    const f = { ...facts(), walPlacement: placement() };
    const config = resolveConfig(answersSchema.parse({ ...base, postgres: { walDir: '/var/lib/lychd-wal/a' } }), f);
    expect(keptData(config, false)).toMatch(/stay; the live WAL in \/var\/lib\/lychd-wal\/a stays too \(active\/'s pg_wal links there: keep the two together\)$/);
    expect(keptData(config, true)).toMatch(/^the live WAL in \/var\/lib\/lychd-wal\/a stays too \(active\/'s pg_wal links there: remove it by hand\)$/);
    expect(keptData(resolveConfig(answersSchema.parse(base), facts()), true)).toBeNull();
  });
});
