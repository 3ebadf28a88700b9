// PostgreSQL in the owner's rootless Podman container, the pure parts: user-namespace id arithmetic (checked
// against what podman 4.3 reported for keep-id), `podman inspect` parsed (test/fixtures/podman: a real
// keep-id container's, paths made neutral), where a container's PGDATA is, init's decisions for
// postgres.container, the service argv, pg_control's head, the helper's line protocol, and its table.
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { containerToHost, keepIdMap, parseMap, parsePodmanMap, parseSubIds, rootlessMap, toInner, toOuter } from '../../src/base/userns/ids.js';
import { parseInspect, pgdataInside, pgdataOnHost, numericUser, type ContainerFacts } from '../../src/base/container/podman.js';
import { containerIdsOf, containerMaps, describeMapping, hostIdsOf, mapArgs } from '../../src/base/container/mapping.js';
import { parseControlHead } from '../../src/base/pg/controldata.js';
import { readPasswordFile } from '../../src/base/pg/connect.js';
import { nsOp, serveNsOps, usernsArgv } from '../../src/base/userns/helper.js';
import { NS_OPS } from '../../src/cli/frame/ns-ops.js';
import { RefusedError, UsageError, exitCodeFor } from '../../src/base/errors.js';
import { answersSchema, type AnswersInput } from '../../src/install/answers/schema.js';
import { resolveConfig } from '../../src/install/resolve.js';
import { planInit } from '../../src/install/plan/index.js';
import { serviceArgv } from '../../src/runtime/service/argv.js';
import type { HostFacts } from '../../src/install/detect/facts.js';
import { containersOnCrypt } from '../../src/install/detect/container.js';

const REPO = path.resolve(import.meta.dirname, '../..');
const inspected = (): ContainerFacts => parseInspect(JSON.parse(readFileSync(path.join(REPO, 'test/fixtures/podman/inspect-keep-id.json'), 'utf8'))[0]);
const OWNER = { uid: 1000, gid: 1000, subuids: [{ start: 100000, count: 65536 }], subgids: [{ start: 100000, count: 65536 }] };

describe('user-namespace ids', () => {
  it('subordinate ranges, maps, and the owner\'s rootless namespace', () => {
    expect(parseSubIds('bob:300000:65536\nalice:100000:65536\n1000:200000:10\nalice:x:1\n', 'alice', 1000)).toEqual([
      { start: 100000, count: 65536 },
      { start: 200000, count: 10 },
    ]);
    const map = parseMap('         0       1007          1\n         1     427680      65536\n');
    expect(map).toEqual([{ inner: 0, outer: 1007, count: 1 }, { inner: 1, outer: 427680, count: 65536 }]);
    expect(toOuter(map, 1000)).toBe(428679); // what the measured container uid 999 is on the host
    expect(toInner(map, 428679)).toBe(1000);
    expect(toOuter(map, 70000)).toBeNull();
    expect(rootlessMap(1007, [{ start: 427680, count: 65536 }])).toEqual(map);
  });

  it("keep-id's map is the one podman 4.3 reports (owner 1007, 65536 subordinate ids)", () => {
    expect(keepIdMap(1007, 65536)).toEqual(parsePodmanMap(['0:1:1007', '1007:0:1', '1008:1008:64529']));
    const ranges = [{ start: 427680, count: 65536 }];
    // The smoke test's uid_map check: container 999 → subuid start + 999; the owner stays itself.
    expect(containerToHost(999, keepIdMap(1007, 65536), 1007, ranges)).toBe(427680 + 999);
    expect(containerToHost(1007, keepIdMap(1007, 65536), 1007, ranges)).toBe(1007);
    expect(containerToHost(1008, keepIdMap(1007, 65536), 1007, ranges)).toBe(427680 + 1007);
  });

  it('the helper runs as root of a namespace mapping the owner to 0 and one subordinate range from 1', () => {
    expect(usernsArgv({ uids: { start: 100000, count: 65536 }, gids: { start: 200000, count: 65536 } }, ['node', 'x'])).toEqual([
      'unshare',
      '--map-root-user',
      '--map-users=100000,1,65536',
      '--map-groups=200000,1,65536',
      '--',
      'node',
      'x',
    ]);
  });
});

