// renderAnswersYaml (the --write-answers serializer): exact output, and every rendering re-validates
// through parseAnswers to the same answers — including values that look like YAML traps.
import { mkdtempSync, readFileSync, statSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { answersSchema, type AnswersInput } from '../../src/install/answers/schema.js';
import type { Config } from '../../src/model/config.js';
import { parseAnswers } from '../../src/install/answers/load.js';
import { answersFromConfig, renderAnswersYaml, writeAnswersFile } from '../../src/install/answers/write.js';

const config: Config = {
  version: 1,
  crypt: { name: 'alice', path: '/srv/lychd', user: 'alice', uid: 1000, gid: 1000, home: '/home/alice' },
  profile: 'system',
  registry: { dir: '/etc/lychd-crypt', state: '/var/lib/lychd-crypt' },
  method: 'loopback',
  loopback: { image: '/var/lib/lychd/crypt.img', sizeBytes: 20 * 2 ** 30 },
  partition: null,
  filesystem: { label: 'lychd', mountOptions: ['noatime', 'compress=zstd:1'] },
  persist: { via: 'fstab', fstab: '/etc/fstab', unitDir: '/etc/systemd/system' },
  install: { binDir: '/usr/local/bin' },
  postgres: {
    dir: 'postgres',
    osUser: 'postgres',
    uid: 101,
    gid: 104,
    connection: { host: '/var/run/postgresql', port: 5432, user: 'postgres', database: 'postgres' },
    bin: null,
    service: { kind: 'pg_ctl' },
  },
};

describe('renderAnswersYaml', () => {
  it('renders the answers of a loopback config exactly', () => {
    expect(renderAnswersYaml(answersFromConfig(config))).toBe(
      [
        '# lychd-crypt answers file: replay with `lychd-crypt init --answers FILE --yes`',
        'version: 1',
        'crypt:',
        '  path: /srv/lychd',
        '  user: alice',
        '  name: alice',
        '  profile: system',
        // Everything the run used, the registry too (issue 24): a replay finds the same crypt.
        'registry:',
        '  dir: /etc/lychd-crypt',
        '  state: /var/lib/lychd-crypt',
        'method: loopback',
        'loopback:',
        '  image: /var/lib/lychd/crypt.img',
        '  size: 20G',
        'filesystem:',
        '  label: lychd',
        '  mountOptions:',
        '    - noatime',
        '    - compress=zstd:1',
        'persist:',
        '  via: fstab',
        '  fstab: /etc/fstab',
        '  unitDir: /etc/systemd/system',
        'install:',
        '  binDir: /usr/local/bin',
        'postgres:',
        '  dir: postgres',
        '  osUser: postgres',
        '  connection:',
        '    host: /var/run/postgresql',
        '    port: 5432',
        '    user: postgres',
        '    database: postgres',
        '  service:',
        '    kind: pg_ctl',
        '',
      ].join('\n'),
    );
  });

  const shapes: Record<string, AnswersInput> = {
    minimal: { version: 1 },
    partition: { version: 1, method: 'partition', partition: { device: '/dev/disk/by-id/ata-X-part3', wipe: true }, persist: { via: 'systemd' } },
    'no database': { version: 1, method: 'native', postgres: { enabled: false } },
    'systemd user unit, numeric uid': {
      version: 1,
      crypt: { path: '/home/bob/.local/share/lychd', user: 1001 },
      postgres: { osUser: 100998, service: { kind: 'systemd', unit: 'lychd-db.service', user: true } },
    },
    'command service': { version: 1, postgres: { service: { kind: 'command', stop: ['podman', 'stop', 'db'], start: ['podman', 'start', 'db'] } } },
    // Values a careless serializer would turn into booleans, numbers or comments.
    'YAML traps': {
      version: 1,
      crypt: { path: '/srv/a: b #c', user: 'no' },
      loopback: { image: '/var/lib/lychd/yes.img', size: '512M' },
      filesystem: { label: '0755', mountOptions: ['on', 'compress=zstd:1', '-x'] },
      postgres: { dir: 'true', osUser: 'off', connection: { host: '1e3', user: 'null', database: '~' } },
    },
  };
  for (const [name, answers] of Object.entries(shapes)) {
    it(`round-trips through parseAnswers: ${name}`, () => {
      const text = renderAnswersYaml(answers);
      expect(parseAnswers(text, 'written.yaml')).toEqual(answersSchema.parse(answers));
    });
  }

  it('a config round-trips: the written answers describe the same config', () => {
    for (const c of [config, { ...config, method: 'partition', loopback: null, partition: { device: '/dev/sdz1', wipe: false, uuid: 'u' } }, { ...config, postgres: null }] as Config[]) {
      const replay = parseAnswers(renderAnswersYaml(answersFromConfig(c)), 'replay.yaml');
      expect(replay.method).toBe(c.method);
      expect(replay.crypt).toEqual({ path: c.crypt.path, user: c.crypt.user, name: c.crypt.name, profile: c.profile });
      expect(replay.registry).toEqual(c.registry);
      expect(replay.persist).toEqual(c.persist);
      expect(replay.postgres?.enabled).toBe(c.postgres !== null);
    }
  });

  it('writeAnswersFile writes mode 0600, atomically (no temp file left)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lychd-answers-'));
    try {
      const file = path.join(dir, 'answers.yaml');
      await writeAnswersFile(file, config);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(parseAnswers(readFileSync(file, 'utf8'), file).loopback).toEqual({ image: '/var/lib/lychd/crypt.img', size: '20G' });
      const { readdirSync } = await import('node:fs');
      expect(readdirSync(dir)).toEqual(['answers.yaml']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('renderAnswersYaml quoting', () => {
  it('quotes words YAML 1.1 reads as booleans, and text that looks like a number', () => {
    const text = renderAnswersYaml({ version: 1, crypt: { user: 'no' }, filesystem: { label: '0755', mountOptions: ['on', 'noatime'] }, postgres: { osUser: 'off' } });
    expect(text).toContain('user: "no"');
    expect(text).toContain('label: "0755"');
    expect(text).toContain('- "on"\n    - noatime');
    expect(text).toContain('osUser: "off"');
  });
});
