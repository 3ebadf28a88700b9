// Output that can be trusted: one --json envelope for every outcome (usage errors included), follow-up
// commands that paste as they are, progress that never touches stdout, colour only where it belongs, and
// the metadata rebuilt for a snapshot that lost its file.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/program.js';
import { failureEnvelope, successEnvelope } from '../../src/cli/envelope.js';
import { RefusedError, UsageError } from '../../src/base/errors.js';
import { ReadOnlyFsError } from '../../src/base/expected-errors.js';
import { commandWord, hint, pasteable } from '../../src/base/output/hint.js';
import { escapeControls, escapeValue, hasControlChars, jsonText, ownSequence, shellWord, toTerminal } from '../../src/base/output/text.js';
import { labelFromName, parseControl, rebuiltMeta } from '../../src/runtime/snapshots/rebuild.js';
import { activityReporter } from '../../src/cli/ui/activity.js';
import { colourOn, paint } from '../../src/base/output/style.js';

const sink = () => {
  const chunks: string[] = [];
  return { stream: new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) }), text: () => chunks.join('') };
};
async function run(argv: string[]) {
  const out = sink();
  const err = sink();
  const code = await main(argv, { stdout: out.stream, stderr: err.stream, stdinIsTTY: false, env: { LYCHD_CRYPT_REGISTRY: '/nonexistent-registry', PATH: '/nowhere' } });
  return { code, stdout: out.text(), stderr: err.text() };
}

describe('the --json envelope', () => {
  it('a result: version, command, ok (exit 0), data, error null', () => {
    expect(successEnvelope('list', { snapshots: [] }, 0)).toEqual({ version: 1, command: 'list', ok: true, exit: 0, data: { snapshots: [] }, error: null });
    // A finding (doctor's problems) is data with its exit code, not an error.
    expect(successEnvelope('doctor', { checks: [] }, 1)).toMatchObject({ ok: false, exit: 1, data: { checks: [] }, error: null });
  });

  it('a failure: data null, error with a stable code, the exit code, message and hint', () => {
    expect(failureEnvelope('snapshot', new ReadOnlyFsError('the crypt is read-only', { hint: 'Run repair.' }))).toEqual({
      version: 1,
      command: 'snapshot',
      ok: false,
      exit: 1,
      data: null,
      error: { code: 'read-only', class: 'ReadOnlyFsError', exit: 1, message: 'the crypt is read-only', hint: 'Run repair.' },
    });
    expect(failureEnvelope('delete', new UsageError('no such snapshot')).error).toMatchObject({ code: 'usage', exit: 2, hint: null });
    expect(failureEnvelope('repair', new RefusedError('no')).error).toMatchObject({ code: 'refused', exit: 3 });
    expect(failureEnvelope(null, new Error('boom')).error).toMatchObject({ code: 'failed', class: 'Error', exit: 1 });
  });

  it('commander usage errors go through the envelope: `--json delete` without a name', async () => {
    const r = await run(['--json', 'delete']);
    expect(r.code).toBe(2);
    const env = JSON.parse(r.stdout);
    expect(env).toMatchObject({ version: 1, command: 'delete', ok: false, exit: 2, data: null, error: { code: 'usage', exit: 2 } });
    expect(env.error.message).toMatch(/missing required argument/);
    expect(env.error.hint).toMatch(/lychd-crypt delete --help/);
    expect(r.stderr).not.toMatch(/Usage:/); // one line, not a screen of help
    const unknown = await run(['--json', 'list', '--bogus']);
    expect(JSON.parse(unknown.stdout).error).toMatchObject({ code: 'usage', message: expect.stringMatching(/unknown option '--bogus'/) });
    const nocommand = await run(['--json', 'nosuch']);
    expect(nocommand.code).toBe(2);
    expect(JSON.parse(nocommand.stdout)).toMatchObject({ command: null, ok: false, error: { code: 'usage' } });
    // Without --json the help still follows the message.
    expect((await run(['delete'])).stderr).toMatch(/Usage:/);
  });

  it('a runtime failure of a command is the same envelope', async () => {
    const r = await run(['--json', 'list']);
    expect(r.code).not.toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ version: 1, command: 'list', ok: false, data: null, error: { message: expect.any(String) } });
  });
});