describe('podman inspect', () => {
  it('parses what the tool needs', () => {
    const c = inspected();
    expect(c).toMatchObject({
      name: 'lychd-phylactery',
      imageName: 'localhost/lychd-test-postgres:15',
      running: true,
      pid: 4242,
      user: '999:999',
      secrets: ['lychd-pg'],
      published: { host: '127.0.0.1', port: 5432 },
      networkMode: 'slirp4netns',
      unit: null,
    });
    expect(c.image).toMatch(/^[0-9a-f]{64}$/);
    expect(c.env).toMatchObject({ PGDATA: '/var/lib/postgresql/data', POSTGRES_USER: 'lich', POSTGRES_DB: 'lychd', POSTGRES_PASSWORD_FILE: '/run/secrets/lychd-pg' });
    expect(numericUser(c)).toEqual({ uid: 999, gid: 999 });
    expect(numericUser({ user: 'postgres' })).toBeNull();
  });

  it("PGDATA: the environment's, through the bind mount that holds it; a volume is not on the crypt", () => {
    const c = inspected();
    expect(pgdataInside(c)).toBe('/var/lib/postgresql/data');
    expect(pgdataOnHost(c)?.path).toBe('/srv/t/host/data/crypt/active/postgres');
    // LychD's mount at /var/lib/postgresql/data with a PGDATA below (LychD's layout: postgres/data).
    const sub = { ...c, env: { ...c.env, PGDATA: '/var/lib/postgresql/data/pgdata' } };
    expect(pgdataOnHost(sub)?.path).toBe('/srv/t/host/data/crypt/active/postgres/pgdata');
    // The official postgres:18 image: PGDATA /var/lib/postgresql/18/docker in its VOLUME /var/lib/postgresql.
    const pg18 = {
      ...c,
      env: { ...c.env, PGDATA: '/var/lib/postgresql/18/docker' },
      mounts: [{ type: 'volume', source: '/home/alice/.local/share/containers/storage/volumes/x/_data', destination: '/var/lib/postgresql', rw: true }, ...c.mounts],
    };
    expect(pgdataOnHost(pg18)).toBeNull();
    expect(containersOnCrypt([c, pg18], '/srv/t/host/data/crypt')).toEqual([
      { container: c, dir: 'postgres', pgdata: true },
      { container: pg18, dir: 'postgres', pgdata: false },
    ]);
  });

  it("maps: the container's own, else keep-id's; host ↔ container ids; --uidmap arguments", () => {
    const c = inspected();
    const own = containerMaps(c, OWNER);
    expect(own.from).toBe('podman');
    const assumed = containerMaps(null, OWNER);
    expect(assumed).toMatchObject({ from: 'keep-id', uid: own.uid, gid: own.gid });
    expect(hostIdsOf({ uid: 999, gid: 999 }, own, OWNER)).toEqual({ uid: 100999, gid: 100999 });
    expect(containerIdsOf({ uid: 100999, gid: 100999 }, own, OWNER)).toEqual({ uid: 999, gid: 999 });
    expect(containerIdsOf({ uid: 5, gid: 5 }, own, OWNER)).toBeNull();
    expect(mapArgs(own)).toEqual(['--uidmap', '0:1:1000', '--uidmap', '1000:0:1', '--uidmap', '1001:1001:64536', '--gidmap', '0:1:1000', '--gidmap', '1000:0:1', '--gidmap', '1001:1001:64536']);
    expect(describeMapping(999, 100999, own)).toBe("container uid 999 is host uid 100999 (the container's own id mapping)");
  });
});

describe('pg_control read directly (no pg_controldata of the cluster\'s major on the host)', () => {
  it('system identifier and state from the head; the state only for a known layout', () => {
    const b = Buffer.alloc(24);
    b.writeBigUInt64LE(7716413032504156175n, 0);
    b.writeUInt32LE(1800, 8); // PostgreSQL 18
    b.writeInt32LE(1, 16); // DB_SHUTDOWNED
    expect(parseControlHead(b)).toEqual({ systemIdentifier: '7716413032504156175', clusterState: 'shut down' });
    b.writeInt32LE(6, 16);
    expect(parseControlHead(b)?.clusterState).toBe('in production');
    b.writeUInt32LE(77, 8);
    expect(parseControlHead(b)?.clusterState).toBeNull();
    expect(parseControlHead(Buffer.alloc(4))).toBeNull();
  });
});

describe('postgres.service container', () => {
  it('podman stop (as long as pg_ctl would wait) and start, by name', () => {
    const pg = { dir: 'postgres', osUser: '999', uid: 100999, gid: 100999, connection: { host: '127.0.0.1', port: 5432, user: 'lich', database: 'lychd' }, bin: null, service: { kind: 'container' as const }, container: { engine: 'podman' as const, name: 'lychd-phylactery' } };
    const t = { pg, pgdata: '/c/active/postgres', binDir: '', cryptUser: 'alice', logFile: '/s/pg_ctl.log' };
    expect(serviceArgv(t, 'stop')).toEqual(['podman', 'stop', '--time', '120', '--', 'lychd-phylactery']);
    expect(serviceArgv(t, 'start')).toEqual(['podman', 'start', '--', 'lychd-phylactery']);
  });
});

