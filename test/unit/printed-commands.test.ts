// Every printed command works when pasted as the same user (issue 24): the registry in effect is written
// as an option whenever it is not the default (sudo, cron and units drop LYCHD_CRYPT_REGISTRY), a `sudo`
// line names the crypt and carries the registry as an option, the full path when the install directory is
// not on PATH — one builder (src/base/output/hint.ts). And an unknown command gets its suggestion and one
// line of usage, not the whole help.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/program.js';
import { commandArgv, hint, pasteable, retyped, rootHint, SUBCOMMAND_NAMES } from '../../src/base/output/hint.js';
import { checkAccess } from '../../src/base/crypt/access.js';
import { COMMAND_NAMES } from '../../src/cli/command-names.js';
import { RefusedError } from '../../src/base/errors.js';
import type { Config } from '../../src/model/config.js';
import { scheduleSteps } from '../../src/install/plan/schedule.js';
import { renderScheduleUnits } from '../../src/install/render/schedule-units.js';

const sink = () => {
  const chunks: string[] = [];
  return { stream: new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) }), text: () => chunks.join('') };
};
async function run(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const out = sink();
  const err = sink();
  const code = await main(argv, { stdout: out.stream, stderr: err.stream, stdinIsTTY: false, env: { LYCHD_CRYPT_REGISTRY: '/nonexistent-registry', PATH: '/nowhere', ...env } });
  return { code, stdout: out.text(), stderr: err.text() };
}

describe('the one builder of printed commands', () => {
  it('knows every command of the CLI', () => {
    expect([...SUBCOMMAND_NAMES].sort()).toEqual([...COMMAND_NAMES].sort());
  });

  it('a registry that is not the default is an option everywhere; init and crypts get no --crypt', () => {
    const f = { registry: '/srv/reg', cryptName: 'lychd', several: true, pathEnv: '' };
    expect(hint(f, 'doctor')).toBe('lychd-crypt --registry /srv/reg --crypt lychd doctor');
    expect(hint(f, 'crypts')).toBe('lychd-crypt --registry /srv/reg crypts');
    expect(pasteable('Run `lychd-crypt init`', f)).toBe('Run `lychd-crypt --registry /srv/reg init`');
  });

  it('sudo lines: the crypt by name and the registry as options (sudo keeps no LYCHD_* variable)', () => {
    const f = { registry: '/srv/reg', cryptName: 'lychd', several: false, pathEnv: '' };
    expect(rootHint(f, 'repair')).toBe('sudo lychd-crypt --registry /srv/reg --crypt lychd repair');
    expect(pasteable('Run: sudo lychd-crypt snapshot --label x', f)).toBe('Run: sudo lychd-crypt --registry /srv/reg --crypt lychd snapshot --label x');
    // Without sudo the only crypt needs no --crypt.
    expect(pasteable('Run `lychd-crypt snapshot`', f)).toBe('Run `lychd-crypt --registry /srv/reg snapshot`');
  });

  it('cron and units: the installed full path and every option, unquoted for the caller to quote', () => {
    expect(commandArgv({ installed: '/opt/bin/lychd-crypt', registry: '/srv/reg', crypt: '/srv/c' }, 'snapshot', '--scheduled')).toEqual([
      '/opt/bin/lychd-crypt', '--registry', '/srv/reg', '--crypt', '/srv/c', 'snapshot', '--scheduled',
    ]);
  });

  it('a command line printed again: the subcommand first, the selecting options left to the builder', () => {
    expect(retyped(['--crypt', 'x', '--registry=/r', '--json', 'snapshot', '--label', 'a b'])).toEqual(['snapshot', '--json', '--label', 'a b']);
    expect(retyped(['--wait', '5', 'run', '--', 'sh', '-c', '--crypt'])).toEqual(['run', '--wait', '5', '--', 'sh', '-c', '--crypt']);
  });

  it('a system crypt refuses a user with the sudo line that works: registry and crypt from the builder', () => {
    const config = { crypt: { name: 'db1', uid: 0, gid: 0, user: 'root', home: '/root', path: '/srv/db1' }, profile: 'system', postgres: { osUser: 'postgres' } } as unknown as Config;
    let err: RefusedError | undefined;
    try {
      checkAccess(config, 1000, 'snapshot', ['--crypt', 'db1', 'snapshot', '--label', 'before']);
    } catch (e) {
      err = e as RefusedError;
    }
    expect(pasteable(err!.hint!, { registry: '/srv/reg', cryptName: 'db1', crypt: 'db1', pathEnv: '' })).toBe(
      'Run: sudo lychd-crypt --registry /srv/reg --crypt db1 snapshot --label before',
    );
  });

  it('a registry from LYCHD_CRYPT_REGISTRY is written out in hints too', async () => {
    // commander reads the variable from the process's environment.
    const saved = process.env.LYCHD_CRYPT_REGISTRY;
    process.env.LYCHD_CRYPT_REGISTRY = '/tmp/lychd-no-such-registry';
    const r = await run(['list'], { LYCHD_CRYPT_REGISTRY: '/tmp/lychd-no-such-registry' }).finally(() => (process.env.LYCHD_CRYPT_REGISTRY = saved));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('`lychd-crypt --registry /tmp/lychd-no-such-registry init`');
  });
});