describe('pasteable follow-up commands', () => {
  const never = () => false;
  it('the bare name when PATH finds it, else the installed full path', () => {
    const exe = (f: string) => f === '/usr/local/bin/lychd-crypt';
    expect(commandWord({ pathEnv: '/usr/bin:/usr/local/bin', installed: '/usr/local/bin/lychd-crypt' }, exe)).toBe('lychd-crypt');
    expect(commandWord({ pathEnv: '/usr/bin:/bin', installed: '/usr/local/bin/lychd-crypt' }, exe)).toBe('/usr/local/bin/lychd-crypt');
    expect(commandWord({ pathEnv: '/usr/bin', installed: '/opt/x/lychd-crypt' }, never)).toBe('lychd-crypt');
  });

  it('carries --crypt (and --registry, --user) as given, quoted for a shell; the name when several are registered', () => {
    expect(hint({ crypt: '/srv/my crypt', pathEnv: '' }, 'rollback', 'X')).toBe("lychd-crypt --crypt '/srv/my crypt' rollback X");
    expect(hint({ cryptName: 'lychd', several: true, pathEnv: '' }, 'list')).toBe('lychd-crypt --crypt lychd list');
    expect(hint({ cryptName: 'lychd', several: false, pathEnv: '' }, 'list')).toBe('lychd-crypt list');
    expect(hint({ registry: '/tmp/reg', crypt: 'a', pathEnv: '' }, 'doctor')).toBe('lychd-crypt --registry /tmp/reg --crypt a doctor');
    expect(shellWord("it's")).toBe(`'it'\\''s'`);
  });

  it('rewrites every `lychd-crypt SUBCOMMAND` in a message, and only those', () => {
    const f = { crypt: 'db1', pathEnv: '' };
    expect(pasteable('undo with: lychd-crypt rollback 20261130T010203Z-pre-rollback', f)).toBe('undo with: lychd-crypt --crypt db1 rollback 20261130T010203Z-pre-rollback');
    expect(pasteable('Run `lychd-crypt repair`, then `lychd-crypt doctor`.', f)).toBe('Run `lychd-crypt --crypt db1 repair`, then `lychd-crypt --crypt db1 doctor`.');
    // Already there: not doubled. Not a command: untouched.
    expect(pasteable('next: lychd-crypt doctor --crypt /srv/c', f)).toBe('next: lychd-crypt doctor --crypt /srv/c');
    expect(pasteable('lychd-crypt: no crypt at /x; see lychd-crypt.service', f)).toBe('lychd-crypt: no crypt at /x; see lychd-crypt.service');
    expect(pasteable('run lychd-crypt repair', { pathEnv: '/usr/bin', installed: '/opt/bin/lychd-crypt' })).toBe('run lychd-crypt repair');
  });
});