describe('init with postgres.container', () => {
  const T = '/srv/t';
  const crypt = `${T}/host/data/crypt`;
  const base = (): HostFacts => {
    const f = JSON.parse(readFileSync(path.join(REPO, 'test/fixtures/init/facts-ext4-host.json'), 'utf8')) as HostFacts;
    return { ...f, user: { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice' }, postgresUser: null, podman: { containers: [inspected()], why: null, owner: OWNER }, pgdataNow: null };
  };
  const answers = (pg: Record<string, unknown>): ReturnType<typeof answersSchema.parse> =>
    answersSchema.parse({
      version: 1,
      crypt: { path: crypt, user: 'alice' },
      loopback: { image: `${T}/host/img/crypt.img`, size: '200M' },
      persist: { fstab: `${T}/etc/fstab`, unitDir: `${T}/units` },
      install: { binDir: `${T}/bin` },
      postgres: pg,
    } satisfies AnswersInput);
  const thrown = (fn: () => unknown): Error => {
    try {
      fn();
    } catch (e) {
      return e as Error;
    }
    throw new Error('expected a throw');
  };

  it('the name is enough: PGDATA, connection, password secret and ids come from the container; rootless', () => {
    const config = resolveConfig(answers({ container: { name: 'lychd-phylactery' } }), base());
    expect(config.profile).toBe('rootless');
    expect(config.postgres).toEqual({
      dir: 'postgres',
      osUser: '999',
      uid: 100999,
      gid: 100999,
      connection: { host: '127.0.0.1', port: 5432, user: 'lich', database: 'lychd', passwordSecret: 'lychd-pg' },
      bin: null,
      service: { kind: 'container' },
      container: { engine: 'podman', name: 'lychd-phylactery' },
    });
    // PGDATA is made the crypt user's, empty and nocow, for the container's first start; its postgres's ids are accepted.
    const step = planInit(base(), config).steps.find((s) => s.kind === 'create-pgdata');
    expect(step).toMatchObject({ owner: { uid: 1000, gid: 1000 }, taken: { uid: 100999, gid: 100999 }, mode: 0o700 });
    expect(step?.kind === 'create-pgdata' && step.path).toMatch(/\/active\/postgres$/);
  });

  it('a container not created yet: keep-id assumed, the answers say the rest; a Quadlet-run one: its user unit', () => {
    const none = { ...base(), podman: { ...base().podman!, containers: [] } };
    const config = resolveConfig(answers({ container: { name: 'lychd-phylactery' }, connection: { user: 'lich', passwordFile: '/home/alice/.config/lychd/pw' } }), none);
    expect(config.postgres).toMatchObject({ uid: 100999, connection: { host: '127.0.0.1', port: 5432, user: 'lich', database: 'lich', passwordFile: '/home/alice/.config/lychd/pw' }, service: { kind: 'container' } });
    expect(config.postgres!.connection.passwordSecret).toBeUndefined();
    const unit = { ...base(), podman: { ...base().podman!, containers: [{ ...inspected(), unit: 'lychd-phylactery.service' }] } };
    expect(resolveConfig(answers({ container: { name: 'lychd-phylactery' } }), unit).postgres!.service).toEqual({ kind: 'systemd', unit: 'lychd-phylactery.service', user: true });
  });

  it("refuses a container whose PGDATA is not in the crypt (official postgres:18 layout), naming where it is", () => {
    const c = inspected();
    const pg18 = { ...c, env: { ...c.env, PGDATA: '/var/lib/postgresql/18/docker' }, mounts: [{ type: 'volume', source: '/v/_data', destination: '/var/lib/postgresql', rw: true }, ...c.mounts] };
    const e = thrown(() => resolveConfig(answers({ container: { name: 'lychd-phylactery' } }), { ...base(), podman: { ...base().podman!, containers: [pg18] } }));
    expect(e).toBeInstanceOf(RefusedError);
    expect(e.message).toMatch(/does not keep its PGDATA in the crypt's active\/: PostgreSQL there uses \/var\/lib\/postgresql\/18\/docker \(its environment's PGDATA\), which no bind mount holds/);
    expect(e.message).toMatch(/active\/postgres is mounted at \/var\/lib\/postgresql\/data/);
    expect((e as RefusedError).hint).toMatch(/PGDATA=\/var\/lib\/postgresql\/data/);
  });

  it('a cluster already in PGDATA must be the container postgres\'s: another owner is refused (exit 3), the same is fine', () => {
    const taken = { ...base(), pgdataNow: { path: `${crypt}/active/postgres`, uid: 100999, gid: 100999, entries: 20, hasCluster: true } };
    expect(resolveConfig(answers({ container: { name: 'lychd-phylactery' } }), taken).postgres!.uid).toBe(100999);
    const other = { ...base(), pgdataNow: { path: `${crypt}/active/postgres`, uid: 101000, gid: 101000, entries: 20, hasCluster: true } };
    const e = thrown(() => resolveConfig(answers({ container: { name: 'lychd-phylactery' } }), other));
    expect(exitCodeFor(e)).toBe(3);
    expect(e.message).toMatch(/belongs to host 101000:101000 \(container 1001:1001\), but container uid 999 is host uid 100999/);
  });

  it('answers that cannot work are usage errors naming the key', () => {
    const cases: [Record<string, unknown>, HostFacts, RegExp][] = [
      [{ connection: { passwordSecret: 'x' } }, base(), /^postgres\.connection\.passwordSecret: a Podman secret is read from the container/],
      [{ service: { kind: 'container' } }, base(), /^postgres\.service: kind container needs postgres\.container/],
      [{ container: { name: 'lychd-phylactery' }, connection: { passwordFile: '/p', passwordSecret: 'x' } }, base(), /^postgres\.connection: passwordFile and passwordSecret/],
      [{ container: { name: 'lychd-phylactery' }, osUser: 'postgres' }, base(), /^postgres\.osUser: "postgres" is a name/],
      [{ container: { name: 'lychd-phylactery' }, service: { kind: 'pg_ctl' } }, base(), /^postgres\.service: kind pg_ctl cannot run alice's container/],
      [{ container: { name: 'lychd-phylactery' } }, { ...base(), podman: null }, /^postgres\.container: podman is not installed/],
      [{ container: { name: 'lychd-phylactery' } }, { ...base(), podman: { containers: null, why: 'mkdir /run/user/1000: permission denied', owner: OWNER } }, /enable-linger/s],
    ];
    for (const [pg, facts, re] of cases) {
      const e = thrown(() => resolveConfig(answers(pg), facts));
      expect(e, String(re)).toBeInstanceOf(UsageError);
      expect(`${e.message} ${(e as UsageError).hint ?? ''}`).toMatch(re);
    }
    expect(() => answersSchema.parse({ version: 1, postgres: { container: { engine: 'docker', name: 'x' } } })).toThrow(/engine: podman/);
    expect(() => answersSchema.parse({ version: 1, postgres: { container: { name: 'a b' } } })).toThrow(/container name/);
  });
});

describe('passwordFile', () => {
  it("the caller's own file, nobody else may read it (libpq's rule for ~/.pgpass); one trailing newline dropped", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'lychd-pw-'));
    try {
      const f = path.join(dir, 'pw');
      writeFileSync(f, 's3cret\n', { mode: 0o600 });
      expect(await readPasswordFile(f)).toBe('s3cret');
      chmodSync(f, 0o640);
      await expect(readPasswordFile(f)).rejects.toThrow(/has mode 0640: group or others may read it; no password was read/);
      await expect(readPasswordFile(path.join(dir, 'none'))).rejects.toThrow(/does not exist/);
      symlinkSync(f, path.join(dir, 'link'));
      await expect(readPasswordFile(path.join(dir, 'link'))).rejects.toThrow(/is not a regular file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the helper in the owner\'s user namespace', () => {
  it('answers each request line with its result, or the error with its kind and errno code', async () => {
    const table = new Map([
      ['twice', nsOp('twice', async (_ctx, n: number) => n * 2)],
      ['refuse', nsOp('refuse', async () => {
        throw new RefusedError('no', { hint: 'h' });
      })],
      ['full', nsOp('full', async () => {
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      })],
    ]) as unknown as Parameters<typeof serveNsOps>[0];
    const input = new PassThrough();
    const output = new PassThrough();
    const served = serveNsOps(table, input, output);
    input.end('{"id":1,"op":"twice","args":[21]}\n{"id":2,"op":"refuse","args":[]}\n{"id":3,"op":"full","args":[]}\n{"id":4,"op":"rm -rf /","args":[]}\n');
    await served;
    const replies = String(output.read()).trim().split('\n').map((l) => JSON.parse(l)).sort((a, b) => a.id - b.id);
    expect(replies).toEqual([
      { id: 1, ok: true, value: 42 },
      { id: 2, ok: false, error: { message: 'no', hint: 'h', exitCode: 3 } },
      { id: 3, ok: false, error: { message: 'ENOSPC: no space left on device', code: 'ENOSPC' } },
      { id: 4, ok: false, error: { message: 'no operation rm -rf / in the helper' } },
    ]);
  });

  it('serves exactly the operations defined in src/ (cli/frame/ns-ops.ts lists each nsOp once)', () => {
    const defined: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts')) for (const m of readFileSync(p, 'utf8').matchAll(/\bnsOp\('([a-z-]+)'/g)) defined.push(m[1]!);
      }
    };
    walk(path.join(REPO, 'src'));
    expect(new Set(defined).size).toBe(defined.length);
    expect([...NS_OPS.keys()].sort()).toEqual(defined.sort());
  });
});