describe('scheduled runs name a registry that is not the default', () => {
  const config = (dir: string) =>
    ({
      crypt: { path: '/srv/lychd', name: 'lychd', user: 'alice', uid: 1000, gid: 1000, home: '/home/alice' },
      profile: 'system',
      registry: { dir, state: '/var/lib/lychd-crypt' },
      persist: { unitDir: '/etc/systemd/system' },
      install: { binDir: '/opt/lychd/bin' },
      schedule: { calendar: 'hourly', verify: 'daily', prometheus: null },
    }) as unknown as Config;

  it('the cron lines printed without systemd: full path, --registry and --crypt', () => {
    const notes: string[] = [];
    scheduleSteps({ systemdRunning: false, scheduleUnits: [], userScheduleUnits: [] }, config('/srv/reg'), notes);
    expect(notes[0]).toContain('0 * * * * root /opt/lychd/bin/lychd-crypt --registry /srv/reg --crypt /srv/lychd --wait 600 snapshot --scheduled');
    expect(notes[0]).toContain('0 0 * * * root /opt/lychd/bin/lychd-crypt --registry /srv/reg --crypt /srv/lychd --wait 600 verify --newest');
    const plain: string[] = [];
    scheduleSteps({ systemdRunning: false, scheduleUnits: [], userScheduleUnits: [] }, config('/etc/lychd-crypt'), plain);
    expect(plain[0]).not.toContain('--registry');
  });

  it('the units: ExecStart passes --registry', () => {
    const units = renderScheduleUnits({ cryptPath: '/srv/lychd', schedule: { calendar: 'hourly', verify: false, prometheus: null } as never, bin: '/opt/lychd/bin/lychd-crypt', registry: '/srv/reg', stateDirs: [], prometheus: null });
    expect(units.find((u) => u.name.endsWith('.service'))!.content).toMatch(/^ExecStart="\/opt\/lychd\/bin\/lychd-crypt" --crypt "\/srv\/lychd" --registry "\/srv\/reg" --wait 600 snapshot --scheduled$/m);
  });
});

describe('usage errors', () => {
  it('an unknown command: the suggestion and one line of usage, not the whole help', async () => {
    const r = await run(['lis']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("unknown command 'lis'");
    expect(r.stderr).toContain('Did you mean list?');
    expect(r.stderr).toMatch(/^Usage: lychd-crypt \[options\] <command>/m);
    expect(r.stderr).not.toContain('Commands:');
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(4);
  });

  it('db takes start, stop, restart or status; anything else is a usage error naming them', async () => {
    const r = await run(['db', 'reboot']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Allowed choices are start, stop, restart, status/);
  });
});