describe('progress and colour', () => {
  it('off a terminal: one plain line per activity, at its start (waits) or with its outcome (steps); nothing when quiet', () => {
    const out = sink();
    const start = activityReporter(out.stream, { tty: false, quiet: false, delayMs: 0 });
    const a = start('waiting for the lock');
    a.update('still waiting');
    a.done();
    // A wait shorter than the delay leaves no trace.
    activityReporter(out.stream, { tty: false, quiet: false })('CHECKPOINT').done('12 ms');
    start('[1/2] create snapshots/', { line: 'end' }).done('done');
    start('[2/2] chown', { line: 'end' }).fail('EPERM');
    expect(out.text()).toBe('waiting for the lock …\n[1/2] create snapshots/: done\nFAILED: [2/2] chown: EPERM\n');
    const q = sink();
    activityReporter(q.stream, { tty: false, quiet: true })('x').done('y');
    expect(q.text()).toBe('');
  });

  it('on a terminal: a spinner line replaced by the outcome', () => {
    const out = sink();
    const a = activityReporter(out.stream, { tty: true, quiet: false, env: { NO_COLOR: '1' } })('[1/1] create snapshots/', { line: 'end' });
    a.done('done');
    expect(toTerminal(out.text())).toMatch(/^\r\x1b\[2K⠋ \[1\/1\] create snapshots\/\r\x1b\[2K✓ \[1\/1\] create snapshots\/: done\n$/);
  });

  it('colour: a terminal only, never with NO_COLOR, always with FORCE_COLOR', () => {
    expect(colourOn(true, {})).toBe(true);
    expect(colourOn(false, {})).toBe(false);
    expect(colourOn(true, { NO_COLOR: '1' })).toBe(false);
    expect(colourOn(false, { FORCE_COLOR: '1' })).toBe(true);
    expect(colourOn(true, { FORCE_COLOR: '0' })).toBe(false);
    expect(colourOn(true, { TERM: 'dumb' })).toBe(false);
    expect(paint('red', 'x', {}, false)).toBe('x');
    expect(toTerminal(paint('red', 'x', {}, true))).toBe('\x1b[31mx\x1b[39m');
  });

  it('our colour survives the output sink; any escape sequence in data does not, not even a colour', () => {
    // Data is styled after it is escaped: the painted text keeps its colour, the data's own sequences show as text.
    expect(toTerminal(paint('red', 'BAD \x1b[31mred\x1b[8mhidden\x1b[2J', {}, true))).toBe('\x1b[31mBAD \\x1b[31mred\\x1b[8mhidden\\x1b[2J\x1b[39m');
    expect(toTerminal('\x1b[31m')).toBe('\\x1b[31m');
    expect(toTerminal(`${ownSequence('\r')}${ownSequence('[2K')}x\r`)).toBe('\r\x1b[2Kx\\x0d');
    // A mark needs this process's key: one made up (or left by another process) is escaped like any ESC.
    const mark = ownSequence('[1m');
    expect(toTerminal(`\x1b${'0'.repeat(mark.length - 5)}[1m`)).toMatch(/^\\x1b0+\[1m$/);
    // Lines and tabs stay; everything else unsafe is shown.
    expect(toTerminal('a\tb\nc\u0007\u009b\u202e\u2066\x7f')).toBe('a\tb\nc\\x07\\x9b\\u202e\\u2066\\x7f');
    expect(escapeControls('a\nb\u0085')).toBe('a\nb\\x85');
    expect(escapeValue('a\nb\tc')).toBe('a\\x0ab\\x09c');
  });

  it('JSON text: no raw control character, and the same value back (C0, DEL, C1, bidi, separators, lone surrogates)', () => {
    const value = { s: 'a\u0000\u001b]0;t\u0007\x7f\u0085\u009b\u061c\u200e\u200f\u202a\u202e\u2066\u2069\u2028\u2029\ud800 é ✓', n: [1, null] };
    for (const indent of [undefined, 2]) {
      const text = jsonText(value, indent);
      expect(hasControlChars(text.replace(/\n/g, ''))).toBe(false);
      expect(text).toContain('\\u202e');
      expect(text).toContain('\\u0085');
      expect(text).toContain('é ✓');
      expect(JSON.parse(text)).toEqual(value);
    }
  });
});

describe('rebuilt snapshot metadata', () => {
  const control = `pg_control version number:            1300
Database system identifier:           7441234567890123456
Database cluster state:               in production
Latest checkpoint location:           0/3000060
Latest checkpoint's REDO location:    0/3000028
Latest checkpoint's TimeLineID:       1
`;
  it('parses pg_controldata: identifier, state, checkpoint, timeline', () => {
    expect(parseControl(control, 15)).toEqual({ systemIdentifier: '7441234567890123456', clusterState: 'in production', checkpointLsn: '0/3000060', timeline: 1, major: 15 });
    expect(parseControl('', null)).toEqual({ systemIdentifier: null, clusterState: null, checkpointLsn: null, timeline: null, major: null });
  });

  it('the label from the name; the mode from the cluster state; the time from the subvolume', () => {
    expect(labelFromName('20261130T010203Z-pre-upgrade')).toBe('pre-upgrade');
    expect(labelFromName('20261130T010203Z')).toBeNull();
    expect(labelFromName('20261130T010203Z-2')).toBeNull();
    expect(labelFromName('handmade')).toBe('handmade');
    const sub = { uuid: 'u-1', generation: 42, otime: Date.UTC(2026, 10, 30, 1, 2, 3) / 1000 };
    const now = new Date('2026-11-30T02:00:00Z');
    const m = rebuiltMeta('20261130T010203Z-x', sub, parseControl(control, 15), now);
    expect(m).toMatchObject({
      format: 1,
      name: '20261130T010203Z-x',
      label: 'x',
      createdAt: '2026-11-30T01:02:03.000Z',
      mode: 'checkpoint',
      origin: { kind: 'snapshot' },
      postgres: { systemIdentifier: '7441234567890123456', major: 15, clusterState: 'in production', startLsn: null, labelfile: null },
      btrfs: { uuid: 'u-1', generation: 42 },
      rebuilt: { at: '2026-11-30T02:00:00.000Z', checkpointLsn: '0/3000060', timeline: 1 },
    });
    expect(rebuiltMeta('n', sub, parseControl(control.replace('in production', 'shut down'), 15), now).mode).toBe('cold');
    expect(rebuiltMeta('n', sub, null, now)).toMatchObject({ mode: 'none', postgres: null });
  });
});

describe('verify finds pg_amcheck', async () => {
  const { amcheckDirs, findAmcheck, noAmcheckDetail } = await import('../../src/runtime/verify/amcheck-path.js');
  it('beside the configured bin, beside the real pg_ctl, then Debian\'s directory of the major', () => {
    expect(amcheckDirs('/usr/bin', '/usr/lib/postgresql/15/bin', 15)).toEqual(['/usr/bin', '/usr/lib/postgresql/15/bin']);
    expect(amcheckDirs('/opt/pg/bin', '/opt/pg/bin', 16)).toEqual(['/opt/pg/bin', '/usr/lib/postgresql/16/bin']);
  });
  it('none: says where it looked and exactly which setting to change', async () => {
    const r = await findAmcheck('/nonexistent/bin', 17, async () => false);
    expect(r.path).toBeNull();
    const detail = noAmcheckDetail(r.looked, 17);
    expect(detail).toMatch(/no pg_amcheck in \/nonexistent\/bin, \/usr\/lib\/postgresql\/17\/bin/);
    expect(detail).toMatch(/set postgres\.bin in the answers file/);
    expect((await findAmcheck('/nonexistent/bin', 17, async (p) => p === '/usr/lib/postgresql/17/bin/pg_amcheck')).path).toBe('/usr/lib/postgresql/17/bin/pg_amcheck');
  });
});

describe('list and dates', async () => {
  const { table } = await import('../../src/cli/commands/list.js');
  const { formatTime } = await import('../../src/base/output/time.js');
  it('one date format: UTC to the second, the zone stated', () => {
    expect(formatTime('2026-11-30T01:02:03.456Z')).toBe('2026-11-30 01:02:03Z');
    expect(formatTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)))).toBe('2026-01-02 03:04:05Z');
    expect(formatTime('not a time')).toBe('not a time');
  });
  it('fits the terminal: only the label is cut, with …; a pipe cuts nothing', () => {
    const rows = [
      ['NAME', 'MODE', 'LABEL'],
      ['20261130T010203Z-a', 'bracket', 'a rather long label that will not fit'],
    ];
    const fitted = table(rows, 40).split('\n');
    expect(fitted.every((l) => l.length <= 39)).toBe(true);
    expect(fitted[1]).toMatch(/^20261130T010203Z-a {2}bracket {2}a rath.*…$/);
    expect(table(rows).split('\n')[1]).toMatch(/will not fit$/);
  });
});

describe('pasteable: only commands, not prose', () => {
  const f = { crypt: '/srv/c', pathEnv: '', installed: '/opt/bin/lychd-crypt' };
  it('leaves headings and prose alone; init and crypts get no --crypt', () => {
    expect(pasteable('lychd-crypt doctor: /srv/c', f)).toBe('lychd-crypt doctor: /srv/c');
    expect(pasteable('fix: lychd-crypt repair will mount it', f)).toBe('fix: lychd-crypt repair will mount it');
    expect(pasteable('Run `lychd-crypt init`, or `lychd-crypt crypts`', f)).toBe('Run `lychd-crypt init`, or `lychd-crypt crypts`');
    expect(pasteable('1 problem(s) remain (see lychd-crypt doctor): x', f)).toBe('1 problem(s) remain (see lychd-crypt --crypt /srv/c doctor): x');
    expect(pasteable('(undo with: lychd-crypt rollback A)', f)).toBe('(undo with: lychd-crypt --crypt /srv/c rollback A)');
  });
});

describe('the lock holder note', async () => {
  const { describeHolder, parseLockNote } = await import('../../src/base/crypt/lock.js');
  it('names the operation, PID and since when; anything else is "another lychd-crypt operation"', () => {
    const n = parseLockNote('{"pid":12,"operation":"rollback","since":"2026-11-30T01:02:03.000Z"}');
    expect(describeHolder(n)).toBe('rollback (PID 12, since 2026-11-30 01:02:03Z)');
    expect(describeHolder(parseLockNote(''))).toBe('another lychd-crypt operation');
    expect(describeHolder(parseLockNote('{"pid":"x"}'))).toBe('another lychd-crypt operation');
    // Only shown, never trusted: an odd operation name is not echoed.
    expect(describeHolder(parseLockNote('{"pid":1,"operation":"\\u001b[2J","since":"x"}'))).toBe('an operation (PID 1, since x)');
  });
});
